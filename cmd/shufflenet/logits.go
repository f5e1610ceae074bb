package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/kshedden/gonpy"
	"github.com/shufflenet-go/shufflenet/engine"
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
	input, err := readTensor(*inPath, net.Architecture().InputSize())
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
	if err := writeNPY(*outPath, []int{1, len(logits)}, logits); err != nil {
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
	if err := writeNPY(path, shape, maps); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote stage %d's output (%dx%dx%d) to %s\n", stage, shape[0], shape[1], shape[2], path)
	return nil
}

// writeNPY writes v as a float32 .npy of the given shape.
func writeNPY(path string, shape []int, v []float32) error {
	w, err := gonpy.NewFileWriter(path)
	if err != nil {
		return err
	}
	w.Shape = shape
	if err := w.WriteFloat32(v); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// maxNPYHeader bounds a .npy header: NumPy writes about a hundred bytes,
// and a header that claims gigabytes (four bytes can) is refused before
// gonpy allocates what it claims.
const maxNPYHeader = 64 << 10

// readTensor reads a float32 .npy holding one 3 x size x size image.
func readTensor(path string, size int) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	limit := int64(12 + maxNPYHeader + 3*size*size*4)
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read %s: over %d bytes, more than a 3x%dx%d float32 tensor takes", path, limit, size, size)
	}
	t, err := parseTensor(data, size)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return t, nil
}

// parseTensor parses a float32 .npy holding one 3 x size x size image of
// finite values.
func parseTensor(data []byte, size int) (_ []float32, err error) {
	if err := checkNPYHeaderLength(data); err != nil {
		return nil, err
	}
	// gonpy panics on some malformed shapes, such as (3 4, 224).
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed .npy header: %v", r)
		}
	}()
	r, err := gonpy.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	want := []int{1, 3, size, size}
	shape := r.Shape
	if len(shape) == 3 {
		shape = append([]int{1}, shape...)
	}
	if len(shape) != 4 || shape[0] != 1 || shape[1] != 3 || shape[2] != size || shape[3] != size {
		return nil, fmt.Errorf("shape %v, want %v", r.Shape, want)
	}
	if r.Dtype != "f4" || r.ColumnMajor {
		return nil, fmt.Errorf("dtype %s (fortran order %t), want little-endian float32 in C order", r.Dtype, r.ColumnMajor)
	}
	if 3*size*size*4 > len(data) {
		return nil, fmt.Errorf("file too short for shape %v", r.Shape)
	}
	v, err := r.GetFloat32()
	if err != nil {
		return nil, err
	}
	if err := engine.CheckFinite(v, size); err != nil {
		return nil, err
	}
	return v, nil
}

// checkNPYHeaderLength checks that the header length a .npy states
// (format 1.0: two bytes after the version; 2.0 and 3.0: four) is at most
// maxNPYHeader and fits in data.
func checkNPYHeaderLength(data []byte) error {
	const magic = "\x93NUMPY"
	if len(data) < 12 || string(data[:6]) != magic {
		return errors.New("not a .npy file (no \\x93NUMPY magic)")
	}
	start, length := 10, int(binary.LittleEndian.Uint16(data[8:10]))
	if data[6] >= 2 {
		start, length = 12, int(binary.LittleEndian.Uint32(data[8:12]))
	}
	if length > maxNPYHeader || start+length > len(data) {
		return fmt.Errorf("the .npy header claims %d bytes, the file has %d and the limit is %d", length, len(data)-start, maxNPYHeader)
	}
	return nil
}
