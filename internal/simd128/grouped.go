package simd128

import (
	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
	"github.com/shufflenet-go/shufflenet/internal/wasmenc"
)

// The seed's grouped 3x3 convs on small maps run a second SIMD128 kernel,
// whose vectors hold 4 output channels of one pixel rather than 4 pixels
// of one channel. On a 7x7 map a row of 7 pixels is two vectors, one of
// them half wasted, and every input channel's pass over the map is short,
// so its set-up weighs; over output channels no lane is wasted and a pass
// is 4 times longer. Each lane computes what the portable kernel computes
// for its channel, in its order (the bias, then each input channel's nine
// taps w0*in0 + ... + w8*in8 added in turn), reading the same padded input
// as the pixel kernel; its sums live in a scratch map of [pixel][4
// channels] and are transposed into the output planes at the end.
//
// In Chromium (same run, BenchmarkConv3x3SIMD128) it took the seed g3's
// grouped convs at stride 1 from 7.0 to 19.3 GMAC/s at 7x7, 10.8 to 19.5
// at 14x14 and 18.7 to 20.1 at 28x28; at stride 2, 6.9 to 17.9 (to 7x7),
// 10.6 to 17.2 (to 14x14), and the same 17 to 28x28.
//
// In the fused build it runs only the stride-2 ones: the stride-1 ones
// run as Winograd transforms (winograd.go).

// writeGrouped writes grouped(variant, dst, padded, weights, bias, sums,
// out, inPer, outPer) (abi.Grouped), which runs abi.GroupedVariants[variant]:
// a function of its own, taking the other parameters.
func writeGrouped(m *wasmenc.Module, fused bool) {
	params := abi.Grouped.Params[1:] // all but the variant
	variants := make([]*wasmenc.Func, len(abi.GroupedVariants))
	for i, v := range abi.GroupedVariants {
		var param func(string) wasmenc.Local
		variants[i], param = kernel(m, "", params)
		writeGroupedVariant(variants[i], param, v.Stride, v.OutSize, fused)
	}
	f, param := export(m, abi.Grouped)
	for i, v := range variants {
		f.If(f.I32Eq(f.Get(param("variant")), f.I32Const(int32(i))), func() { forward(f, param, v, params) })
	}
}

