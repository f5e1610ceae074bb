// Package heatmap renders a class activation map (a coarse grid of
// evidence, 7x7 for a 224 input) as a translucent colour overlay for the
// picture it was computed on.
package heatmap

import "math"

// Render upsamples the side x side map cam to size x size with bilinear
// interpolation (sample centres aligned, as a picture is scaled), normalises
// it to its own range, and writes RGBA pixels to dst (4*size*size bytes):
// a blue-to-red colour scale whose opacity grows with the evidence, so that
// the picture shows through where the network did not look.
func Render(dst []byte, cam []float32, side, size int) {
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range cam[:side*side] {
		lo, hi = min(lo, v), max(hi, v)
	}
	span := hi - lo
	if !(span > 0) {
		span = 1
	}
	at := func(x, y int) float32 { return (cam[y*side+x] - lo) / span }
	scale := float32(side) / float32(size)
	for y := range size {
		fy := nonNegative((float32(y)+0.5)*scale - 0.5)
		y0 := min(int(fy), side-1)
		y1, wy := min(y0+1, side-1), fy-float32(y0)
		for x := range size {
			fx := nonNegative((float32(x)+0.5)*scale - 0.5)
			x0 := min(int(fx), side-1)
			x1, wx := min(x0+1, side-1), fx-float32(x0)
			v := (at(x0, y0)*(1-wx)+at(x1, y0)*wx)*(1-wy) + (at(x0, y1)*(1-wx)+at(x1, y1)*wx)*wy
			r, g, b := colour(v)
			p := dst[4*(y*size+x):][:4]
			p[0], p[1], p[2], p[3] = r, g, b, byte(40+175*v)
		}
	}
}

// colour maps 0..1 to a blue, cyan, green, yellow, red scale.
func colour(v float32) (r, g, b byte) {
	return unit(4*v - 2), unit(2 - abs(4*v-2)), unit(2 - 4*v)
}

// unit maps 0..1 to 0..255, clamping. It and nonNegative compare rather
// than call min and max: Go's WebAssembly calls a runtime function for a
// float's min or max (for NaN and signed zeros), and the map takes seven
// a pixel.
func unit(x float32) byte {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 255
	}
	return byte(255 * x)
}

func nonNegative(x float32) float32 {
	if x < 0 {
		return 0
	}
	return x
}

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
