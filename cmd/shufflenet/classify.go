package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/shufflenet-go/shufflenet/engine/classify"
	"github.com/shufflenet-go/shufflenet/engine/head"
	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"github.com/shufflenet-go/shufflenet/server"
)

// classification is one image's result, also the --json line format.
type classification struct {
	Image string `json:"image"`
	// Classes says whose classes Top holds: "head" (--head's) or "imagenet",
	// as /api/classify says it.
	Classes string                `json:"classes"`
	Top     []classify.Prediction `json:"top"`
	MS      float64               `json:"ms"`
}

func runClassify(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	var model modelFlags
	model.register(fs)
	model.registerNoShuffle(fs)
	top := fs.Int("top", 5, "how many classes to print")
	asJSON := fs.Bool("json", false, "print one JSON object per image")
	headPath := fs.String("head", "", "head file made by 'shufflenet train' for this model: answer with its classes instead of ImageNet's")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: shufflenet classify (--weights FILE | --checkpoint PATH [--family F]) [--no-shuffle | --head FILE] [--top K] [--json] IMAGE...")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("classify: no images given")
	}
	if *top < 1 {
		return usagef("classify: --top must be at least 1")
	}
	if *headPath != "" && model.noShuffle {
		return usagef("classify: --head with --no-shuffle: a head is trained on the network with its shuffles")
	}
	net, base, err := model.loadWithBase()
	if err != nil {
		return err
	}
	var h *head.Head
	if *headPath != "" {
		if h, err = loadHead(*headPath, base); err != nil {
			return err
		}
	}
	in := net.Architecture().Input
	failed, firstErr := 0, error(nil)
	for _, path := range fs.Args() {
		res, err := func() (classification, error) {
			data, err := readImageFile(path)
			if err != nil {
				return classification{}, err
			}
			input, err := preprocess.Tensor(context.Background(), data, in, preprocess.DefaultMaxPixels)
			if err != nil {
				return classification{}, err
			}
			start := time.Now()
			logits, err := net.Forward(input)
			if err != nil {
				return classification{}, err
			}
			ms := float64(time.Since(start).Microseconds()) / 1000
			if h == nil {
				return classification{Image: path, Classes: server.ClassesImageNet, Top: classify.Top(logits, *top), MS: ms}, nil
			}
			features, err := net.Features()
			if err != nil {
				return classification{}, err
			}
			predictions, err := h.Top(features, *top)
			if err != nil {
				return classification{}, err
			}
			return classification{Image: path, Classes: server.ClassesHead, Top: predictions, MS: ms}, nil
		}()
		if err != nil {
			err = fmt.Errorf("%s: %w", path, err)
			fmt.Fprintf(os.Stderr, "shufflenet: %v\n", err)
			if failed++; firstErr == nil {
				firstErr = err
			}
			continue
		}
		if *asJSON {
			if err := json.NewEncoder(stdout).Encode(res); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(stdout, "%s (%.1f ms)\n", res.Image, res.MS)
		for _, p := range res.Top {
			fmt.Fprintf(stdout, "  %6.2f%%  %3d  %s\n", 100*p.Prob, p.Index, p.Label)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d images failed, first %w", failed, fs.NArg(), firstErr)
	}
	return nil
}

// maxImageFile bounds the image files classify reads: far more than any
// photo of preprocess.DefaultMaxPixels takes, and less than would exhaust
// a small machine's memory.
const maxImageFile = 256 << 20

// readImageFile reads an image file of at most maxImageFile bytes.
func readImageFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImageFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxImageFile {
		return nil, fmt.Errorf("%w: the file is over %d MB", preprocess.ErrTooLarge, maxImageFile>>20)
	}
	return data, nil
}
