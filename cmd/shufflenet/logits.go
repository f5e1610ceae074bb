package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kshedden/gonpy"
)

func runLogits(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("logits", flag.ContinueOnError)
	var model modelFlags
	model.register(fs)
	inPath := fs.String("input", "", "input tensor, float32 .npy of shape 1x3xSxS (or 3xSxS), already preprocessed")
	outPath := fs.String("out", "", "where to write the logits, float32 .npy of shape 1xCLASSES")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: shufflenet logits (--weights FILE | --checkpoint PATH) --input X.npy --out Y.npy")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *inPath == "" || *outPath == "" {
		return usagef("logits: give --input and --out")
	}
	net, err := model.load()
	if err != nil {
		return err
	}
	input, err := readTensor(*inPath, net.Architecture().InputSize())
	if err != nil {
		return err
	}
	logits, err := net.Forward(input)
	if err != nil {
		return err
	}
	w, err := gonpy.NewFileWriter(*outPath)
	if err != nil {
		return err
	}
	w.Shape = []int{1, len(logits)}
	if err := w.WriteFloat32(logits); err != nil {
		return fmt.Errorf("write %s: %w", *outPath, err)
	}
	fmt.Fprintf(stdout, "wrote %d logits to %s\n", len(logits), *outPath)
	return nil
}

// readTensor reads a float32 .npy holding one 3 x size x size image.
func readTensor(path string, size int) ([]float32, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	r, err := gonpy.NewFileReader(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	want := []int{1, 3, size, size}
	shape := r.Shape
	if len(shape) == 3 {
		shape = append([]int{1}, shape...)
	}
	if len(shape) != 4 || shape[0] != 1 || shape[1] != 3 || shape[2] != size || shape[3] != size {
		return nil, fmt.Errorf("read %s: shape %v, want %v", path, r.Shape, want)
	}
	if r.Dtype != "f4" || r.ColumnMajor {
		return nil, fmt.Errorf("read %s: dtype %s (fortran order %t), want little-endian float32 in C order", path, r.Dtype, r.ColumnMajor)
	}
	if int64(3*size*size*4) > info.Size() {
		return nil, fmt.Errorf("read %s: file too short for shape %v", path, r.Shape)
	}
	v, err := r.GetFloat32()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return v, nil
}
