// Command precompress writes FILE.br next to each FILE, compressed with
// brotli at its best (slowest) setting. `make wasm` runs it on the engine
// so that the server does not spend that time at every start; the server
// checks that a .br file decompresses to its sibling before using it.
package main

import (
	"fmt"
	"os"

	"github.com/andybalholm/brotli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: precompress FILE...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if err := compress(path); err != nil {
			fmt.Fprintln(os.Stderr, "precompress:", err)
			os.Exit(1)
		}
	}
}

func compress(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := os.Create(path + ".br.tmp")
	if err != nil {
		return err
	}
	w := brotli.NewWriterLevel(out, brotli.BestCompression)
	if _, err := w.Write(data); err != nil {
		out.Close()
		return err
	}
	if err := w.Close(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(path+".br.tmp", path+".br")
}
