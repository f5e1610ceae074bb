//go:build goexperiment.simd && amd64

package engine

import (
	"math"
	"simd/archsimd"
)

// pool3x3s2AVX2 runs the pools on CPUs without AVX-512, 8 outputs of a
// row at a time, and gives exactly what the portable pools give.
//
// Each input row's 16 columns under the 8 outputs, two vectors, split into
// their even columns 2x and odd columns 2x+1 with one in-lane shuffle each
// (VSHUFPS), where a split in lane order takes two permutations and two
// 128-bit selections. The shuffles leave the outputs in the order 0 1 4 5
// 2 3 6 7: the kernels compute in that order and permute once, before the
// store. The columns 2x-1 are the odd columns one output on: AVX2 has no
// two-source lane-crossing permutation, so they are permuted within their
// vector, and lane 0, which gets the last of them, is replaced from the
// previous vector's permutation, or in a row's first vector with the
// padding, the identity of the combination.
//
// The average pool adds in avgPool3x3s2ReLU's order, each row's three
// columns left to right, the rows top to bottom, then divides by 9 and
// takes the ReLU. Its padding is -0, which added to any x gives x, so the
// first output's row sums are the portable r[0]+r[1] too. The portable
// sums start from +0, these do not, which can only change the sign of a
// zero sum; the ReLU makes every zero +0 and keeps NaN, as Go's max does,
// by clearing the quotients <= 0. VMAXPS, which returns its second
// operand where both are zeros or one is NaN, would not do: the compiler
// takes it as commutative and may swap its operands.
//
// For the same reason the max pool compares keys instead of floats: the
// bits of a float as an int32, the magnitudes of the negative ones
// flipped, which orders them as Go's max does (-0 < +0) under a signed
// comparison (VPMAXSD), then moved down by 2^23-1, so that the negative
// NaNs, which x86 makes, wrap around above +Inf to join the positive ones.
// A window's maximum is its largest float, or a NaN where it holds one.
//
// A row's last, partial vector reads up to 14 floats past the row (past
// the map, into its room; see mapRoom) and writes past the row into the
// next row's outputs, which are made after it. The store is masked, slow
// on AMD's cores, only where it would pass the last output.
//
// On a Zen 3 core the max pool of Megvii g3 1.0x took 0.074 ms against
// the portable pool's 0.66, and its average pools 0.125 ms against 0.56
// (medians of 8 runs). Much of the average pools' time is the division
// by 9, which a multiplication by 1/9 would not round the same.
type pool3x3s2AVX2 struct{}

func (pool3x3s2AVX2) run(p *pool3x3s2, dst, src []float32) {
	if p.average {
		avgPool3x3s2ReLUAVX2(dst, src, p.channels, p.inSize)
	} else {
		maxPool3x3s2AVX2(dst, src, p.channels, p.inSize)
	}
}

// Constant tables of the pools (see pool3x3s2AVX2): the lane numbers, the
// permutation that puts the outputs in order, and the one that moves the
// odd columns on by one output, lane 0 taking the last.
var (
	poolLanes   = [8]int32{0, 1, 2, 3, 4, 5, 6, 7}
	poolInOrder = [8]uint32{0, 1, 4, 5, 2, 3, 6, 7}
	poolOn      = [8]uint32{7, 0, 5, 2, 1, 4, 3, 6}
)

// poolKeyBias moves the keys of the max pool down (see pool3x3s2AVX2).
const poolKeyBias = 1<<23 - 1

func maxPool3x3s2AVX2(dst, src []float32, channels, inSize int) {
	const n = 8
	is, os := inSize, inSize/2
	total := channels * os * os
	lanes := archsimd.LoadInt32x8(&poolLanes)
	inOrder, on := archsimd.LoadUint32x8(&poolInOrder), archsimd.LoadUint32x8(&poolOn)
	var zero archsimd.Int32x8
	first := lanes.Equal(zero)
	magnitude, bias := archsimd.BroadcastInt32x8(math.MaxInt32), archsimd.BroadcastInt32x8(poolKeyBias)
	minusInf := archsimd.BroadcastInt32x8(math.MinInt32) // the key of -Inf
	for c := range channels {
		in := src[c*is*is:]
		for y := range os {
			// Padding never wins a max: the first row repeats its centre row.
			above, mid, below := in[max(2*y-1, 0)*is:], in[2*y*is:], in[(2*y+1)*is:]
			at := c*os*os + y*os
			left := minusInf
			for x := 0; x < os; x += n {
				col := 2 * x
				a := (*[2 * n]float32)(above[col : col+2*n])
				m := (*[2 * n]float32)(mid[col : col+2*n])
				b := (*[2 * n]float32)(below[col : col+2*n])
				v0 := poolKey(m[:n], magnitude, bias).Max(poolKey(a[:n], magnitude, bias)).Max(poolKey(b[:n], magnitude, bias))
				v1 := poolKey(m[n:], magnitude, bias).Max(poolKey(a[n:], magnitude, bias)).Max(poolKey(b[n:], magnitude, bias))
				evens := v0.SelectFromPairGrouped(0, 2, 4, 6, v1)
				odds := v0.SelectFromPairGrouped(1, 3, 5, 7, v1)
				moved := odds.Permute(on)
				pooled := evens.Max(odds).Max(left.Merge(moved, first))
				left = moved
				poolStore(poolFloat(pooled, magnitude, bias).Permute(inOrder), dst, at+x, os-x, total, lanes)
			}
		}
	}
}

