// Package featuremap renders one layer's feature maps as a single RGBA
// picture for people to look at: a mosaic of thumbnails, one per channel,
// each tinted with its channel's group colour, so that an explorer page can
// show how a group convolution keeps its groups apart and how the channel
// shuffle mixes them.
//
// The whole layer is scaled by one factor, not each map by its own range,
// so that a strong channel looks strong and a dead one looks dead.
package featuremap

import (
	"fmt"
	"math"
)

// MaxSide is the widest and tallest mosaic NewLayout makes: a canvas every
// browser draws, and a bound that keeps a Layout's sizes far from overflow.
const MaxSide = 1 << 14

// The mosaic's fixed colours, for a dark page: gaps and empty cells are
// darker than a map's zero, so that a dead channel still shows as a cell,
// and negative values (a 3x3 conv's output has no ReLU) fade to a neutral
// grey that no group colour resembles.
const (
	gapR, gapG, gapB    = 0x0e, 0x10, 0x14
	zeroR, zeroG, zeroB = 0x26, 0x2a, 0x33
	negR, negG, negB    = 0x8c, 0x8c, 0x8c
)

// Colour is an opaque sRGB colour.
type Colour struct{ R, G, B uint8 }

// palette is Okabe and Ito's colour-blind-safe set less its black, in their
// order (orange, sky blue, bluish green, yellow, blue, vermillion, reddish
// purple), then a violet, which Okabe-Ito lacks: under normal, protan, deutan
// and tritan vision (Machado et al. 2009) it is at least 25 CIELAB units from
// every other colour here, the negative grey and the zero colour, further
// than Okabe-Ito's own closest pair (about 16).
var palette = [8]Colour{
	{0xe6, 0x9f, 0x00},
	{0x56, 0xb4, 0xe9},
	{0x00, 0x9e, 0x73},
	{0xf0, 0xe4, 0x42},
	{0x00, 0x72, 0xb2},
	{0xd5, 0x5e, 0x00},
	{0xcc, 0x79, 0xa7},
	{0xaa, 0x55, 0xff},
}

// GroupColour returns group's colour: eight colour-blind-safe colours,
// readable on a dark background, the most distinct first (two groups get
// orange and sky blue), repeating from the ninth group on.
func GroupColour(group int) Colour {
	return palette[(group%len(palette)+len(palette))%len(palette)]
}

// GroupColours fills colours, one per channel, with each channel's group
// colour, the channels split into groups consecutive groups as a group
// convolution splits them: channel c is in group c/(len(colours)/groups).
func GroupColours(colours []Colour, groups int) error {
	if groups <= 0 || len(colours)%groups != 0 {
		return fmt.Errorf("featuremap: %d channels do not split into %d groups", len(colours), groups)
	}
	if len(colours) == 0 {
		return nil
	}
	per := len(colours) / groups
	for c := range colours {
		colours[c] = GroupColour(c / per)
	}
	return nil
}

// Layout is where each channel's map goes in a mosaic: a grid of Columns x
// Rows cells, filled row after row in channel order, each Size x Size map
// drawn Scale times its size (nearest neighbour), with Gap pixels between
// cells. The mosaic is Width x Height pixels.
type Layout struct {
	Channels, Size, Scale, Gap, Columns, Rows, Width, Height int
}

// NewLayout lays out channels maps of size x size in a near-square grid
// (as many columns as the square root of channels, rounded up, so the mosaic
// is never taller than it is wide), each drawn at the largest integer scale
// that keeps the mosaic within maxWidth (and MaxSide) pixels. Cells are 2
// pixels apart, or 1 where a drawn map is under 16 pixels wide. It is an
// error if an input is not positive or if the maps do not fit even at scale 1.
func NewLayout(channels, size, maxWidth int) (Layout, error) {
	if channels <= 0 || size <= 0 || maxWidth <= 0 {
		return Layout{}, fmt.Errorf("featuremap: %d maps of %dx%d in %d pixels: want positive sizes", channels, size, size, maxWidth)
	}
	maxWidth = min(maxWidth, MaxSide)
	if size > maxWidth || channels > maxWidth*maxWidth {
		return Layout{}, fmt.Errorf("featuremap: %d maps of %dx%d do not fit in %d pixels", channels, size, size, maxWidth)
	}
	columns := int(math.Ceil(math.Sqrt(float64(channels))))
	for columns*columns < channels {
		columns++
	}
	for columns > 1 && (columns-1)*(columns-1) >= channels {
		columns--
	}
	// columns cells of pitch p are columns*p - gap wide, within maxWidth
	// while p <= (maxWidth+gap)/columns.
	scaleFor := func(gap int) int { return ((maxWidth+gap)/columns - gap) / size }
	gap := 2
	scale := scaleFor(gap)
	if scale < 1 || size*scale < 16 {
		gap = 1
		scale = scaleFor(gap)
	}
	if scale < 1 {
		return Layout{}, fmt.Errorf("featuremap: %d maps of %dx%d do not fit in %d pixels", channels, size, size, maxWidth)
	}
	rows := (channels + columns - 1) / columns
	pitch := size*scale + gap
	return Layout{
		Channels: channels, Size: size, Scale: scale, Gap: gap,
		Columns: columns, Rows: rows,
		Width: columns*pitch - gap, Height: rows*pitch - gap,
	}, nil
}

// Cell returns the top-left pixel of channel c's map.
func (l Layout) Cell(c int) (x, y int) {
	pitch := l.Size*l.Scale + l.Gap
	return c % l.Columns * pitch, c / l.Columns * pitch
}

