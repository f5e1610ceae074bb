package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/shufflenet-go/shufflenet/server"
	"github.com/shufflenet-go/shufflenet/web"
)

func runServe(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	dir := fs.String("weights", "weights", "directory of weights files (NAME.int8.safetensors) to serve and run")
	examples := fs.String("examples", "", "directory of photos for the example documentation page (served at /examples/images/)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: shufflenet serve [--addr HOST:PORT] [--weights DIR] [--examples DIR]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	static, err := server.PrepareAssets(web.Static())
	if err != nil {
		return err
	}
	if _, ok := static.Lookup("/gen/shufflenet.wasm"); !ok {
		log.Warn("the page's WebAssembly is not built in: run 'make wasm' before building, or use 'make run'")
	}
	files, err := server.ReadWeightsDir(*dir)
	if err != nil {
		return err
	}
	var images map[string][]byte
	if *examples != "" {
		if images, err = server.ReadFiles(os.DirFS(*examples), ".png", ".jpg", ".jpeg", ".webp", ".gif"); err != nil {
			return err
		}
	}
	srv, err := server.New(server.Config{Static: static, Weights: files, ExampleImages: images, Logger: log})
	if err != nil {
		return err
	}
	if len(srv.Models()) == 0 {
		log.Warn("no weights files in " + *dir + ": run 'make weights' (the page and /api/classify need one)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return srv.ListenAndServe(ctx, *addr, func(url string) {
		fmt.Fprintf(stdout, "serving %d model(s) on %s\n", len(srv.Models()), url)
	})
}
