// Package crop cuts the square a ShuffleNet sees out of decoded pixels:
// the picture resized so that its shorter side is a given length, with an
// antialiased bilinear filter (like PIL's and torchvision's bilinear
// resize), and its centre cut out. It is the one resize of the project:
// the CLI and the server use it on what they decode (engine/preprocess),
// the browser's engine on the pixels the page hands it, so that all give
// the same answer. It depends on no image decoder, so the browser's engine
// links none.
package crop

import (
	"image"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"
)

// Center returns the size x size square at the centre of img resized so
// that its shorter side is resize pixels.
func Center(img image.Image, resize, size int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, size, size))
	CenterInto(dst, img, resize)
	return dst
}

// CenterInto is Center writing into dst, whose bounds give the crop's
// size (a square). It computes the crop's pixels only, in one step from
// the source, so its cost does not depend on the aspect ratio: a 1 x
// 1,000,000 image, whose resized form would be 256 x 256,000,000, costs
// what any other image does.
func CenterInto(dst *image.RGBA, img image.Image, resize int) {
	size := dst.Bounds().Dx()
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	// The long side is rounded to the nearest pixel, as Megvii's
	// OpencvResize does (torchvision truncates; the two differ by at most
	// one pixel of the resized image).
	rw, rh := int64(resize), int64(resize)
	if w < h {
		rh = max((2*int64(resize)*int64(h)+int64(w))/(2*int64(w)), int64(resize))
	} else {
		rw = max((2*int64(resize)*int64(w)+int64(h))/(2*int64(h)), int64(resize))
	}
	// The crop starts at (size - crop) / 2, rounded down.
	left, top := (rw-int64(size))/2, (rh-int64(size))/2

	// The affine map from source pixels to the crop: scale to the resized
	// size, then shift the crop's corner to the origin. draw's Transform
	// samples the source with the kernel widened by the scale, exactly as
	// its Scale does for the whole image (they agree to the last bit but
	// for rare rounding ties).
	sx, sy := float64(rw)/float64(w), float64(rh)/float64(h)
	toCrop := f64.Aff3{
		sx, 0, -float64(b.Min.X)*sx - float64(left) + float64(dst.Rect.Min.X),
		0, sy, -float64(b.Min.Y)*sy - float64(top) + float64(dst.Rect.Min.Y),
	}
	draw.BiLinear.Transform(dst, toCrop, img, b, draw.Src, nil)
}
