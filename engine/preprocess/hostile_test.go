package preprocess_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"github.com/shufflenet-go/shufflenet/internal/hostile"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/tiff"
)

// Extreme aspect ratios cost what a photo does: the crop is computed in one
// step from the source, never through the resized image (256 x 256,000,000
// pixels for 1 x 1,000,000).
func TestCenterCropOfAnyAspectRatio(t *testing.T) {
	for _, c := range []struct{ w, h int }{{1, 1_000_000}, {1_000_000, 1}, {3, 5_000_000}, {50_000_000, 1}, {1, 1}} {
		img := image.NewGray(image.Rect(0, 0, c.w, c.h))
		for i := range img.Pix {
			img.Pix[i] = 200
		}
		var crop *image.RGBA
		bytes := hostile.Allocated(func() { crop = preprocess.CenterCrop(img, 256, 224) })
		if bytes > 1<<20 {
			t.Errorf("%dx%d: the crop allocated %d bytes, want under 1 MB", c.w, c.h, bytes)
		}
		for i, v := range crop.Pix {
			if want := uint8(200); i%4 != 3 && v != want {
				t.Fatalf("%dx%d: byte %d of the crop is %d, want %d", c.w, c.h, i, v, want)
			}
		}
	}
}

// The one-step crop is what x/image's own Scale of the whole image, then a
// crop, gives, to the bit: the same antialiased bilinear filter on the same
// grid, summed in the same order.
func TestCenterCropMatchesScaleThenCrop(t *testing.T) {
	for _, name := range []string{"chelsea.png", "coffee.png", "motorcycle_left.png", "grace_hopper.jpg"} {
		img, err := preprocess.Decode(context.Background(), shared.Read(t, "images/"+name), preprocess.DefaultMaxPixels)
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		rw, rh := 256, 256 // the short side is 256, the long one rounded
		if b.Dx() < b.Dy() {
			rh = (2*256*b.Dy() + b.Dx()) / (2 * b.Dx())
		} else {
			rw = (2*256*b.Dx() + b.Dy()) / (2 * b.Dy())
		}
		resized := image.NewRGBA(image.Rect(0, 0, rw, rh))
		draw.BiLinear.Scale(resized, resized.Bounds(), img, b, draw.Src, nil)
		left, top := (rw-224)/2, (rh-224)/2

		got := preprocess.CenterCrop(img, 256, 224)
		differ := 0
		for y := range 224 {
			for x := range 224 * 4 {
				if got.Pix[y*got.Stride+x] != resized.Pix[(y+top)*resized.Stride+left*4+x] {
					differ++
				}
			}
		}
		if differ > 0 {
			t.Errorf("%s (%T): %d bytes differ", name, img, differ)
		}
	}
}