// check reports whether l is a layout Render can draw without reaching
// outside its buffers: NewLayout's, or one as consistent.
func (l Layout) check() error {
	for _, v := range [...]int{l.Channels, l.Size, l.Scale, l.Columns, l.Rows, l.Width, l.Height} {
		if v <= 0 || v > MaxSide {
			return fmt.Errorf("featuremap: invalid layout %+v", l)
		}
	}
	if l.Gap < 0 || l.Gap > MaxSide || l.Size*l.Scale > MaxSide {
		return fmt.Errorf("featuremap: invalid layout %+v", l)
	}
	pitch := l.Size*l.Scale + l.Gap
	if l.Width != l.Columns*pitch-l.Gap || l.Height != l.Rows*pitch-l.Gap ||
		l.Channels > l.Columns*l.Rows {
		return fmt.Errorf("featuremap: invalid layout %+v", l)
	}
	return nil
}

// Render draws maps (Channels maps of Size x Size floats, channel after
// channel, as a CNN writes them) into dst (4*Width*Height bytes of opaque
// RGBA), channel c's map tinted with colours[c] (len(colours) == Channels).
//
// Every value is divided by one level for the whole layer, the 99.5th
// percentile of |v| (to within 1/16 below it), so that a few outliers do
// not leave everything else dark. Positive values go from a dark grey (zero)
// towards the channel's colour, negative values towards a neutral grey,
// full at the level and beyond. NaN is drawn as zero, infinities as full.
// Gaps and unused cells are a darker background. Render does not allocate.
func (l Layout) Render(dst []byte, maps []float32, colours []Colour) error {
	if err := l.check(); err != nil {
		return err
	}
	n := l.Size * l.Size
	switch {
	case len(maps) != l.Channels*n:
		return fmt.Errorf("featuremap: %d floats for %d maps of %dx%d, want %d", len(maps), l.Channels, l.Size, l.Size, l.Channels*n)
	case len(dst) != 4*l.Width*l.Height:
		return fmt.Errorf("featuremap: %d bytes for a %dx%d picture, want %d", len(dst), l.Width, l.Height, 4*l.Width*l.Height)
	case len(colours) != l.Channels:
		return fmt.Errorf("featuremap: %d colours for %d maps", len(colours), l.Channels)
	}
	inv := 1 / level(maps)

	// The background everywhere, by doubling copies; the cells go over it.
	dst[0], dst[1], dst[2], dst[3] = gapR, gapG, gapB, 255
	for done := 4; done < len(dst); done *= 2 {
		copy(dst[done:], dst[:done])
	}

	stride, cellBytes := 4*l.Width, 4*l.Size*l.Scale
	// tint[sign] is how far a full value moves a pixel from zero's colour:
	// towards the channel's colour for a positive value, towards grey for a
	// negative one. Indexing it by the sign bit, and clamping with branches
	// that almost always go the same way, keeps the loop free of
	// mispredicted branches on the random signs of a 3x3 conv's output.
	tint := [2][3]float32{1: {negR - zeroR, negG - zeroG, negB - zeroB}}
	for c, colour := range colours {
		tint[0] = [3]float32{float32(colour.R) - zeroR, float32(colour.G) - zeroG, float32(colour.B) - zeroB}
		x0, y0 := l.Cell(c)
		for y, src := 0, maps[c*n:(c+1)*n]; y < l.Size; y, src = y+1, src[l.Size:] {
			at := (y0+y*l.Scale)*stride + 4*x0
			row := dst[at : at+cellBytes]
			i := 0
			for _, v := range src[:l.Size] {
				bits := math.Float32bits(v * inv)
				a := math.Float32frombits(bits &^ (1 << 31))
				if a > 1 {
					a = 1
				} else if a != a { // NaN
					a = 0
				}
				d := &tint[bits>>31]
				R, G, B := byte(zeroR+0.5+a*d[0]), byte(zeroG+0.5+a*d[1]), byte(zeroB+0.5+a*d[2])
				for range l.Scale {
					p := row[i : i+4 : i+4]
					p[0], p[1], p[2], p[3] = R, G, B, 255
					i += 4
				}
			}
			for k := 1; k < l.Scale; k++ {
				copy(dst[at+k*stride:at+k*stride+cellBytes], row)
			}
		}
	}
	return nil
}

// level returns the 99.5th percentile of |v| over maps, NaN counted as 0,
// rounded down to the bottom of its histogram bin (so the largest value of
// a small layer is drawn full) and at least the smallest normal float32, so
// that its inverse is finite. The bins are |v|'s float32 bits less the 19
// low mantissa bits, 16 to an octave, so one pass with no maximum first and
// a fixed array on the stack covers any range of values to within 1/16. If
// more than 1 value in 200 is infinite, the level is the largest finite
// one's; if none is finite, 1.
func level(maps []float32) float32 {
	const (
		shift   = 19
		infBin  = 0x7f800000 >> shift
		minimum = 0x1p-126
	)
	var hist [1 << (31 - shift)]uint32 // len(maps) <= MaxSide^2 < 2^32
	for _, v := range maps {
		bits := math.Float32bits(v) &^ (1 << 31)
		if bits > 0x7f800000 { // NaN
			bits = 0
		}
		hist[bits>>shift]++
	}
	bottom := func(bin int) float32 { return max(math.Float32frombits(uint32(bin)<<shift), minimum) }
	want, seen := uint32(len(maps)-len(maps)/200), uint32(0)
	for bin, count := range hist[:infBin] {
		if seen += count; seen >= want && want > 0 {
			return bottom(bin)
		}
	}
	for bin := infBin - 1; bin >= 0; bin-- {
		if hist[bin] > 0 {
			return bottom(bin)
		}
	}
	return 1
}
