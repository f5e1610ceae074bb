package main

import (
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/weights/npy"
)

func runLogits(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("logits", flag.ContinueOnError)
	var model modelFlags
	model.register(fs)
	model.registerNoShuffle(fs)
	inPath := fs.String("input", "", "input tensor, float32 .npy of shape 1x3xSxS (or 3xSxS), already preprocessed")
	outPath := fs.String("out", "", "where to write the logits, float32 .npy of shape 1xCLASSES (with --stage, CxHxW)")
	stage := fs.Int("stage", 0, "write stage `N`'s output instead of the logits: 1 is the stem after its max pool, 2-4 the stages' outputs")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: shufflenet logits (--weights FILE | --checkpoint PATH) [--no-shuffle] [--stage N] --input X.npy --out Y.npy")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *inPath == "" || *outPath == "" {
		return usagef("logits: give --input and --out")
	}
	stageGiven := false
	fs.Visit(func(f *flag.Flag) { stageGiven = stageGiven || f.Name == "stage" })
	if stageGiven && (*stage < 1 || *stage > 4) {
		return usagef("logits: --stage %d: give 1 (the stem after its max pool) to 4", *stage)
	}
	net, err := model.load()
	if err != nil {
		return err
	}
	input, err := npy.ReadImage(*inPath, net.Architecture().InputSize())
	if err != nil {
		return err
	}
	if stageGiven {
		return writeStage(net, input, *stage, *outPath, stdout)
	}
	logits, err := net.Forward(input)
	if err != nil {
		return err
	}
	if err := npy.Write(*outPath, []int{1, len(logits)}, logits); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d logits to %s\n", len(logits), *outPath)
	return nil
}

// writeStage runs the network on input and writes stage's output (1: the
// stem after its max pool; 2-4: the stages') as a C x H x W .npy.
func writeStage(net *engine.Network, input []float32, stage int, path string, stdout io.Writer) error {
	var maps []float32
	var shape []int
	_, err := net.ForwardObserved(input, func(a engine.Activation) {
		if a.Step == engine.StageOutput && a.Stage == stage {
			maps, shape = slices.Clone(a.Maps), []int{a.Channels, a.Size, a.Size}
		}
	})
	if err != nil {
		return err
	}
	if maps == nil {
		return fmt.Errorf("logits: the network reported no output of stage %d", stage)
	}
	if err := npy.Write(path, shape, maps); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote stage %d's output (%dx%dx%d) to %s\n", stage, shape[0], shape[1], shape[2], path)
	return nil
}
