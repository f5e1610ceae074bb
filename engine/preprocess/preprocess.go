// Package preprocess turns an encoded photo into the square RGBA crop a
// ShuffleNet sees: decode (JPEG, PNG, GIF, WebP, BMP, TIFF) with the JPEG's
// EXIF orientation applied, resize the shorter side with an antialiased
// bilinear filter, and cut out the centre. The model's own input
// convention (engine.InputConvention.FromRGBA) does the rest.
//
// Every image is a possible attack, so the work is bounded before it is
// spent: Inspect reads only the header and says what a decode will cost
// (pixels, memory, a time budget), Decode stops when its budget or its
// context runs out, and CenterCrop computes only the crop, whatever the
// image's aspect ratio.
package preprocess

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // register GIF
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"runtime"
	"time"

	"github.com/disintegration/imaging" // registers BMP and TIFF too
	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/engine/crop"
	_ "golang.org/x/image/webp" // register WebP
)

// DefaultMaxPixels bounds the images Decode accepts: 50 megapixels.
const DefaultMaxPixels = 50_000_000

// MaxAspectRatio bounds how much longer an image's long side may be than
// its short one. The widest panoramas are about 10:1; at 100:1 the centre
// crop is a sliver of the picture, and past that nothing in it is
// recognisable.
const MaxAspectRatio = 100

var (
	// ErrNotImage is wrapped by errors for data that is not an image in a supported format.
	ErrNotImage = errors.New("not a JPEG, PNG, GIF, WebP, BMP or TIFF image")
	// ErrTooLarge is wrapped by errors for images with too many pixels.
	ErrTooLarge = errors.New("image too large")
	// ErrAspectRatio is wrapped by errors for images more than
	// MaxAspectRatio times as long as they are wide, or the reverse.
	ErrAspectRatio = errors.New("image too narrow")
	// ErrTooSlow is wrapped by errors for images whose decoding took longer
	// than their Header.DecodeBudget: the slowest legitimate image of that
	// size takes a quarter of it, so the file is built to waste time (a JPEG
	// of thousands of empty progressive scans, say) or the machine is badly
	// overloaded.
	ErrTooSlow = errors.New("image too slow to decode")
)

// Header is what an image's header says about it: enough to decide
// whether, and when, to decode it.
type Header struct {
	Format        string // "jpeg", "png", ...
	Width, Height int
	colorModel    color.Model
}

// Inspect reads an image's header only, so that a small file that claims
// to be huge (a decompression bomb) is refused before any pixel is
// decoded: ErrNotImage for what is no image, ErrTooLarge for more than
// maxPixels pixels, ErrAspectRatio for a sliver.
func Inspect(data []byte, maxPixels int) (Header, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return Header{}, ErrNotImage
		}
		return Header{}, fmt.Errorf("%w: bad %s header: %v", ErrNotImage, format, err)
	}
	h := Header{Format: format, Width: cfg.Width, Height: cfg.Height, colorModel: cfg.ColorModel}
	if h.Width <= 0 || h.Height <= 0 {
		return Header{}, fmt.Errorf("%w: %s of %dx%d pixels", ErrNotImage, format, h.Width, h.Height)
	}
	if h.Pixels() > int64(maxPixels) {
		return Header{}, fmt.Errorf("%w: %dx%d is %.1f megapixels, the limit is %.0f", ErrTooLarge,
			h.Width, h.Height, float64(h.Pixels())/1e6, float64(maxPixels)/1e6)
	}
	if long, short := max(h.Width, h.Height), min(h.Width, h.Height); long > MaxAspectRatio*short {
		return Header{}, fmt.Errorf("%w: %dx%d is over %d:1, and its centre crop would show almost nothing of it", ErrAspectRatio,
			h.Width, h.Height, MaxAspectRatio)
	}
	return h, nil
}

// Pixels is Width x Height.
func (h Header) Pixels() int64 { return int64(h.Width) * int64(h.Height) }

// DecodeBytes is an upper bound on the memory that decoding the image
// takes: the decoded pixels in the decoder's own layout, plus what the
// decoder keeps beside them. A JPEG counts 3 bytes a pixel (4:4:4), 12 for
// the coefficients a progressive JPEG keeps (one int32 a component and
// pixel) and 4 for the copy that applying an EXIF rotation makes: 19 bytes
// a pixel, 950 MB for 50 megapixels, of which a baseline 4:2:0 photo uses
// 1.5 (TestDecodeBytesBoundsWhatDecodingAllocates measures it).
func (h Header) DecodeBytes() int64 {
	perPixel := int64(8) // 16-bit RGBA: the most any decoder here makes
	switch h.colorModel {
	case color.GrayModel, color.AlphaModel:
		perPixel = 1
	case color.Gray16Model, color.Alpha16Model:
		perPixel = 2
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		perPixel = 4
	}
	if _, paletted := h.colorModel.(color.Palette); paletted {
		perPixel = 1
	}
	switch h.Format {
	case "jpeg":
		perPixel = 3 + 12 + 4
	case "webp": // a lossless WebP keeps a uint32 a pixel beside its NRGBA result
		perPixel = 4 + 4
	case "tiff": // the decoder keeps the uncompressed strips beside the pixels
		perPixel *= 2
	}
	return h.Pixels()*perPixel + 1<<20
}

