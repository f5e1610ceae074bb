package preprocess_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"github.com/shufflenet-go/shufflenet/internal/hostile"
	"github.com/shufflenet-go/shufflenet/internal/shared"
)

// The photos, preprocessed our way, match the tensors Megvii's pipeline made
// (BGR 0..255, short side 256, centre 224) to within resampling noise.
func TestMatchesMegviiPreprocessing(t *testing.T) {
	arch, err := engine.MegviiArchitecture(3, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"chelsea", "coffee", "motorcycle_left"} {
		t.Run(name, func(t *testing.T) {
			img, err := preprocess.Decode(context.Background(), shared.Read(t, "images/"+name+".png"), preprocess.DefaultMaxPixels)
			if err != nil {
				t.Fatal(err)
			}
			crop := preprocess.CenterCrop(img, arch.Input.ResizeShort, arch.Input.Crop)
			got := make([]float32, 3*224*224)
			if err := arch.Input.FromRGBA(got, crop.Pix, crop.Stride); err != nil {
				t.Fatal(err)
			}
			want := shared.NPY(t, "testdata/megvii_input_"+name+".npy")
			var sum float64
			for i := range want {
				sum += math.Abs(float64(got[i] - want[i]))
			}
			mean := sum / float64(len(want))
			t.Logf("mean abs difference %.3f (0..255 scale)", mean)
			if mean > 2.0 {
				t.Errorf("mean abs difference %.3f > 2.0", mean)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, preprocess.ErrNotImage},
		{"text", []byte("hello, this is not an image"), preprocess.ErrNotImage},
		{"truncated jpeg", truncatedJPEG(t), preprocess.ErrNotImage},
		// A PNG header claiming 100000 x 100000 pixels: a few dozen bytes
		// that would decode into 40 GB.
		{"decompression bomb", hostile.BombPNG(100_000, 100_000), preprocess.ErrTooLarge},
		{"1 x 1,000,000", hostile.PNG(1, 1_000_000), preprocess.ErrAspectRatio},
		{"1,000,000 x 1", hostile.PNG(1_000_000, 1), preprocess.ErrAspectRatio},
		{"2 x 201", hostile.PNG(2, 201), preprocess.ErrAspectRatio},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := preprocess.Decode(context.Background(), c.data, preprocess.DefaultMaxPixels)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			t.Log(err)
		})
	}
}

func truncatedJPEG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()[:buf.Len()/2]
}

// A JPEG whose EXIF orientation says "rotate 90° clockwise" comes out rotated.
func TestEXIFOrientation(t *testing.T) {
	// 40x20: left half red, right half blue.
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for y := range 20 {
		for x := range 40 {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 20 {
				c = color.RGBA{0, 0, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	data := withOrientation(buf.Bytes(), 6)
	got, err := preprocess.Decode(context.Background(), data, preprocess.DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	if b := got.Bounds(); b.Dx() != 20 || b.Dy() != 40 {
		t.Fatalf("decoded %v, want 20x40 after rotation", b)
	}
	// Rotated 90° clockwise, the left (red) half ends on top.
	if r, _, bl, _ := got.At(10, 5).RGBA(); r < bl {
		t.Errorf("top of the rotated image is not red")
	}
}

// withOrientation inserts an APP1 EXIF segment with one orientation tag after the SOI marker.
func withOrientation(jpg []byte, orientation byte) []byte {
	tiff := []byte{
		'M', 'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, // Orientation, SHORT, 1 value
		0, 0, 0, 0, // no next IFD
	}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	segment := append([]byte{0xff, 0xe1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, segment...)
	return append(out, jpg[2:]...)
}
