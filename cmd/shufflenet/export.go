package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/shufflenet-go/shufflenet/server"
	"github.com/shufflenet-go/shufflenet/web"
)

// errNoEngine says that this binary was built without the page's engine.
var errNoEngine = errors.New("export: the page's WebAssembly is not built in: run 'make wasm' before building shufflenet")

// runExport writes the site that 'serve' hosts as a folder for a static
// host: the same preparation (content-hashed names, rewritten references)
// and, in _headers, the same headers. The Cloudflare Worker serves this
// folder as its static assets; --engine-json tells the worker's API where
// the engine landed.
func runExport(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	dir := fs.String("weights", "weights", "directory of weights files (NAME.int8.safetensors) to put under /weights/")
	engineJSON := fs.String("engine-json", "", "also write where the page's engine is (/api/models' \"engine\") to this JSON file, for an API hosted apart from the files")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: shufflenet export [--weights DIR] [--engine-json FILE] OUTDIR")
		fmt.Fprintln(fs.Output(), "Writes the page, its engine and the weights into OUTDIR (new or empty) under the names")
		fmt.Fprintln(fs.Output(), "'serve' uses, with a _headers file (Cloudflare, Netlify) holding the headers it sends.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("export: give one output directory")
	}
	files, err := server.ReadWeightsDir(*dir)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("export: no weights files in %s: run 'make weights'", *dir)
	}
	weights, err := server.PrepareWeights(files)
	if err != nil {
		return err
	}
	static, err := server.PrepareAssets(web.Static())
	if err != nil {
		return err
	}
	engine := static.Engine()
	if engine == nil {
		return errNoEngine
	}
	srv, err := server.New(server.Config{Static: static, Weights: files})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	list, err := server.ModelListAssets(srv.ModelList())
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := server.WriteSite(fs.Arg(0), static, weights, list); err != nil {
		return err
	}
	if *engineJSON != "" {
		data, err := json.MarshalIndent(engine, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*engineJSON, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	fmt.Fprintf(stdout, "wrote the site (%d files, %d weights) to %s\n", len(static.List()), len(files), fs.Arg(0))
	return nil
}
