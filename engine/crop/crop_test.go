package crop_test

import (
	"bytes"
	"image"
	"image/color"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine/crop"
	"golang.org/x/image/draw"
)

// gradient is a w x h image whose every pixel differs from its neighbours.
func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(7 * x), uint8(5 * y), uint8(x + 3*y), 255})
		}
	}
	return img
}

// Center equals resizing the whole picture (draw's Scale, the same filter)
// and cutting out its centre, and CenterInto gives the same pixels in a
// reused buffer, even one that is part of a larger image.
func TestCenterIsScaleThenCrop(t *testing.T) {
	for _, c := range []struct{ w, h, resize, size int }{
		{640, 480, 256, 224}, {480, 640, 256, 224}, {300, 300, 256, 224}, {100, 60, 32, 28}, {2000, 90, 64, 56},
	} {
		img := gradient(c.w, c.h)
		got := crop.Center(img, c.resize, c.size)

		rw, rh := c.resize, c.resize
		if c.w < c.h {
			rh = (2*c.resize*c.h + c.w) / (2 * c.w)
		} else {
			rw = (2*c.resize*c.w + c.h) / (2 * c.h)
		}
		scaled := image.NewRGBA(image.Rect(0, 0, rw, rh))
		draw.BiLinear.Scale(scaled, scaled.Bounds(), img, img.Bounds(), draw.Src, nil)
		left, top := (rw-c.size)/2, (rh-c.size)/2
		want := scaled.SubImage(image.Rect(left, top, left+c.size, top+c.size)).(*image.RGBA)
		diff := 0
		for y := range c.size {
			for x := range c.size {
				g, w := got.RGBAAt(x, y), want.RGBAAt(left+x, top+y)
				for _, d := range []int{int(g.R) - int(w.R), int(g.G) - int(w.G), int(g.B) - int(w.B)} {
					if d > 1 || d < -1 {
						t.Fatalf("%dx%d: pixel (%d,%d) is %v, want %v", c.w, c.h, x, y, g, w)
					}
					if d != 0 {
						diff++
					}
				}
			}
		}
		if diff > c.size*c.size/100 {
			t.Errorf("%dx%d: %d values differ by one (rounding ties), more than 1%%", c.w, c.h, diff)
		}

		big := image.NewRGBA(image.Rect(0, 0, c.size+10, c.size+10))
		into := big.SubImage(image.Rect(5, 5, 5+c.size, 5+c.size)).(*image.RGBA)
		crop.CenterInto(into, img, c.resize)
		for y := range c.size {
			if !bytes.Equal(into.Pix[into.PixOffset(5, 5+y):into.PixOffset(5+c.size, 5+y)], got.Pix[got.PixOffset(0, y):got.PixOffset(c.size, y)]) {
				t.Fatalf("%dx%d: CenterInto a sub-image differs from Center in row %d", c.w, c.h, y)
			}
		}
	}
}
