//go:build goexperiment.simd && amd64

package engine

import (
	"math"
	"simd/archsimd"
)

// pool3x3s2AVX512 makes 16 outputs of a row at a time. It combines (max
// or sum) the three input rows under them column by column, 32 columns in
// two vectors, and splits those into the even and the odd columns: output
// x combines even column 2x with odd columns 2x+1 and 2x-1, the last taken
// from the previous 32 columns, or for the first output, where it is
// padding, the combination's identity (-Inf or 0).
type pool3x3s2AVX512 struct{}

func (pool3x3s2AVX512) run(p *pool3x3s2, dst, src []float32) {
	if p.average {
		avgPool3x3s2ReLUAVX512(dst, src, p.channels, p.inSize)
	} else {
		maxPool3x3s2AVX512(dst, src, p.channels, p.inSize)
	}
}

func maxPool3x3s2AVX512(dst, src []float32, channels, inSize int) {
	const n = vectorLanes
	is, os := inSize, inSize/2
	even, odd, shift := columnSplit()
	minusInf := archsimd.BroadcastFloat32x16(float32(math.Inf(-1)))
	for c := range channels {
		in, out := src[c*is*is:], dst[c*os*os:]
		for y := range os {
			// Padding never wins a max: the first row repeats its centre row.
			above, mid, below := in[max(2*y-1, 0)*is:], in[2*y*is:], in[(2*y+1)*is:]
			left := minusInf
			for x := 0; x < os; x += n {
				col := 2 * x
				m0 := archsimd.Mask32x16FromBits(tailMask(is, col/n))
				m1 := archsimd.Mask32x16FromBits(tailMask(is, col/n+1))
				v0 := archsimd.LoadMaskedFloat32x16((*[n]float32)(mid[col:col+n]), m0).
					Max(archsimd.LoadMaskedFloat32x16((*[n]float32)(above[col:col+n]), m0)).
					Max(archsimd.LoadMaskedFloat32x16((*[n]float32)(below[col:col+n]), m0))
				v1 := archsimd.LoadMaskedFloat32x16((*[n]float32)(mid[col+n:col+2*n]), m1).
					Max(archsimd.LoadMaskedFloat32x16((*[n]float32)(above[col+n:col+2*n]), m1)).
					Max(archsimd.LoadMaskedFloat32x16((*[n]float32)(below[col+n:col+2*n]), m1))
				evens, odds := v0.ConcatPermute(v1, even), v0.ConcatPermute(v1, odd)
				pooled := evens.Max(odds).Max(left.ConcatPermute(odds, shift))
				left = odds
				pooled.StoreMasked((*[n]float32)(out[y*os+x:y*os+x+n]), archsimd.Mask32x16FromBits(tailMask(os, x/n)))
			}
		}
	}
}

func avgPool3x3s2ReLUAVX512(dst, src []float32, channels, inSize int) {
	const n = vectorLanes
	is, os := inSize, inSize/2
	even, odd, shift := columnSplit()
	var zero archsimd.Float32x16
	nine := archsimd.BroadcastFloat32x16(9)
	for c := range channels {
		in, out := src[c*is*is:], dst[c*os*os:]
		for y := range os {
			above, mid, below := in[max(2*y-1, 0)*is:], in[2*y*is:], in[(2*y+1)*is:]
			left := zero
			for x := 0; x < os; x += n {
				col := 2 * x
				m0 := archsimd.Mask32x16FromBits(tailMask(is, col/n))
				m1 := archsimd.Mask32x16FromBits(tailMask(is, col/n+1))
				v0 := archsimd.LoadMaskedFloat32x16((*[n]float32)(mid[col:col+n]), m0).
					Add(archsimd.LoadMaskedFloat32x16((*[n]float32)(below[col:col+n]), m0))
				v1 := archsimd.LoadMaskedFloat32x16((*[n]float32)(mid[col+n:col+2*n]), m1).
					Add(archsimd.LoadMaskedFloat32x16((*[n]float32)(below[col+n:col+2*n]), m1))
				if y > 0 { // the first row's row above is padding
					v0 = v0.Add(archsimd.LoadMaskedFloat32x16((*[n]float32)(above[col:col+n]), m0))
					v1 = v1.Add(archsimd.LoadMaskedFloat32x16((*[n]float32)(above[col+n:col+2*n]), m1))
				}
				evens, odds := v0.ConcatPermute(v1, even), v0.ConcatPermute(v1, odd)
				sum := evens.Add(odds).Add(left.ConcatPermute(odds, shift))
				left = odds
				sum.Div(nine).Max(zero).StoreMasked((*[n]float32)(out[y*os+x:y*os+x+n]), archsimd.Mask32x16FromBits(tailMask(os, x/n)))
			}
		}
	}
}

// columnSplit returns the lane permutations that take 32 consecutive
// columns, two vectors, to their even and their odd columns, and the one
// that moves a vector up a lane, bringing in the previous vector's last.
func columnSplit() (even, odd, shift archsimd.Uint32x16) {
	var e, o, s [vectorLanes]uint32
	for l := range uint32(vectorLanes) {
		e[l], o[l], s[l] = 2*l, 2*l+1, l+vectorLanes-1
	}
	return archsimd.LoadUint32x16(&e), archsimd.LoadUint32x16(&o), archsimd.LoadUint32x16(&s)
}
