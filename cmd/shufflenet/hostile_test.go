package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shufflenet-go/shufflenet/internal/hostile"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights/npy"
)

// npyBytes is a .npy file of format version major whose header is header,
// padded as NumPy pads it, followed by data.
func npyBytes(major byte, header string, data []byte) []byte {
	out := []byte{0x93, 'N', 'U', 'M', 'P', 'Y', major, 0}
	prefix := 10
	if major >= 2 {
		prefix = 12
	}
	header += strings.Repeat(" ", 63-(prefix+len(header))%64) + "\n"
	if major >= 2 {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(header)))
	} else {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(header)))
	}
	return append(append(out, header...), data...)
}

// imageTensor is a 1x3x224x224 float32 .npy holding values made by value.
func imageTensor(value func(i int) float32) []byte {
	data := make([]byte, 0, 4*3*224*224)
	for i := range 3 * 224 * 224 {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(value(i)))
	}
	return npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }", data)
}

// Each hostile input to the CLI ends in a clear error, quickly and within
// a bounded amount of memory.
func TestHostileInputs(t *testing.T) {
	ckpt := shared.Path(t, "weights/megvii-shufflenetv1-g3-0.5x.pth.tar")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// An 81-byte .npy whose header claims 4 GiB (gonpy allocated it).
	hugeHeader := npyBytes(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }", nil)
	binary.LittleEndian.PutUint32(hugeHeader[8:12], math.MaxUint32)
	out := filepath.Join(dir, "logits.npy")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"1 x 1,000,000 PNG", []string{"classify", "--checkpoint", ckpt, write("sliver.png", hostile.PNG(1, 1_000_000))}, "too narrow"},
		{"JPEG of empty progressive scans", []string{"classify", "--checkpoint", ckpt, write("slow.jpg", hostile.SlowJPEG(2000, 2000, 3000))}, "too slow to decode"},
		{"decompression bomb", []string{"classify", "--checkpoint", ckpt, write("bomb.png", hostile.BombPNG(100_000, 100_000))}, "too large"},
		{"BMP-named text", []string{"classify", "--checkpoint", ckpt, write("notes.bmp", []byte("notes"))}, "not a JPEG, PNG, GIF, WebP, BMP or TIFF image"},
		{".npy header of 4 GiB", []string{"logits", "--checkpoint", ckpt, "--input", write("huge.npy", hugeHeader), "--out", out}, "header claims 4294967295 bytes"},
		{".npy of NaN", []string{"logits", "--checkpoint", ckpt, "--input", write("nan.npy", imageTensor(func(int) float32 { return float32(math.NaN()) })), "--out", out}, "must be finite"},
		{".npy with one infinity", []string{"logits", "--checkpoint", ckpt, "--input", write("inf.npy", imageTensor(func(i int) float32 {
			if i == 224*224+5 {
				return float32(math.Inf(-1))
			}
			return 0
		})), "--out", out}, "channel 1, row 0, column 5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var (
				err  error
				took time.Duration
			)
			allocated := hostile.Allocated(func() {
				start := time.Now()
				err = run(c.args, &bytes.Buffer{})
				took = time.Since(start)
			})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
			// Loading the checkpoint takes a few MB; the slow JPEG's decoder
			// 20 MB. Each of these took gigabytes or minutes before.
			if allocated > 192<<20 {
				t.Errorf("allocated %d MB, want at most 192", allocated>>20)
			}
			if took > 5*time.Second {
				t.Errorf("took %v, want at most 5s", took)
			}
			t.Logf("%v (%v, %d MB)", err, took.Round(time.Millisecond), allocated>>20)
		})
	}
}

// FuzzParseTensor: any bytes given to logits --input (npy.ParseImage)
// parse to a finite 3x224x224 tensor or give an error, never a panic or
// an allocation the input cannot justify.
func FuzzParseTensor(f *testing.F) {
	f.Add(imageTensor(func(i int) float32 { return float32(i % 255) }))
	f.Add(npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 224, 224), }", nil))
	f.Add(npyBytes(3, "{'descr': '<f8', 'fortran_order': True, 'shape': (1, 3, 224, 224), }", make([]byte, 64)))
	f.Add([]byte("\x93NUMPY\x02\x00\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := npy.ParseImage(data, 224)
		if err != nil {
			return
		}
		if len(v) != 3*224*224 {
			t.Fatalf("%d values", len(v))
		}
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("accepted %v", x)
			}
		}
	})
}
