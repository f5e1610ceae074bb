package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/convert"
	"github.com/shufflenet-go/shufflenet/weights/zoo"
)

func runFetch(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fetch", flag.ContinueOnError)
	dir := fs.String("dir", "weights", "where to write NAME.int8.safetensors")
	cache := fs.String("cache", filepath.Join("weights", "cache"), "where downloaded checkpoints are kept")
	list := fs.Bool("list", false, "list the zoo's models")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: shufflenet fetch [--dir DIR] [--cache DIR] NAME   (or --list)")
		fmt.Fprintln(fs.Output(), "Looks for the checkpoint in --cache, then in $SHUFFLENET_CHECKPOINTS, else downloads it;")
		fmt.Fprintln(fs.Output(), "verifies its size and checksum, and converts it to int8.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *list {
		for _, e := range zoo.Models() {
			fmt.Fprintf(stdout, "%-20s %-10s g%d %4gx %6.1f MMACs  top-1 %.2f%%  %s\n", e.Name, e.Family, e.Groups, e.Width, float64(e.MACs)/1e6, e.Top1, e.License)
		}
		return nil
	}
	if fs.NArg() != 1 {
		return usagef("fetch: give one model name (see 'shufflenet fetch --list')")
	}
	e, err := zoo.Lookup(fs.Arg(0))
	if err != nil {
		return usageError{err.Error()}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return installModel(ctx, e, *dir, *cache, stdout)
}

// installModel puts zoo model e into dir as an int8 weights file: its
// checkpoint from cache, from $SHUFFLENET_CHECKPOINTS or downloaded,
// verified, then converted.
func installModel(ctx context.Context, e zoo.Entry, dir, cache string, stdout io.Writer) error {
	f := &zoo.Fetcher{CacheDir: cache}
	if onTerminal(os.Stderr) {
		f.Progress = os.Stderr
	}
	if d := os.Getenv("SHUFFLENET_CHECKPOINTS"); d != "" {
		f.CopyDirs = []string{d}
	}
	var made *convert.Result
	path, err := f.Install(ctx, e, dir, func(ckpt []byte) ([]byte, error) {
		res, err := convert.Checkpoint(ckpt, convert.Options{Family: e.Family, DType: weights.Int8, SourceName: e.File,
			Progress: itemProgress(os.Stderr, "planning int8", "layers")})
		if err != nil {
			return nil, err
		}
		made = res
		return res.File, nil
	})
	if err != nil {
		return err
	}
	if made != nil {
		describeConversion(stdout, made, path)
	} else {
		fmt.Fprintf(stdout, "%s is up to date\n", path)
	}
	return nil
}
