// Package crop cuts the square a ShuffleNet sees out of decoded pixels:
// the picture resized so that its shorter side is a given length, with an
// antialiased bilinear filter (like PIL's and torchvision's bilinear
// resize), and its centre cut out. It is the one resize of the project:
// the CLI and the server use it on what they decode (engine/preprocess),
// the browser's engine on the pixels the page hands it, so that all give
// the same answer. It depends on no image decoder, so the browser's engine
// links none.
//
// The filter is x/image/draw's BiLinear, as its Scale applies it: the same
// weights, summed in the same order, so that the crop equals Scale's
// resize of the whole picture, cut. It is written out here rather than
// called because Scale resizes every row of the picture to its full
// width before cutting, and draw's Transform, which can compute the crop
// alone, evaluates the kernel in two dimensions at every output pixel:
// on a 12-megapixel photo that took 130 ms natively and several times
// that in a browser, where the crop runs for every picture and frame.
package crop

import (
	"image"
	"math"
)

// Center returns the size x size square at the centre of img resized so
// that its shorter side is resize pixels.
func Center(img image.Image, resize, size int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, size, size))
	CenterInto(dst, img, resize)
	return dst
}

// CenterInto is Center writing into dst, whose bounds give the crop's
// size (a square). It computes the crop's pixels only, from the source
// rows and columns they depend on, so its cost does not depend on the
// aspect ratio: a 1 x 1,000,000 image, whose resized form would be
// 256 x 256,000,000, costs what any other image does.
func CenterInto(dst *image.RGBA, img image.Image, resize int) {
	var c Cropper
	c.CenterInto(dst, img, resize)
}

// A Cropper crops as CenterInto does, keeping its scratch buffers and its
// filter's weights between calls: cropping a stream of frames of one size
// allocates nothing after the first. The zero value is ready to use; a
// Cropper crops one picture at a time.
type Cropper struct {
	geometry        [4]int64 // the picture's width and height, resize and size of the weights below
	cols, rows      axis
	line, ring, sum []float64
	held            []int
}

// CenterInto is the package's CenterInto, reusing c's buffers.
func (c *Cropper) CenterInto(dst *image.RGBA, img image.Image, resize int) {
	size := dst.Bounds().Dx()
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 || size <= 0 {
		return
	}
	if g := [4]int64{int64(w), int64(h), int64(resize), int64(size)}; g != c.geometry {
		// The long side is rounded to the nearest pixel, as Megvii's
		// OpencvResize does (torchvision truncates; the two differ by at
		// most one pixel of the resized image).
		rw, rh := int64(resize), int64(resize)
		if w < h {
			rh = max((2*int64(resize)*int64(h)+int64(w))/(2*int64(w)), int64(resize))
		} else {
			rw = max((2*int64(resize)*int64(w)+int64(h))/(2*int64(h)), int64(resize))
		}
		// The crop starts at (size - crop) / 2, rounded down.
		c.cols = bilinear(rw, int64(w), (rw-int64(size))/2, size)
		c.rows = bilinear(rh, int64(h), (rh-int64(size))/2, size)
		c.geometry = g
	}
	cols, rows := c.cols, c.rows

	// Each output row is a weighted sum of a few source rows, each first
	// resized across (to the crop's columns only). Output rows need
	// overlapping, ascending runs of source rows, so the resized rows are
	// kept in a ring as long as a run can be. Each output value sums its
	// taps in their order, from zero, as draw's does.
	span := 0
	for _, t := range rows {
		span = max(span, len(t.weights))
	}
	x0, x1 := cols.sourceRange()
	line := grow(&c.line, 4*(x1-x0))   // one source row, premultiplied, 16-bit scale
	ring := grow(&c.ring, 4*size*span) // resized rows, by source row modulo span
	held := grow(&c.held, span)        // which source row each ring slot holds
	sum := grow(&c.sum, 4*size)        // one output row, before its conversion to bytes
	for i := range held {
		held[i] = -1
	}
	resized := func(y int) []float64 {
		slot := y % span
		row := ring[4*size*slot : 4*size*(slot+1)]
		if held[slot] != y {
			fetchRow(line, img, b.Min.X+x0, b.Min.Y+y)
			cols.resizeRow(row, line, x0)
			held[slot] = y
		}
		return row
	}

	for dy, t := range rows {
		clear(sum)
		for k, wt := range t.weights {
			src := resized(t.first + k)
			sum := sum[:len(src)]
			for i, v := range src {
				// The conversion keeps each product rounded on its own, as
				// draw's are (Go may otherwise fuse a multiply and an add).
				sum[i] += float64(v * wt)
			}
		}
		out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+dy):]
		for i := 0; i < len(sum); i += 4 {
			r, g, b, a := sum[i], sum[i+1], sum[i+2], sum[i+3]
			r, g, b = below(r, a), below(g, a), below(b, a)
			out[i+0] = uint8(to16(r*t.norm) >> 8)
			out[i+1] = uint8(to16(g*t.norm) >> 8)
			out[i+2] = uint8(to16(b*t.norm) >> 8)
			out[i+3] = uint8(to16(a*t.norm) >> 8)
		}
	}
}

// grow answers (*buf)[:n], reallocating *buf only when it is too short.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	return (*buf)[:n]
}

// axis holds, for each output column (or row) of the crop, the source
// columns it is made of and their weights.
type axis []tap

// tap is one output pixel's source pixels: a run of them, from first on,
// one per weight.
type tap struct {
	first   int
	weights []float64 // the kernel's weights, not normalized
	norm    float64   // 1 / the weights' sum (0 where there are none)
}