// poolKey returns the keys of the floats x (see pool3x3s2AVX2), given
// magnitude, math.MaxInt32 in every lane, and bias, poolKeyBias.
//
// It masks the sign bits copied by an arithmetic shift rather than shift
// them logically: the compiler gives a logical shift its count in an XMM
// register, moved there with the SSE MOVQ, which stalled the AVX2 code
// around it and made the max pool slower than the portable one.
func poolKey(x []float32, magnitude, bias archsimd.Int32x8) archsimd.Int32x8 {
	i := archsimd.LoadFloat32x8((*[8]float32)(x)).AsInt32x8()
	return i.Xor(i.ShiftAllRight(31).And(magnitude)).Sub(bias)
}

// poolFloat returns the floats of the keys k, undoing poolKey.
func poolFloat(k, magnitude, bias archsimd.Int32x8) archsimd.Float32x8 {
	i := k.Add(bias)
	return i.Xor(i.ShiftAllRight(31).And(magnitude)).AsFloat32x8()
}

func avgPool3x3s2ReLUAVX2(dst, src []float32, channels, inSize int) {
	const n = 8
	is, os := inSize, inSize/2
	total := channels * os * os
	lanes := archsimd.LoadInt32x8(&poolLanes)
	inOrder, on := archsimd.LoadUint32x8(&poolInOrder), archsimd.LoadUint32x8(&poolOn)
	first := lanes.Equal(archsimd.Int32x8{})
	var zero archsimd.Float32x8
	minusZero := archsimd.BroadcastFloat32x8(float32(math.Copysign(0, -1)))
	nine := archsimd.BroadcastFloat32x8(9)
	for c := range channels {
		in := src[c*is*is:]
		for y := range os {
			// The first row's row above is padding, which adds nothing.
			above, mid, below := in[max(2*y-1, 0)*is:], in[2*y*is:], in[(2*y+1)*is:]
			at := c*os*os + y*os
			leftAbove, leftMid, leftBelow := minusZero, minusZero, minusZero
			for x := 0; x < os; x += n {
				col := 2 * x
				sum, moved := poolRowSum(mid[col:col+2*n], leftMid, on, first)
				leftMid = moved
				if y > 0 {
					var s archsimd.Float32x8
					s, leftAbove = poolRowSum(above[col:col+2*n], leftAbove, on, first)
					sum = s.Add(sum)
				}
				s, moved := poolRowSum(below[col:col+2*n], leftBelow, on, first)
				sum, leftBelow = sum.Add(s), moved
				q := sum.Div(nine)
				pooled := q.AsInt32x8().AndNot(q.LessEqual(zero).ToInt32x8()).AsFloat32x8()
				poolStore(pooled.Permute(inOrder), dst, at+x, os-x, total, lanes)
			}
		}
	}
}

// poolRowSum returns the sums of columns 2x-1, 2x and 2x+1 of the input
// row r[:16] under 8 outputs x, in the pools' lane order, given left, the
// previous vector's moved odd columns or the padding; and its own.
func poolRowSum(r []float32, left archsimd.Float32x8, on archsimd.Uint32x8, first archsimd.Mask32x8) (sum, moved archsimd.Float32x8) {
	r16 := (*[16]float32)(r)
	a := archsimd.LoadFloat32x8((*[8]float32)(r16[:8]))
	b := archsimd.LoadFloat32x8((*[8]float32)(r16[8:]))
	odds := a.SelectFromPairGrouped(1, 3, 5, 7, b)
	moved = odds.Permute(on)
	return left.Merge(moved, first).Add(a.SelectFromPairGrouped(0, 2, 4, 6, b)).Add(odds), moved
}

// poolStore stores v, the outputs from dst[at] on of which the first valid
// are a row's, whole unless that would pass total, the outputs' end.
func poolStore(v archsimd.Float32x8, dst []float32, at, valid, total int, lanes archsimd.Int32x8) {
	out := (*[8]float32)(dst[at : at+8])
	if at+8 <= total {
		v.Store(out)
		return
	}
	v.StoreMasked(out, archsimd.BroadcastInt32x8(int32(valid)).Greater(lanes))
}