// DecodeBudget is how long decoding the image may take: half a second
// plus 250 ms a megapixel, twice that for 16-bit images, four times as
// much again in WebAssembly. That is about four times what the slowest
// legitimate images take on one core here: pure noise, which compresses
// worst, decodes at 60-66 ms a megapixel as an 8-bit PNG or a JPEG and
// 133-161 ms as a 16-bit PNG or TIFF; WebAssembly is 3-4 times slower.
// Past it, Decode gives up with ErrTooSlow.
func (h Header) DecodeBudget() time.Duration {
	perMegapixel := 250 * time.Millisecond
	switch h.colorModel {
	case color.Gray16Model, color.Alpha16Model, color.RGBA64Model, color.NRGBA64Model:
		perMegapixel *= 2
	}
	if runtime.GOARCH == "wasm" {
		perMegapixel *= 4
	}
	return 500*time.Millisecond + time.Duration(float64(perMegapixel)*float64(h.Pixels())/1e6)
}

// Decode decodes an image of at most maxPixels pixels, which Inspect
// checks first. It stops with ErrTooSlow when decoding takes longer than
// the image's DecodeBudget, and with ctx's error when ctx is done (a
// client that has gone away stops costing CPU).
func Decode(ctx context.Context, data []byte, maxPixels int) (image.Image, error) {
	h, err := Inspect(data, maxPixels)
	if err != nil {
		return nil, err
	}
	return h.Decode(ctx, data)
}

// Decode decodes data, whose header h is, within h's DecodeBudget and
// while ctx lasts.
func (h Header) Decode(ctx context.Context, data []byte) (image.Image, error) {
	budget := h.DecodeBudget()
	r := &boundedReader{ctx: ctx, deadline: time.Now().Add(budget), data: data}
	img, err := imaging.Decode(r, imaging.AutoOrientation(true))
	switch {
	case errors.Is(r.stopped, errBudget):
		return nil, fmt.Errorf("%w: decoding this %dx%d %s took longer than its budget of %v", ErrTooSlow, h.Width, h.Height, h.Format, budget)
	case r.stopped != nil:
		return nil, fmt.Errorf("decode %s: %w", h.Format, r.stopped)
	case err != nil:
		return nil, fmt.Errorf("%w: cannot decode %s: %v", ErrNotImage, h.Format, err)
	}
	return img, nil
}

var errBudget = errors.New("decode budget spent")

// readChunk is the most a boundedReader hands over at a time. A decoder can
// spend far more work on a byte than on a pixel (each few-byte progressive
// JPEG scan makes a pass over the whole image), so the reader checks its
// budget often: 64 bytes are at most a few such passes.
const readChunk = 64

// boundedReader hands a decoder its input a little at a time and fails
// once the deadline has passed or ctx is done. It reads the clock itself
// rather than waiting for ctx's timer, which cannot fire while a
// single-threaded WebAssembly program decodes.
type boundedReader struct {
	ctx      context.Context
	deadline time.Time
	data     []byte
	stopped  error // why the reader stopped early, if it did
}

func (r *boundedReader) Read(p []byte) (int, error) {
	if r.stopped != nil {
		return 0, r.stopped
	}
	now := time.Now()
	if now.After(r.deadline) {
		r.stopped = errBudget
	} else if err := r.ctx.Err(); err != nil {
		r.stopped = err
	} else if d, ok := r.ctx.Deadline(); ok && now.After(d) {
		r.stopped = context.DeadlineExceeded
	}
	if r.stopped != nil {
		return 0, r.stopped
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), readChunk)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// CenterCrop returns the crop x crop square at the centre of img resized
// so that its shorter side is resize pixels, with an antialiased bilinear
// filter: crop.Center, the resize the browser's engine uses too.
func CenterCrop(img image.Image, resize, size int) *image.RGBA {
	return crop.Center(img, resize, size)
}

// Tensor decodes an encoded image and returns the model input for it in
// the given convention (resize, centre crop, channel order, scaling).
func Tensor(ctx context.Context, data []byte, in engine.InputConvention, maxPixels int) ([]float32, error) {
	img, err := Decode(ctx, data, maxPixels)
	if err != nil {
		return nil, err
	}
	return FromImage(img, in)
}

// FromImage returns the model input for a decoded image.
func FromImage(img image.Image, in engine.InputConvention) ([]float32, error) {
	square := crop.Center(img, in.ResizeShort, in.Crop)
	t := make([]float32, 3*in.Crop*in.Crop)
	if err := in.FromRGBA(t, square.Pix, square.Stride); err != nil {
		return nil, err
	}
	return t, nil
}
