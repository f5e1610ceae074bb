package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/shufflenet-go/shufflenet/engine"
)

func runSummary(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	var model modelFlags
	model.register(fs)
	groups := fs.Int("groups", 3, "group count, with --family and no --checkpoint")
	width := fs.Float64("width", 1, "width multiplier (megvii: 0.5, 1, 1.5, 2), with --family and no --checkpoint")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: shufflenet summary (--weights FILE | --checkpoint PATH | --family F [--groups G] [--width W])")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var arch engine.Architecture
	if model.given() {
		net, err := model.load()
		if err != nil {
			return err
		}
		arch = net.Architecture()
	} else {
		var err error
		switch engine.Family(model.family) {
		case engine.Seed:
			arch, err = engine.SeedArchitecture(*groups)
		case engine.Megvii:
			arch, err = engine.MegviiArchitecture(*groups, *width)
		case engine.Pytorchcv:
			arch, err = engine.PytorchcvArchitecture(*groups, *width)
		case engine.MMPretrain:
			arch, err = engine.MMPretrainArchitecture(*groups)
		default:
			return usagef("summary: give --weights, --checkpoint, or --family seed|megvii|pytorchcv|mmpretrain")
		}
		if err != nil {
			return err
		}
	}
	printSummary(stdout, arch)
	return nil
}

// printSummary prints the layer table in torchsummary's layout, with the
// module's name and its MACs added.
func printSummary(w io.Writer, a engine.Architecture) {
	line := strings.Repeat("-", 110)
	fmt.Fprintf(w, "%s, input 3x%dx%d\n%s\n", a.Name(), a.InputSize(), a.InputSize(), line)
	fmt.Fprintf(w, "%22s  %-28s %20s %15s %16s\n", "Layer (type)", "Module", "Output Shape", "Param #", "MACs")
	fmt.Fprintln(w, strings.Repeat("=", 110))
	var params, macs int64
	for i, r := range a.Summary() {
		shape := fmt.Sprintf("[-1, %d, %d, %d]", r.Output[0], r.Output[1], r.Output[2])
		if r.Type == "Linear" {
			shape = fmt.Sprintf("[-1, %d]", r.Output[0])
		}
		fmt.Fprintf(w, "%22s  %-28s %20s %15s %16s\n", fmt.Sprintf("%s-%d", r.Type, i+1), r.Layer, shape, thousands(r.Params), thousands(r.MACs))
		params += r.Params
		macs += r.MACs
	}
	fmt.Fprintln(w, strings.Repeat("=", 110))
	fmt.Fprintf(w, "Total params: %s\nTrainable params: %s\nNon-trainable params: 0\n", thousands(params), thousands(params))
	fmt.Fprintf(w, "Total MACs: %s (%.1f M)\n%s\n", thousands(macs), float64(macs)/1e6, line)
}

// thousands formats n with comma separators, as torchsummary does.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
