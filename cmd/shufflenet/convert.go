package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/convert"
)

func runConvert(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	var model modelFlags
	model.register(fs)
	dtype := fs.String("dtype", "int8", "weight storage: int8 (float16 where int8 measurably hurts), f16 or f32")
	out := fs.String("out", "", "weights file to write (.safetensors)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: shufflenet convert --checkpoint PATH [--family F] [--dtype int8|f16|f32] --out FILE.safetensors")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if model.checkpoint == "" || *out == "" {
		return usagef("convert: give --checkpoint and --out")
	}
	data, err := os.ReadFile(model.checkpoint)
	if err != nil {
		return err
	}
	res, err := convert.Checkpoint(data, convert.Options{
		Family: model.familyFlag(), DType: weights.DType(*dtype), SourceName: filepath.Base(model.checkpoint),
		Progress: itemProgress(os.Stderr, "planning int8", "layers"),
	})
	if err != nil {
		return fmt.Errorf("convert %s: %w", model.checkpoint, err)
	}
	if err := os.WriteFile(*out, res.File, 0o644); err != nil {
		return err
	}
	describeConversion(stdout, res, *out)
	return nil
}

// describeConversion prints what a conversion made.
func describeConversion(w io.Writer, res *convert.Result, path string) {
	fmt.Fprintf(w, "%s: %s, %d bytes\n", path, res.Arch.Name(), len(res.File))
	if p := res.Plan; p != nil {
		f16 := p.Float16Layers()
		if len(f16) == 0 {
			f16 = []string{"none"}
		}
		fmt.Fprintf(w, "  int8 except float16 %s; agreement with float on calibration images: cosine %.5f\n", strings.Join(f16, ", "), p.Cosine)
	}
}
