package engine

import "fmt"

// FromRGBA writes the model input for a square RGBA image of Crop x Crop
// pixels into dst (3 x Crop x Crop, planar). pix holds rows of stride bytes,
// four bytes (R, G, B, A) per pixel, as image.RGBA and a canvas's ImageData
// store them; alpha is ignored. The browser and the native path both end
// here, so both give the network the same numbers for the same pixels.
func (c InputConvention) FromRGBA(dst []float32, pix []byte, stride int) error {
	size := c.Crop
	if len(dst) != 3*size*size {
		return fmt.Errorf("input tensor has %d values, want %d (3x%dx%d)", len(dst), 3*size*size, size, size)
	}
	if stride < 4*size || len(pix) < (size-1)*stride+4*size {
		return fmt.Errorf("pixels: %d bytes with stride %d cannot hold %dx%d RGBA", len(pix), stride, size, size)
	}
	// value = (pixel*Scale - Mean)/Std = pixel*gain + offset, per model
	// channel; channel[b] is the model channel RGBA byte b feeds.
	channel := [3]int{0, 1, 2}
	if c.BGR {
		channel = [3]int{2, 1, 0}
	}
	var gain, offset [3]float32
	var planes [3][]float32
	for b, ch := range channel {
		gain[b] = c.Scale / c.Std[ch]
		offset[b] = -c.Mean[ch] / c.Std[ch]
		planes[b] = dst[ch*size*size : (ch+1)*size*size]
	}
	// One pixel's three values per step, with no index arithmetic per
	// value: in a browser the first classification runs this before V8
	// optimizes anything, where each step of a Go loop costs a jump table.
	for y := range size {
		row := pix[y*stride : y*stride+4*size]
		r, g, b := planes[0][y*size:(y+1)*size], planes[1][y*size:(y+1)*size], planes[2][y*size:(y+1)*size]
		for x := range size {
			px := (*[4]byte)(row[4*x:])
			r[x] = float32(px[0])*gain[0] + offset[0]
			g[x] = float32(px[1])*gain[1] + offset[1]
			b[x] = float32(px[2])*gain[2] + offset[2]
		}
	}
	return nil
}

// finite reports whether v is neither NaN nor infinite (for those, v-v
// is NaN).
func finite(v float32) bool { return v-v == 0 }

// CheckFinite reports the first value of a 3 x size x size input tensor
// that is NaN or infinite, by channel, row and column: such a value
// spreads through every layer and makes every label's probability NaN.
func CheckFinite(input []float32, size int) error {
	for i, x := range input {
		if !finite(x) {
			c, rest := i/(size*size), i%(size*size)
			return fmt.Errorf("value %g at channel %d, row %d, column %d: the input must be finite", x, c, rest/size, rest%size)
		}
	}
	return nil
}
