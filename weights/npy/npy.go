// Package npy reads and writes the NumPy .npy tensors of the command line
// and the peer benchmark's native command: one preprocessed image in
// (float32, 3 x size x size, as PyTorch's references are), logits or a
// stage's maps out. Files come from anywhere, so reading bounds the file
// by what the image takes, refuses a header that claims more than NumPy
// writes, and accepts only finite values.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/kshedden/gonpy"
	"github.com/shufflenet-go/shufflenet/engine"
)

// Write writes v as a float32 .npy of the given shape.
func Write(path string, shape []int, v []float32) error {
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

// maxHeader bounds a .npy header: NumPy writes about a hundred bytes, and
// a header that claims gigabytes (four bytes can) is refused before gonpy
// allocates what it claims.
const maxHeader = 64 << 10

// ReadImage reads a float32 .npy holding one 3 x size x size image (shape
// 3xSxS or 1x3xSxS) of finite values.
func ReadImage(path string, size int) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	limit := int64(12 + maxHeader + 3*size*size*4)
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read %s: over %d bytes, more than a 3x%dx%d float32 tensor takes", path, limit, size, size)
	}
	t, err := ParseImage(data, size)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return t, nil
}

// ParseImage parses a float32 .npy holding one 3 x size x size image of
// finite values (see ReadImage).
func ParseImage(data []byte, size int) (_ []float32, err error) {
	if err := checkHeaderLength(data); err != nil {
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

// checkHeaderLength checks that the header length a .npy states (format
// 1.0: two bytes after the version; 2.0 and 3.0: four) is at most
// maxHeader and fits in data.
func checkHeaderLength(data []byte) error {
	const magic = "\x93NUMPY"
	if len(data) < 12 || string(data[:6]) != magic {
		return errors.New("not a .npy file (no \\x93NUMPY magic)")
	}
	start, length := 10, int(binary.LittleEndian.Uint16(data[8:10]))
	if data[6] >= 2 {
		start, length = 12, int(binary.LittleEndian.Uint32(data[8:12]))
	}
	if length > maxHeader || start+length > len(data) {
		return fmt.Errorf("the .npy header claims %d bytes, the file has %d and the limit is %d", length, len(data)-start, maxHeader)
	}
	return nil
}
