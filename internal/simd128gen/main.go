// Command simd128gen writes the engine's SIMD128 kernel module (see
// internal/simd128) to the file it is given, or to standard output
// for "-". make wasm runs it to put the module next to the engine.
package main

import (
	"fmt"
	"os"

	"github.com/shufflenet-go/shufflenet/internal/simd128"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: simd128gen FILE.wasm (or - for standard output)")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "simd128gen:", err)
		os.Exit(1)
	}
}

func write(path string) error {
	code, err := simd128.Module()
	if err != nil {
		return fmt.Errorf("write the kernels: %w", err)
	}
	if path == "-" {
		_, err = os.Stdout.Write(code)
		return err
	}
	return os.WriteFile(path, code, 0o644)
}
