package crop_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine/crop"
	"golang.org/x/image/draw"
)

// gradient is a w x h image whose every pixel differs from its
// neighbours, partly transparent, with its origin at (3, -2).
func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(3, -2, 3+w, -2+h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(3+x, -2+y, color.NRGBA{uint8(7 * x), uint8(5 * y), uint8(x + 3*y), uint8(255 - x%7)})
		}
	}
	return img
}

// as answers img in the kinds of picture the decoders and the page give:
// each has a fast path of its own, and Paletted takes the generic one.
func as(img *image.NRGBA) map[string]image.Image {
	b := img.Bounds()
	rgba := image.NewRGBA(b)
	draw.Draw(rgba, b, img, b.Min, draw.Src)
	gray := image.NewGray(b)
	draw.Draw(gray, b, img, b.Min, draw.Src)
	ycbcr := image.NewYCbCr(b, image.YCbCrSubsampleRatio420)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.NRGBAAt(x, y)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			ycbcr.Y[ycbcr.YOffset(x, y)] = yy
			ycbcr.Cb[ycbcr.COffset(x, y)], ycbcr.Cr[ycbcr.COffset(x, y)] = cb, cr
		}
	}
	paletted := image.NewPaletted(b, palette.WebSafe)
	draw.Draw(paletted, b, img, b.Min, draw.Src)
	return map[string]image.Image{"NRGBA": img, "RGBA": rgba, "Gray": gray, "YCbCr": ycbcr, "Paletted": paletted}
}

// Center equals resizing the whole picture with draw's Scale (the same
// filter, summed in the same order) and cutting out its centre, to the
// bit, and CenterInto gives the same pixels in a reused buffer, even one
// that is part of a larger image.
func TestCenterIsScaleThenCrop(t *testing.T) {
	for _, c := range []struct{ w, h, resize, size int }{
		{640, 480, 256, 224}, {480, 640, 256, 224}, {300, 300, 256, 224}, {100, 60, 32, 28}, {2000, 90, 64, 56}, {50, 70, 256, 224},
	} {
		for kind, img := range as(gradient(c.w, c.h)) {
			centerIsScaleThenCrop(t, fmt.Sprintf("%s %dx%d", kind, c.w, c.h), img, c.resize, c.size)
		}
	}
}

func centerIsScaleThenCrop(t *testing.T, name string, img image.Image, resize, size int) {
	t.Helper()
	got := crop.Center(img, resize, size)

	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	rw, rh := resize, resize
	if w < h {
		rh = (2*resize*h + w) / (2 * w)
	} else {
		rw = (2*resize*w + h) / (2 * h)
	}
	scaled := image.NewRGBA(image.Rect(0, 0, rw, rh))
	draw.BiLinear.Scale(scaled, scaled.Bounds(), img, img.Bounds(), draw.Src, nil)
	left, top := (rw-size)/2, (rh-size)/2
	diff := 0
	for y := range size {
		for x := range size {
			if got.RGBAAt(x, y) != scaled.RGBAAt(left+x, top+y) {
				diff++
			}
		}
	}
	if diff > 0 {
		t.Errorf("%s: %d pixels differ", name, diff)
	}

	big := image.NewRGBA(image.Rect(0, 0, size+10, size+10))
	into := big.SubImage(image.Rect(5, 5, 5+size, 5+size)).(*image.RGBA)
	crop.CenterInto(into, img, resize)
	for y := range size {
		if !bytes.Equal(into.Pix[into.PixOffset(5, 5+y):into.PixOffset(5+size, 5+y)], got.Pix[got.PixOffset(0, y):got.PixOffset(size, y)]) {
			t.Fatalf("%s: CenterInto a sub-image differs from Center in row %d", name, y)
		}
	}
}

// A Cropper reused across pictures of different kinds, sizes and crops
// gives what CenterInto gives each, and crops a second frame of the same
// size without allocating.
func TestCropperReused(t *testing.T) {
	var c crop.Cropper
	for _, s := range []struct{ w, h, resize, size int }{
		{640, 480, 256, 224}, {640, 480, 256, 224}, {300, 500, 256, 224}, {100, 60, 32, 28}, {640, 480, 256, 224},
	} {
		for kind, img := range as(gradient(s.w, s.h)) {
			want := crop.Center(img, s.resize, s.size)
			got := image.NewRGBA(image.Rect(0, 0, s.size, s.size))
			c.CenterInto(got, img, s.resize)
			if !bytes.Equal(got.Pix, want.Pix) {
				t.Fatalf("%s %dx%d: a reused Cropper differs from CenterInto", kind, s.w, s.h)
			}
		}
	}
	frame := gradient(640, 480)
	dst := image.NewRGBA(image.Rect(0, 0, 224, 224))
	c.CenterInto(dst, frame, 256)
	if n := testing.AllocsPerRun(10, func() { c.CenterInto(dst, frame, 256) }); n != 0 {
		t.Errorf("cropping a frame of the last one's size allocated %v times, want 0", n)
	}
}

// BenchmarkCenterInto crops the pictures the engine meets, with a
// Cropper as the browser's engine does: a webcam frame (640 x 480, and
// HD), a small photo, and a 12-megapixel phone photo.
func BenchmarkCenterInto(b *testing.B) {
	for _, s := range []struct{ w, h int }{{640, 480}, {1280, 720}, {451, 300}, {4032, 3024}} {
		img := gradient(s.w, s.h)
		for i := 3; i < len(img.Pix); i += 4 {
			img.Pix[i] = 0xff // opaque, as photos and frames are
		}
		dst := image.NewRGBA(image.Rect(0, 0, 224, 224))
		b.Run(fmt.Sprintf("%dx%d", s.w, s.h), func(b *testing.B) {
			var c crop.Cropper // as the browser's engine crops
			b.ReportAllocs()
			for b.Loop() {
				c.CenterInto(dst, img, 256)
			}
		})
	}
}
