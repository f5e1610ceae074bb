package engine

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// FromRGBA puts each pixel's R, G and B (or B, G, R) in their planes as
// (value*Scale - Mean)/Std, reading rows of any stride and ignoring alpha.
func TestFromRGBA(t *testing.T) {
	for _, c := range []struct {
		name string
		conv InputConvention
	}{
		{"torchvision RGB", imagenetRGB01},
		{"Megvii BGR", InputConvention{BGR: true, Scale: 1, Std: [3]float32{1, 1, 1}}},
		{"BGR with mean and std", InputConvention{BGR: true, Scale: 0.5, Mean: [3]float32{10, 20, 30}, Std: [3]float32{2, 4, 8}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			const size, stride = 5, 4*5 + 3 // rows padded past the crop
			in := c.conv
			in.Crop = size
			pix := make([]byte, (size-1)*stride+4*size)
			for i := range pix {
				pix[i] = byte(rand.IntN(256))
			}
			dst := make([]float32, 3*size*size)
			if err := in.FromRGBA(dst, pix, stride); err != nil {
				t.Fatal(err)
			}
			for ch := range 3 {
				source := ch // the RGBA byte of model channel ch
				if in.BGR {
					source = 2 - ch
				}
				gain, offset := in.Scale/in.Std[ch], -in.Mean[ch]/in.Std[ch]
				for y := range size {
					for x := range size {
						want := float32(pix[y*stride+4*x+source])*gain + offset
						if got := dst[ch*size*size+y*size+x]; got != want {
							t.Fatalf("channel %d (%d, %d): %v, want %v", ch, x, y, got, want)
						}
					}
				}
			}
		})
	}
}

func TestFromRGBARejects(t *testing.T) {
	in := imagenetRGB01
	in.Crop = 4
	for _, c := range []struct {
		name   string
		dst    int
		pix    int
		stride int
		want   string
	}{
		{"small tensor", 3*16 - 1, 64, 16, "input tensor"},
		{"short rows", 3 * 16, 64, 12, "cannot hold"},
		{"few pixels", 3 * 16, 63, 16, "cannot hold"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := in.FromRGBA(make([]float32, c.dst), make([]byte, c.pix), c.stride)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}
