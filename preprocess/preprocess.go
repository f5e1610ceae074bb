// Package preprocess turns an encoded photo into the square RGBA crop a
// ShuffleNet sees: decode (JPEG, PNG, GIF, WebP) with the JPEG's EXIF
// orientation applied, resize the shorter side with an antialiased
// bilinear filter, and cut out the centre. The model's own input
// convention (engine.InputConvention.FromRGBA) does the rest.
package preprocess

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // register GIF
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG

	"github.com/disintegration/imaging"
	"github.com/shufflenet-go/shufflenet/engine"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // register WebP
)

// DefaultMaxPixels bounds the images Decode accepts: 50 megapixels.
const DefaultMaxPixels = 50_000_000

var (
	// ErrNotImage is wrapped by errors for data that is not an image in a supported format.
	ErrNotImage = errors.New("not a JPEG, PNG, GIF or WebP image")
	// ErrTooLarge is wrapped by errors for images with too many pixels.
	ErrTooLarge = errors.New("image too large")
)

// Decode decodes an image of at most maxPixels pixels. The dimensions are
// read from the header first, so a small file that claims to be huge (a
// decompression bomb) is refused before any pixel is decoded.
func Decode(data []byte, maxPixels int) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, ErrNotImage
		}
		return nil, fmt.Errorf("%w: bad %s header: %v", ErrNotImage, format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: %s of %dx%d pixels", ErrNotImage, format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, fmt.Errorf("%w: %dx%d is %.1f megapixels, the limit is %.0f", ErrTooLarge,
			cfg.Width, cfg.Height, float64(cfg.Width)*float64(cfg.Height)/1e6, float64(maxPixels)/1e6)
	}
	img, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	if err != nil {
		return nil, fmt.Errorf("%w: cannot decode %s: %v", ErrNotImage, format, err)
	}
	return img, nil
}

// CenterCrop resizes img so that its shorter side is resize pixels, with
// an antialiased bilinear filter (like PIL's and torchvision's bilinear
// resize), then returns the crop x crop square at its centre.
func CenterCrop(img image.Image, resize, crop int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	// The long side is rounded to the nearest pixel, as Megvii's
	// OpencvResize does (torchvision truncates; the two differ by at most
	// one pixel of the resized image).
	rw, rh := resize, resize
	if w < h {
		rh = max((2*resize*h+w)/(2*w), resize)
	} else {
		rw = max((2*resize*w+h)/(2*h), resize)
	}
	resized := image.NewRGBA(image.Rect(0, 0, rw, rh))
	draw.BiLinear.Scale(resized, resized.Bounds(), img, b, draw.Src, nil)

	// The crop starts at (size - crop) / 2, rounded down.
	left, top := (rw-crop)/2, (rh-crop)/2
	out := image.NewRGBA(image.Rect(0, 0, crop, crop))
	draw.Copy(out, image.Point{}, resized, image.Rect(left, top, left+crop, top+crop), draw.Src, nil)
	return out
}

// Tensor decodes an encoded image and returns the model input for it in
// the given convention (resize, centre crop, channel order, scaling).
func Tensor(data []byte, in engine.InputConvention, maxPixels int) ([]float32, error) {
	img, err := Decode(data, maxPixels)
	if err != nil {
		return nil, err
	}
	crop := CenterCrop(img, in.ResizeShort, in.Crop)
	t := make([]float32, 3*in.Crop*in.Crop)
	if err := in.FromRGBA(t, crop.Pix, crop.Stride); err != nil {
		return nil, err
	}
	return t, nil
}