// A JPEG built to waste time is stopped at its budget, and any decode stops
// when its context ends.
func TestDecodeStops(t *testing.T) {
	slow := hostile.SlowJPEG(2000, 2000, 3000) // 48 KB; 20 s of work unbounded
	h, err := preprocess.Inspect(slow, preprocess.DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("budget", func(t *testing.T) {
		start := time.Now()
		_, err := h.Decode(context.Background(), slow)
		took := time.Since(start)
		if !errors.Is(err, preprocess.ErrTooSlow) {
			t.Fatalf("error %v, want ErrTooSlow", err)
		}
		// One chunk of input past the deadline is a few scans: well under a second.
		if limit := h.DecodeBudget() + 2*time.Second; took > limit {
			t.Errorf("stopped after %v, want within %v", took, limit)
		}
		t.Logf("%v after %v (budget %v)", err, took, h.DecodeBudget())
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := h.Decode(ctx, slow)
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, preprocess.ErrTooSlow) {
			t.Fatalf("error %v, want the context's", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("stopped after %v, want soon after 100ms", took)
		}
	})
}

// DecodeBytes, which a server reserves before decoding, is at least what
// decoding allocates, for every format and layout.
func TestDecodeBytesBoundsWhatDecodingAllocates(t *testing.T) {
	const w, h = 1200, 900
	rng := rand.New(rand.NewPCG(1, 2))
	rgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(rng.IntN(256))
	}
	rgba64 := image.NewNRGBA64(rgba.Bounds())
	draw.Draw(rgba64, rgba64.Bounds(), rgba, image.Point{}, draw.Src)
	gray := image.NewGray(rgba.Bounds())
	draw.Draw(gray, gray.Bounds(), rgba, image.Point{}, draw.Src)
	paletted := image.NewPaletted(rgba.Bounds(), color.Palette{color.Black, color.White, color.RGBA{200, 0, 0, 255}})
	draw.Draw(paletted, paletted.Bounds(), rgba, image.Point{}, draw.Src)

	encode := func(f func(*bytes.Buffer) error) []byte {
		var buf bytes.Buffer
		if err := f(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	jpeg420 := encode(func(b *bytes.Buffer) error { return jpeg.Encode(b, rgba, &jpeg.Options{Quality: 90}) })
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"jpeg 4:2:0", jpeg420},
		{"jpeg rotated by EXIF", withOrientation(jpeg420, 6)},
		{"jpeg gray", encode(func(b *bytes.Buffer) error { return jpeg.Encode(b, gray, nil) })},
		{"jpeg progressive", hostile.SlowJPEG(w, h, 3)},
		{"png rgba", encode(func(b *bytes.Buffer) error { return png.Encode(b, rgba) })},
		{"png 16-bit", encode(func(b *bytes.Buffer) error { return png.Encode(b, rgba64) })},
		{"png gray", encode(func(b *bytes.Buffer) error { return png.Encode(b, gray) })},
		{"png paletted", encode(func(b *bytes.Buffer) error { return png.Encode(b, paletted) })},
		{"gif", encode(func(b *bytes.Buffer) error { return gif.Encode(b, paletted, nil) })},
		{"bmp", encode(func(b *bytes.Buffer) error { return bmp.Encode(b, rgba) })},
		{"tiff", encode(func(b *bytes.Buffer) error { return tiff.Encode(b, rgba64, nil) })},
	} {
		t.Run(c.name, func(t *testing.T) {
			hdr, err := preprocess.Inspect(c.data, preprocess.DefaultMaxPixels)
			if err != nil {
				t.Fatal(err)
			}
			var decodeErr error
			got := hostile.Allocated(func() { _, decodeErr = hdr.Decode(context.Background(), c.data) })
			if decodeErr != nil {
				t.Fatal(decodeErr)
			}
			if int64(got) > hdr.DecodeBytes() {
				t.Errorf("decoding allocated %d bytes, DecodeBytes says at most %d", got, hdr.DecodeBytes())
			}
			t.Logf("allocated %.1f bytes a pixel, estimate %.1f", float64(got)/(w*h), float64(hdr.DecodeBytes())/(w*h))
		})
	}
}

// FuzzTensor feeds arbitrary bytes through the whole decode-and-crop path:
// any input gives a tensor or an error, never a panic, a hang or a huge
// allocation (maxPixels keeps each decode small).
func FuzzTensor(f *testing.F) {
	small := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range small.Pix {
		small.Pix[i] = byte(i * 37)
	}
	for _, enc := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return png.Encode(b, small) },
		func(b *bytes.Buffer) error { return jpeg.Encode(b, small, nil) },
		func(b *bytes.Buffer) error { return gif.Encode(b, small, nil) },
		func(b *bytes.Buffer) error { return bmp.Encode(b, small) },
	} {
		var buf bytes.Buffer
		if err := enc(&buf); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add(hostile.SlowJPEG(64, 64, 2))
	f.Add(hostile.PNG(1, 300))
	f.Add(hostile.BombPNG(100_000, 100_000))
	arch, err := engine.SeedArchitecture(3)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		input, err := preprocess.Tensor(context.Background(), data, arch.Input, 1<<20)
		if err != nil {
			return
		}
		if len(input) != 3*224*224 {
			t.Fatalf("tensor of %d values", len(input))
		}
	})
}
