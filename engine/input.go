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
	// value = (pixel*Scale - Mean)/Std = pixel*gain + offset, per model channel.
	var gain, offset [3]float32
	var source [3]int // which RGBA byte feeds each model channel
	for ch := range 3 {
		gain[ch] = c.Scale / c.Std[ch]
		offset[ch] = -c.Mean[ch] / c.Std[ch]
		source[ch] = ch
		if c.BGR {
			source[ch] = 2 - ch
		}
	}
	plane := size * size
	for y := range size {
		row := pix[y*stride : y*stride+4*size]
		for x := range size {
			px := row[4*x : 4*x+4]
			for ch := range 3 {
				dst[ch*plane+y*size+x] = float32(px[source[ch]])*gain[ch] + offset[ch]
			}
		}
	}
	return nil
}
