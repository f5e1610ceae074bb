package simd128

import (
	"math"

	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
	"github.com/shufflenet-go/shufflenet/internal/wasmenc"
)

// The fused build's stem kernel computes a tile of 6 output channels by
// 8 pixels (two vectors of a row) at a time, its 12 sums in registers:
// each of the 27 taps (3 input channels by 3x3) is two input vectors, and
// for each of the 6 channels a weight and two fused multiply-adds. The
// sums start from the bias and add the taps in the weights' order, input
// channel by input channel, w0*in0 first.
//
// The conv kernel ran the stem an output channel and an input channel at
// a time, nine taps into the output plane and back, three times per
// output: in Chromium (BenchmarkLayers on this 2-core VM, 2026-12-07) at
// 10.6 GMAC/s, the slowest layer per MAC of Megvii g3 0.5x; this kernel
// runs it in 0.25 ms instead of 0.38 (16.5 GMAC/s), and Megvii g3 1.0x's
// in 0.44 ms instead of 0.60. Blocks of 6 channels instead of 4 then took
// the first from 15-22 GMAC/s to 19-23.5 (the same day, alternating
// runs). (The conv kernel's figures in conv3x3.go are
// from an earlier build on another day.) Its fixed-size variant for the stem was also the module's
// largest function, 30 KB, which Chromium's optimizing compiler took 90 to
// 130 ms to compile while the first classifications ran on baseline code;
// this one is about 5 KB.
//
// The output is StemSize x StemSize, so every tap is a constant offset
// from the tile's pointer and a row is 14 whole tiles.

const (
	stemRowFloats   = 2*abi.StemSize + 1                   // a Pad2 row: the padding column, the odd columns, the even ones
	stemPlaneFloats = (2*abi.StemSize + 1) * stemRowFloats // a Pad2 plane: a row of zeros, then the input's rows
	stemOutPlane    = 4 * abi.StemSize * abi.StemSize      // bytes of an output plane
	stemTile        = 8                                    // pixels of a tile
)

// stemRows is how many output channels a block of the stem computes: 6
// by 2 vectors are 12 sums, enough to keep the FMA units busy (see
// writePointwise).
const stemRows = 6

// writeStem writes stem(dst, padded, weights, bias, out, relu) (abi.Stem):
// blocks of stemRows output channels, then a last one of 4 or 2.
func writeStem(m *wasmenc.Module) {
	i32, v128 := wasmenc.I32, wasmenc.V128
	f, param := export(m, abi.Stem)
	dst, padded, weights, bias, out, relu := param("dst"), param("padded"), param("weights"), param("bias"), param("out"), param("relu")
	blocks, inRow, outRow, y, x, p := f.Local(i32), f.Local(i32), f.Local(i32), f.Local(i32), f.Local(i32), f.Local(i32)
	var sums [stemRows][2]wasmenc.Local
	for r := range sums {
		sums[r] = [2]wasmenc.Local{f.Local(v128), f.Local(v128)}
	}
	in := [2]wasmenc.Local{f.Local(v128), f.Local(v128)}
	w, floor, zeroSign := f.Local(v128), f.Local(v128), f.Local(v128)

	// floor is what the sums are raised to: 0 for the ReLU, else -Inf
	// (pmax(x, -Inf) is x). Then zeroSign is added, which changes nothing
	// but a -0: +0 for the ReLU, to make it +0 as max(x, 0) does (see
	// relu), else -0, which leaves it -0.
	minusInf := math.Float32bits(float32(math.Inf(-1)))
	minusZero := math.Float32bits(float32(math.Copysign(0, -1)))
	f.Set(floor, f.Select(zero(f), f.V128Const([4]uint32{minusInf, minusInf, minusInf, minusInf}), f.Get(relu)))
	f.Set(zeroSign, f.Select(zero(f), f.V128Const([4]uint32{minusZero, minusZero, minusZero, minusZero}), f.Get(relu)))

	// block computes output channels 0 to rows-1 of dst, weights and bias,
	// then moves them past those channels.
	block := func(rows int) {
		f.Set(inRow, f.Get(padded))
		f.Set(outRow, f.Get(dst))
		f.Set(y, f.I32Const(abi.StemSize))
		f.Loop(func(nextRow wasmenc.Label) {
			f.Set(x, f.I32Const(0))
			f.Loop(func(nextTile wasmenc.Label) {
				f.Set(p, f.I32Add(f.Get(inRow), f.Get(x)))
				for r := range rows {
					f.Set(sums[r][0], f.V128Load32Splat(f.Get(bias), uint32(4*r)))
					f.Set(sums[r][1], f.Get(sums[r][0]))
				}
				for t := range 27 {
					channel, ky, kx := t/9, t%9/3, t%3
					at := channel*stemPlaneFloats + ky*stemRowFloats
					switch kx {
					case 0:
						// column 2x-1: the odd column before
					case 1:
						at += abi.StemSize + 1 // column 2x
					case 2:
						at++ // column 2x+1
					}
					for v := range in {
						f.Set(in[v], f.V128Load(f.Get(p), uint32(4*at+16*v)))
					}
					for r := range rows {
						f.Set(w, f.V128Load32Splat(f.Get(weights), uint32(4*(27*r+t))))
						for v := range in {
							f.Set(sums[r][v], f.F32x4RelaxedMadd(f.Get(w), f.Get(in[v]), f.Get(sums[r][v])))
						}
					}
				}
				for r := range rows {
					for v := range in {
						f.V128Store(f.I32Add(f.Get(outRow), f.Get(x)), uint32(r*stemOutPlane+16*v), f.F32x4Add(f.F32x4Pmax(f.Get(sums[r][v]), f.Get(floor)), f.Get(zeroSign)))
					}
				}
				f.Set(x, f.I32Add(f.Get(x), f.I32Const(4*stemTile)))
				f.BrIf(nextTile, f.I32LtU(f.Get(x), f.I32Const(4*abi.StemSize)))
			})
			f.Set(inRow, f.I32Add(f.Get(inRow), f.I32Const(4*2*stemRowFloats)))
			f.Set(outRow, f.I32Add(f.Get(outRow), f.I32Const(4*abi.StemSize)))
			f.Set(y, f.I32Sub(f.Get(y), f.I32Const(1)))
			f.BrIf(nextRow, f.Get(y))
		})
		f.Set(weights, f.I32Add(f.Get(weights), f.I32Const(int32(4*27*rows))))
		f.Set(bias, f.I32Add(f.Get(bias), f.I32Const(int32(4*rows))))
		f.Set(dst, f.I32Add(f.Get(dst), f.I32Const(int32(rows*stemOutPlane))))
	}
	f.Set(blocks, f.I32DivU(f.Get(out), f.I32Const(stemRows)))
	f.If(f.Get(blocks), func() {
		f.Loop(func(nextBlock wasmenc.Label) {
			block(stemRows)
			f.Set(blocks, f.I32Sub(f.Get(blocks), f.I32Const(1)))
			f.BrIf(nextBlock, f.Get(blocks))
		})
	})
	left := f.Local(i32) // the channels after the blocks: 0, 2 or 4
	f.Set(left, f.I32Sub(f.Get(out), f.I32Mul(f.I32DivU(f.Get(out), f.I32Const(stemRows)), f.I32Const(stemRows))))
	f.If(f.I32Eq(f.Get(left), f.I32Const(4)), func() { block(4) })
	f.If(f.I32Eq(f.Get(left), f.I32Const(2)), func() { block(2) })
}
