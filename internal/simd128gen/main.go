// Command simd128gen writes the engine's SIMD128 kernel module (see
// internal/simd128) to the file it is given, or to standard output
// for "-"; with -fused, the module's fused build. make wasm runs it to put
// both builds next to the engine.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/shufflenet-go/shufflenet/internal/simd128"
)

func main() {
	fused := flag.Bool("fused", false, "write the build whose convs use relaxed SIMD's fused multiply-add")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: simd128gen [-fused] FILE.wasm (or - for standard output)")
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := write(flag.Arg(0), *fused); err != nil {
		fmt.Fprintln(os.Stderr, "simd128gen:", err)
		os.Exit(1)
	}
}

func write(path string, fused bool) error {
	code, err := simd128.Module(fused)
	if err != nil {
		return fmt.Errorf("write the kernels: %w", err)
	}
	if path == "-" {
		_, err = os.Stdout.Write(code)
		return err
	}
	return os.WriteFile(path, code, 0o644)
}