// bilinear is the bilinear kernel's distribution of sw source pixels over
// dw resized ones, for the size resized pixels from first on: draw's
// distribution, whose support widens by the scale when shrinking so that
// every source pixel counts. Positions outside the resized picture (a
// crop larger than it) get no taps, and so zero.
func bilinear(dw, sw, first int64, size int) axis {
	scale := float64(sw) / float64(dw)
	halfWidth, argScale := 1.0, 1.0
	if scale > 1 {
		halfWidth, argScale = scale, 1/scale
	}
	center := func(x int) float64 { return float64((float64(first+int64(x))+0.5)*scale) - 0.5 }
	bounds := func(c float64) (lo, hi int64) {
		return max(int64(math.Floor(c-halfWidth)), 0), min(int64(math.Ceil(c+halfWidth)), sw)
	}
	n := int64(0)
	for x := range size {
		lo, hi := bounds(center(x))
		n += max(hi-lo, 0)
	}
	weights := make([]float64, 0, n) // all the taps' weights, one allocation
	taps := make(axis, size)
	for x := range taps {
		c := center(x)
		lo, hi := bounds(c)
		start := len(weights)
		t := tap{first: int(lo)}
		total := 0.0
		for s := lo; s < hi; s++ {
			// The kernel is zero at the run's ends only: it falls from
			// the centre both ways.
			d := math.Abs((c - float64(s)) * argScale)
			if d >= 1 {
				if len(weights) == start {
					t.first++
				}
				continue
			}
			weights = append(weights, 1-d)
			total += 1 - d
		}
		t.weights = weights[start:len(weights):len(weights)]
		if total > 0 {
			t.norm = 1 / total
		}
		taps[x] = t
	}
	return taps
}

// sourceRange is the source columns the taps use: [lo, hi).
func (ax axis) sourceRange() (lo, hi int) {
	lo, hi = math.MaxInt, 0
	for _, t := range ax {
		if n := len(t.weights); n > 0 {
			lo, hi = min(lo, t.first), max(hi, t.first+n)
		}
	}
	return min(lo, hi), hi
}

// resizeRow writes the taps' weighted sums of line (source columns from
// x0 on, 4 premultiplied 16-bit values each) to row, on draw's scale: its
// horizontal pass normalizes to [0, 1].
func (ax axis) resizeRow(row, line []float64, x0 int) {
	for dx, t := range ax {
		var r, g, b, a float64
		p := line[4*(t.first-x0):]
		p = p[:4*len(t.weights)]
		for k, wt := range t.weights {
			r += float64(p[4*k+0] * wt)
			g += float64(p[4*k+1] * wt)
			b += float64(p[4*k+2] * wt)
			a += float64(p[4*k+3] * wt)
		}
		n := t.norm / 0xffff
		row[4*dx+0], row[4*dx+1], row[4*dx+2], row[4*dx+3] = r*n, g*n, b*n, a*n
	}
}

// below is min(x, limit) for the sums here, which are never NaN. Go's
// WebAssembly calls a runtime function for a float's min, to honour NaN
// and signed zeros; a comparison is a few instructions, and the crop of a
// picture takes three per pixel.
func below(x, limit float64) float64 {
	if x > limit {
		return limit
	}
	return x
}

// to16 is draw's conversion of [0, 1] to [0, 0xffff]: rounded, clamped.
func to16(f float64) uint16 {
	i := int32(float64(0xffff*f) + 0.5)
	return uint16(min(max(i, 0), 0xffff))
}

// fetchRow writes len(line)/4 pixels of img's row y, from column x on,
// to line as premultiplied 16-bit RGBA: what color.Color's RGBA method
// gives, read directly for the pictures the page and the decoders make.
func fetchRow(line []float64, img image.Image, x, y int) {
	n := len(line) / 4
	switch src := img.(type) {
	case *image.NRGBA:
		pix := src.Pix[src.PixOffset(x, y):]
		for i := range n {
			a := uint32(pix[4*i+3]) * 0x101
			if a == 0xffff { // opaque, as photos are: v * 0xffff / 0xff
				line[4*i+0] = float64(uint32(pix[4*i+0]) * 0x101)
				line[4*i+1] = float64(uint32(pix[4*i+1]) * 0x101)
				line[4*i+2] = float64(uint32(pix[4*i+2]) * 0x101)
				line[4*i+3] = 0xffff
				continue
			}
			line[4*i+0] = float64(uint32(pix[4*i+0]) * a / 0xff)
			line[4*i+1] = float64(uint32(pix[4*i+1]) * a / 0xff)
			line[4*i+2] = float64(uint32(pix[4*i+2]) * a / 0xff)
			line[4*i+3] = float64(a)
		}
	case *image.RGBA:
		pix := src.Pix[src.PixOffset(x, y):]
		for i := range 4 * n {
			line[i] = float64(uint32(pix[i]) * 0x101)
		}
	case *image.YCbCr:
		for i := range n {
			r, g, b, a := src.YCbCrAt(x+i, y).RGBA()
			line[4*i+0], line[4*i+1], line[4*i+2], line[4*i+3] = float64(r), float64(g), float64(b), float64(a)
		}
	case *image.Gray:
		pix := src.Pix[src.PixOffset(x, y):]
		for i := range n {
			v := float64(uint32(pix[i]) * 0x101)
			line[4*i+0], line[4*i+1], line[4*i+2], line[4*i+3] = v, v, v, 0xffff
		}
	default:
		for i := range n {
			r, g, b, a := img.At(x+i, y).RGBA()
			line[4*i+0], line[4*i+1], line[4*i+2], line[4*i+3] = float64(r), float64(g), float64(b), float64(a)
		}
	}
}
