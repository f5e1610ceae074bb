package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/shufflenet-go/shufflenet/server"
	"github.com/shufflenet-go/shufflenet/web"
	"github.com/shufflenet-go/shufflenet/weights/zoo"
)

// fetchDefaultModel puts the zoo's default model into dir, as make run
// does, for a fresh install (a release binary alone in a folder, say),
// and reads dir again. Failing to fetch is a warning: the server still
// serves its page.
func fetchDefaultModel(ctx context.Context, dir string, log *slog.Logger) (map[string][]byte, error) {
	e, err := zoo.Lookup(zoo.Default())
	if err == nil {
		log.Info("no weights files in " + dir + ": fetching the default model " + e.Name)
		err = installModel(ctx, e, dir, filepath.Join(dir, "cache"), os.Stderr)
	}
	if err != nil {
		log.Warn("cannot fetch the default model: " + err.Error())
	}
	files, err := server.ReadWeightsDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return files, err
}

// readHeadFiles reads head files by their names, which must differ: the
// server names a head by its file's name.
func readHeadFiles(paths []string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, path := range paths {
		name := filepath.Base(path)
		if _, ok := files[name]; ok {
			return nil, usagef("serve: two heads named %s: give each head file its own name", name)
		}
		data, err := readHeadFile(path)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		files[name] = data
	}
	return files, nil
}

func runServe(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	dir := fs.String("weights", "weights", "directory of weights files (NAME.int8.safetensors) to serve and run")
	examples := fs.String("examples", "", "directory of photos for the example documentation page (served at /examples/images/)")
	fetch := fs.Bool("fetch", true, "when DIR holds no weights file, fetch the default model into it first (see fetch)")
	var heads []string
	fs.Func("head", "head file made by 'shufflenet train' for a served model, whose /api/classify then answers with its classes (repeatable: one head per model)", func(path string) error {
		heads = append(heads, path)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: shufflenet serve [--addr HOST:PORT] [--weights DIR] [--examples DIR] [--fetch=false] [--head FILE]...")
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	files, err := server.ReadWeightsDir(*dir)
	if *fetch && (errors.Is(err, os.ErrNotExist) || err == nil && len(files) == 0) {
		files, err = fetchDefaultModel(ctx, *dir, log)
	}
	if err != nil {
		return err
	}
	var images map[string][]byte
	if *examples != "" {
		if images, err = server.ReadFiles(os.DirFS(*examples), ".png", ".jpg", ".jpeg", ".webp", ".gif"); err != nil {
			return err
		}
	}
	headFiles, err := readHeadFiles(heads)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{Static: static, Weights: files, Heads: headFiles, ExampleImages: images, Logger: log})
	if err != nil {
		return err
	}
	for _, m := range srv.Models() {
		if m.Head != nil {
			log.Info(fmt.Sprintf("model %s answers with the head %s: %s", m.Name, m.Head.File, strings.Join(m.Head.Classes, ", ")))
		}
	}
	if len(srv.Models()) == 0 {
		log.Warn("no weights files in " + *dir + ": add one with 'shufflenet fetch NAME' (the page and /api/classify need one)")
	}
	return srv.ListenAndServe(ctx, *addr, func(url string) {
		fmt.Fprintf(stdout, "serving %d model(s) on %s\n", len(srv.Models()), url)
	})
}