// writeGroupedVariant writes the kernel for one stride and output size
// into f, whose parameters are param's; fused: its multiply-adds are FMAs.
func writeGroupedVariant(f *wasmenc.Func, param func(string) wasmenc.Local, stride, size int, fused bool) {
	i32, v128 := wasmenc.I32, wasmenc.V128
	dst, padded, weights, bias, sums := param("dst"), param("padded"), param("weights"), param("bias"), param("sums")
	out, inPer, outPer := param("out"), param("inPer"), param("outPer")
	rowFloats := size + 2 // stride 1: a padded row
	if stride == 2 {
		rowFloats = 2*size + 1 // the padding column, size odd columns, size even ones
	}
	rows := size + 2 // stride 1: the padded map's rows
	if stride == 2 {
		rows = 2*size + 1 // a padding row and the input's
	}
	planeBytes := int32(4 * rowFloats * rows)
	hw := size * size
	var w [9]wasmenc.Local
	for t := range w {
		w[t] = f.Local(v128)
	}
	var chains [convInterleave]wasmenc.Local
	for i := range chains {
		chains[i] = f.Local(v128)
	}
	biasV := f.Local(v128)
	groupIn, in, inRow, sumRow, y, inputs, blocksLeft := f.Local(i32), f.Local(i32), f.Local(i32), f.Local(i32), f.Local(i32), f.Local(i32), f.Local(i32)

	// pass adds input channel in to the sums (to the bias, first).
	pass := func(first bool) {
		for t := range w {
			f.Set(w[t], f.V128Load(f.Get(weights), uint32(16*t)))
		}
		f.Set(weights, f.I32Add(f.Get(weights), f.I32Const(9*16)))
		f.Set(inRow, f.Get(in))
		f.Set(sumRow, f.Get(sums))
		f.Set(y, f.I32Const(int32(size)))
		f.Loop(func(nextRow wasmenc.Label) {
			for x0 := 0; x0 < size; x0 += convInterleave {
				n := min(convInterleave, size-x0)
				tap := func(x, t int) wasmenc.Expr {
					return f.V128Load32Splat(f.Get(inRow), uint32(4*tapOffset(stride, size, rowFloats, t, x)))
				}
				for p := range n {
					f.Set(chains[p], f.F32x4Mul(f.Get(w[0]), tap(x0+p, 0)))
				}
				for t := 1; t < 9; t++ {
					for p := range n {
						f.Set(chains[p], mulAdd(f, fused, func() wasmenc.Expr { return f.Get(chains[p]) },
							func() wasmenc.Expr { return f.Get(w[t]) }, func() wasmenc.Expr { return tap(x0+p, t) }))
					}
				}
				for p := range n {
					at := uint32(16 * (x0 + p))
					if first {
						f.V128Store(f.Get(sumRow), at, f.F32x4Add(f.Get(biasV), f.Get(chains[p])))
					} else {
						f.V128Store(f.Get(sumRow), at, f.F32x4Add(f.V128Load(f.Get(sumRow), at), f.Get(chains[p])))
					}
				}
			}
			f.Set(inRow, f.I32Add(f.Get(inRow), f.I32Const(int32(4*stride*rowFloats))))
			f.Set(sumRow, f.I32Add(f.Get(sumRow), f.I32Const(int32(16*size))))
			f.Set(y, f.I32Sub(f.Get(y), f.I32Const(1)))
			f.BrIf(nextRow, f.Get(y))
		})
		f.Set(in, f.I32Add(f.Get(in), f.I32Const(planeBytes)))
	}

	// Every block of 4 outputs reads its group's inputs; a group has
	// outPer/4 blocks.
	f.Set(groupIn, f.Get(padded))
	f.Set(blocksLeft, f.I32ShrU(f.Get(outPer), f.I32Const(2)))
	f.Loop(func(nextBlock wasmenc.Label) {
		f.Set(biasV, f.V128Load(f.Get(bias), 0))
		f.Set(in, f.Get(groupIn))
		pass(true)
		f.Set(inputs, f.I32Sub(f.Get(inPer), f.I32Const(1)))
		f.Loop(func(next wasmenc.Label) {
			pass(false)
			f.Set(inputs, f.I32Sub(f.Get(inputs), f.I32Const(1)))
			f.BrIf(next, f.Get(inputs))
		})
		writeTransposed(f, dst, sums, hw)
		f.Set(dst, f.I32Add(f.Get(dst), f.I32Const(int32(4*4*hw))))
		f.Set(bias, f.I32Add(f.Get(bias), f.I32Const(16)))
		f.Set(blocksLeft, f.I32Sub(f.Get(blocksLeft), f.I32Const(1)))
		f.If(f.I32Eqz(f.Get(blocksLeft)), func() { // the next group
			f.Set(groupIn, f.Get(in))
			f.Set(blocksLeft, f.I32ShrU(f.Get(outPer), f.I32Const(2)))
		})
		f.Set(out, f.I32Sub(f.Get(out), f.I32Const(4)))
		f.BrIf(nextBlock, f.Get(out))
	})
}

// writeTransposed stores hw pixels of 4 channels, sums[pixel][channel],
// as the 4 planes of hw floats at dst, 4 pixels at a time (the last 4
// overlap the ones before when hw is not a multiple of 4).
func writeTransposed(f *wasmenc.Func, dst, sums wasmenc.Local, hw int) {
	var a, t [4]wasmenc.Local
	for i := range 4 {
		a[i], t[i] = f.Local(wasmenc.V128), f.Local(wasmenc.V128)
	}
	for p := 0; p < hw; p += 4 {
		p := min(p, hw-4)
		for i := range 4 {
			f.Set(a[i], f.V128Load(f.Get(sums), uint32(16*(p+i))))
		}
		f.Set(t[0], f.Shuffle32(f.Get(a[0]), f.Get(a[1]), [4]byte{0, 4, 1, 5})) // a0 b0 a1 b1
		f.Set(t[1], f.Shuffle32(f.Get(a[0]), f.Get(a[1]), [4]byte{2, 6, 3, 7})) // a2 b2 a3 b3
		f.Set(t[2], f.Shuffle32(f.Get(a[2]), f.Get(a[3]), [4]byte{0, 4, 1, 5})) // c0 d0 c1 d1
		f.Set(t[3], f.Shuffle32(f.Get(a[2]), f.Get(a[3]), [4]byte{2, 6, 3, 7})) // c2 d2 c3 d3
		for c := range 4 {
			lo, hi := t[c/2], t[c/2+2]
			lanes := [4]byte{0, 1, 4, 5}
			if c%2 == 1 {
				lanes = [4]byte{2, 3, 6, 7}
			}
			f.V128Store(f.Get(dst), uint32(4*(c*hw+p)), f.Shuffle32(f.Get(lo), f.Get(hi), lanes))
		}
	}
}
