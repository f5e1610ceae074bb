package simd128

import (
	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
	"github.com/shufflenet-go/shufflenet/internal/wasmenc"
)

// The SIMD128 3x3 kernel runs every 3x3 conv (the stem, depthwise convs,
// the seed's grouped convs; in the fused build the stem and the grouped
// convs have kernels of their own, stem.go, grouped.go and winograd.go)
// the way the portable kernel does: for each
// output channel, its bias and then one input channel after another, each
// adding the nine taps' products in the same order, w0*in0 + w1*in1 + ...
// + w8*in8, to the output plane held in dst; a ReLU at the end. Its
// vectors run along the output rows; a row whose width is not a multiple
// of 4 ends with a vector that overlaps the one before and keeps only its
// new lanes.
//
// First the input is copied into the phase scratch buffer with its zero
// padding around it (padInput), so that no tap needs a bounds check or a
// mask. For stride 2 the copy also splits every row into its odd columns
// (after a padding column) and its even columns, so that all three taps
// of a row read whole vectors of consecutive floats. The padding's
// products (w*0) join the sums where the portable kernel leaves them out
// at the left and right edges; adding a zero changes no sum except the
// sign of a zero result, so the outputs are equal (==) to the portable
// kernel's, and bit for bit the same except, rarely, -0 for +0.

// The conv kernel has variants (abi.ConvVariants): for a stride and any
// output size, or for one output size known when the kernel is written,
// so that every tap of a row is a constant offset from one pointer and the
// row's vectors are unrolled and interleaved. The sizes are ShuffleNet's
// at 224x224; in Chromium they run the stem at 16.5 GMAC/s instead of
// 13.6, and the depthwise convs 10-20% faster (the same at 7x7).

// convInterleave is how many vectors of a row the fixed-size variants
// compute at once, their sums interleaved: the stem went from 12-13 to 16
// GMAC/s with 4 (the sums are chains of 9 dependent adds).
const convInterleave = 4

// writePad1 writes pad1(dst, src, channels, size) (abi.Pad1): each size x
// size plane of src into dst with a border of zeros, (size+2) x (size+2).
func writePad1(m *wasmenc.Module) {
	i32 := wasmenc.I32
	f, param := export(m, abi.Pad1)
	dst, src, channels, size := param("dst"), param("src"), param("channels"), param("size")
	rowBytes, sizeBytes, y := f.Local(i32), f.Local(i32), f.Local(i32)
	f.Set(sizeBytes, f.I32Shl(f.Get(size), f.I32Const(2)))
	f.Set(rowBytes, f.I32Add(f.Get(sizeBytes), f.I32Const(8)))
	f.Loop(func(nextChannel wasmenc.Label) {
		zeroRow(f, dst, rowBytes)
		f.Set(dst, f.I32Add(f.Get(dst), f.Get(rowBytes)))
		f.Set(y, f.Get(size))
		f.Loop(func(nextRow wasmenc.Label) {
			f.F32Store(f.Get(dst), 0, f.F32Const(0))
			f.F32Store(f.I32Add(f.Get(dst), f.Get(sizeBytes)), 4, f.F32Const(0))
			eachVector(f, sizeBytes, func(at wasmenc.Local) {
				f.V128Store(f.I32Add(f.Get(dst), f.Get(at)), 4, f.V128Load(f.I32Add(f.Get(src), f.Get(at)), 0))
			})
			f.Set(src, f.I32Add(f.Get(src), f.Get(sizeBytes)))
			f.Set(dst, f.I32Add(f.Get(dst), f.Get(rowBytes)))
			f.Set(y, f.I32Sub(f.Get(y), f.I32Const(1)))
			f.BrIf(nextRow, f.Get(y))
		})
		zeroRow(f, dst, rowBytes)
		f.Set(dst, f.I32Add(f.Get(dst), f.Get(rowBytes)))
		f.Set(channels, f.I32Sub(f.Get(channels), f.I32Const(1)))
		f.BrIf(nextChannel, f.Get(channels))
	})
}

// writePad2 writes pad2(dst, src, channels, size) (abi.Pad2): each size x
// size plane of src into dst as size+1 rows, a row of zeros and then src's
// rows, each laid out as a zero, the odd columns, and the even columns.
func writePad2(m *wasmenc.Module) {
	i32 := wasmenc.I32
	f, param := export(m, abi.Pad2)
	dst, src, channels, size := param("dst"), param("src"), param("channels"), param("size")
	rowBytes, halfBytes, y, a, b := f.Local(i32), f.Local(i32), f.Local(i32), f.Local(wasmenc.V128), f.Local(wasmenc.V128)
	f.Set(halfBytes, f.I32Shl(f.Get(size), f.I32Const(1))) // S/2 floats
	f.Set(rowBytes, f.I32Add(f.I32Shl(f.Get(size), f.I32Const(2)), f.I32Const(4)))
	f.Loop(func(nextChannel wasmenc.Label) {
		zeroRow(f, dst, rowBytes)
		f.Set(dst, f.I32Add(f.Get(dst), f.Get(rowBytes)))
		f.Set(y, f.Get(size))
		f.Loop(func(nextRow wasmenc.Label) {
			f.F32Store(f.Get(dst), 0, f.F32Const(0))
			// Output columns c..c+3 of each half come from input columns 2c..2c+7.
			eachVector(f, halfBytes, func(at wasmenc.Local) {
				in := f.I32Add(f.Get(src), f.I32Shl(f.Get(at), f.I32Const(1)))
				f.Set(a, f.V128Load(in, 0))
				f.Set(b, f.V128Load(f.I32Add(f.Get(src), f.I32Shl(f.Get(at), f.I32Const(1))), 16))
				f.V128Store(f.I32Add(f.Get(dst), f.Get(at)), 4, f.Shuffle32(f.Get(a), f.Get(b), [4]byte{1, 3, 5, 7}))
				f.V128Store(f.I32Add(f.I32Add(f.Get(dst), f.Get(halfBytes)), f.Get(at)), 4, f.Shuffle32(f.Get(a), f.Get(b), [4]byte{0, 2, 4, 6}))
			})
			f.Set(src, f.I32Add(f.Get(src), f.I32Shl(f.Get(halfBytes), f.I32Const(1))))
			f.Set(dst, f.I32Add(f.Get(dst), f.Get(rowBytes)))
			f.Set(y, f.I32Sub(f.Get(y), f.I32Const(1)))
			f.BrIf(nextRow, f.Get(y))
		})
		f.Set(channels, f.I32Sub(f.Get(channels), f.I32Const(1)))
		f.BrIf(nextChannel, f.Get(channels))
	})
}

// zeroRow writes zeros over the bytes bytes (at least 16) at dst.
func zeroRow(f *wasmenc.Func, dst, bytes wasmenc.Local) {
	eachVector(f, bytes, func(at wasmenc.Local) {
		f.V128Store(f.I32Add(f.Get(dst), f.Get(at)), 0, zero(f))
	})
}

// eachVector runs body for the byte offsets of the vectors that cover
// bytes bytes (at least 16): 0, 16, 32, ..., and last bytes-16, which
// overlaps the one before when bytes is not a multiple of 16. So body
// must do the same for the same offset twice (copy, not accumulate).
func eachVector(f *wasmenc.Func, bytes wasmenc.Local, body func(at wasmenc.Local)) {
	at, last := f.Local(wasmenc.I32), f.Local(wasmenc.I32)
	f.Set(last, f.I32Sub(f.Get(bytes), f.I32Const(16)))
	f.Set(at, f.I32Const(0))
	f.Loop(func(next wasmenc.Label) {
		f.Set(at, f.Select(f.Get(at), f.Get(last), f.I32LtU(f.Get(at), f.Get(last))))
		body(at)
		f.Set(at, f.I32Add(f.Get(at), f.I32Const(16)))
		f.BrIf(next, f.I32LtU(f.Get(at), f.Get(bytes)))
	})
}

// convWriter writes a variant of the conv kernel, with the parameters
// (dst, padded, weights, bias, out, inPer, outPer, outSize, relu).
type convWriter struct {
	f            *wasmenc.Func
	fused        bool // multiply-adds are FMAs (see Module)
	stride, size int  // size: the output size, or 0 for any
	// Parameters.
	dst, padded, weights, bias, out, inPer, outPer, outSize, relu wasmenc.Local
	// Sizes in bytes: a padded row, a padded plane, an output row, the
	// whole vectors of an output row, the offset of the even columns.
	rowBytes, planeBytes, outRowBytes, vectorBytes, evenAt wasmenc.Local
	// The pass: input plane, output plane, their rows, the row's pointers.
	in, outPlane, inRow, outRow, y, rowEnd wasmenc.Local
	p                                      [3]wasmenc.Local // the rows of taps 0-2, 3-5, 6-8 (odd columns at stride 2)
	e                                      [3]wasmenc.Local // stride 2: the same rows' even columns
	d                                      wasmenc.Local
	w                                      [9]wasmenc.Local
	biasV, tailMask                        wasmenc.Local
	sums                                   [convInterleave]wasmenc.Local
	hasTail, inputs                        wasmenc.Local
	planeSums                              [planeInterleave]wasmenc.Local // fixedPlane's
	tapWeight                              wasmenc.Local                  // fixedPlane's weight of a tap, in every lane
}

// writeConv3x3 writes conv3x3(variant, dst, padded, weights, bias, out,
// inPer, outPer, outSize, relu) (abi.Conv3x3), which runs
// abi.ConvVariants[variant]: a function of its own, taking the other
// parameters.
func writeConv3x3(m *wasmenc.Module, fused bool) {
	params := abi.Conv3x3.Params[1:] // all but the variant
	variants := make([]*wasmenc.Func, len(abi.ConvVariants))
	for i, v := range abi.ConvVariants {
		var param func(string) wasmenc.Local
		variants[i], param = kernel(m, "", params)
		writeConvVariant(variants[i], param, v, fused)
	}
	f, param := export(m, abi.Conv3x3)
	for i, v := range variants {
		f.If(f.I32Eq(f.Get(param("variant")), f.I32Const(int32(i))), func() { forward(f, param, v, params) })
	}
}

// writeConvVariant writes one variant of the conv kernel into f, whose
// parameters are param's.
func writeConvVariant(f *wasmenc.Func, param func(string) wasmenc.Local, v abi.Variant, fused bool) {
	i32, v128 := wasmenc.I32, wasmenc.V128
	stride := v.Stride
	k := &convWriter{f: f, fused: fused, stride: stride, size: v.OutSize, dst: param("dst"), padded: param("padded"), weights: param("weights"),
		bias: param("bias"), out: param("out"), inPer: param("inPer"), outPer: param("outPer"), outSize: param("outSize"), relu: param("relu")}
	for _, l := range []*wasmenc.Local{&k.rowBytes, &k.planeBytes, &k.outRowBytes, &k.vectorBytes, &k.evenAt,
		&k.in, &k.outPlane, &k.inRow, &k.outRow, &k.y, &k.rowEnd, &k.d, &k.hasTail, &k.inputs} {
		*l = f.Local(i32)
	}
	for i := range 3 {
		k.p[i], k.e[i] = f.Local(i32), f.Local(i32)
	}
	for i := range k.w {
		k.w[i] = f.Local(v128)
	}
	k.biasV, k.tailMask = f.Local(v128), f.Local(v128)
	for i := range k.sums {
		k.sums[i] = f.Local(v128)
	}
	if k.planeFits() {
		for i := range k.planeSums {
			k.planeSums[i] = f.Local(v128)
		}
		k.tapWeight = f.Local(v128)
	}
	groupIn, inGroup := f.Local(i32), f.Local(i32)

	f.Set(k.outRowBytes, f.I32Shl(f.Get(k.outSize), f.I32Const(2)))
	f.Set(k.vectorBytes, f.I32And(f.Get(k.outRowBytes), f.I32Const(-16)))
	if stride == 1 {
		f.Set(k.rowBytes, f.I32Add(f.Get(k.outRowBytes), f.I32Const(8))) // S+2 floats
		f.Set(k.planeBytes, f.I32Mul(f.Get(k.rowBytes), f.I32Add(f.Get(k.outSize), f.I32Const(2))))
	} else {
		f.Set(k.rowBytes, f.I32Add(f.I32Shl(f.Get(k.outRowBytes), f.I32Const(1)), f.I32Const(4))) // 2*outSize+1 floats
		f.Set(k.planeBytes, f.I32Mul(f.Get(k.rowBytes), f.I32Add(f.I32Shl(f.Get(k.outSize), f.I32Const(1)), f.I32Const(1))))
		f.Set(k.evenAt, f.I32Add(f.Get(k.outRowBytes), f.I32Const(4)))
	}
	// A row's last vector keeps only the lanes the vector before it missed.
	f.Set(k.hasTail, f.I32And(f.Get(k.outSize), f.I32Const(3)))
	for tail := 1; tail < 4; tail++ {
		f.If(f.I32Eq(f.Get(k.hasTail), f.I32Const(int32(tail))), func() {
			var lanes [4]uint32
			for l := 4 - tail; l < 4; l++ {
				lanes[l] = 0xffffffff
			}
			f.Set(k.tailMask, f.V128Const(lanes))
		})
	}

	f.Set(k.outPlane, f.Get(k.dst))
	f.Set(groupIn, f.Get(k.padded))
	f.Set(inGroup, f.Get(k.outPer))
	f.Loop(func(nextOutput wasmenc.Label) {
		f.Set(k.biasV, f.V128Load32Splat(f.Get(k.bias), 0))
		f.Set(k.in, f.Get(groupIn))
		// The passes: the first input channel's, the middle ones', the last one's.
		f.IfElse(f.I32Eq(f.Get(k.inPer), f.I32Const(1)), func() {
			k.lastPass(true)
		}, func() {
			k.pass(true, false, false)
			f.Set(k.inputs, f.I32Sub(f.Get(k.inPer), f.I32Const(2)))
			f.If(f.Get(k.inputs), func() {
				f.Loop(func(next wasmenc.Label) {
					k.pass(false, false, false)
					f.Set(k.inputs, f.I32Sub(f.Get(k.inputs), f.I32Const(1)))
					f.BrIf(next, f.Get(k.inputs))
				})
			})
			k.lastPass(false)
		})
		f.Set(k.outPlane, f.I32Add(f.Get(k.outPlane), f.I32Mul(f.Get(k.outRowBytes), f.Get(k.outSize))))
		f.Set(k.bias, f.I32Add(f.Get(k.bias), f.I32Const(4)))
		// The next output channel reads the next group's inputs after outPer channels.
		f.Set(inGroup, f.I32Sub(f.Get(inGroup), f.I32Const(1)))
		f.If(f.I32Eqz(f.Get(inGroup)), func() {
			f.Set(groupIn, f.Get(k.in))
			f.Set(inGroup, f.Get(k.outPer))
		})
		f.Set(k.out, f.I32Sub(f.Get(k.out), f.I32Const(1)))
		f.BrIf(nextOutput, f.Get(k.out))
	})
}

// lastPass writes the last input channel's pass, with or without the ReLU.
func (k *convWriter) lastPass(first bool) {
	f := k.f
	f.IfElse(f.Get(k.relu), func() { k.pass(first, true, true) }, func() { k.pass(first, true, false) })
}

// pass adds input channel `in` (the next weights) to the output plane: the
// first pass starts from the bias, the last applies the ReLU if reLU. It
// moves in and weights to the next input channel.
func (k *convWriter) pass(first, last, reLU bool) {
	f := k.f
	plane := k.planeFits() && first && last
	if !plane { // fixedPlane loads the weights itself
		for t := range k.w {
			f.Set(k.w[t], f.V128Load32Splat(f.Get(k.weights), uint32(4*t)))
		}
	}
	f.Set(k.inRow, f.Get(k.in))
	f.Set(k.outRow, f.Get(k.outPlane))
	f.Set(k.y, f.Get(k.outSize))
	switch {
	case plane:
		k.fixedPlane(reLU)
	case k.size > 0:
		k.fixedRows(first, last, reLU)
	default:
		k.rows(first, last, reLU)
	}
	f.Set(k.in, f.I32Add(f.Get(k.in), f.Get(k.planeBytes)))
	f.Set(k.weights, f.I32Add(f.Get(k.weights), f.I32Const(36)))
}

// rows computes the pass over every row of any width, its pointers moving
// along the row.
func (k *convWriter) rows(first, last, reLU bool) {
	f := k.f
	f.Loop(func(nextRow wasmenc.Label) {
		for ky := range 3 {
			f.Set(k.p[ky], f.I32Add(f.Get(k.inRow), f.I32Mul(f.Get(k.rowBytes), f.I32Const(int32(ky)))))
			if k.stride == 2 {
				f.Set(k.e[ky], f.I32Add(f.Get(k.p[ky]), f.Get(k.evenAt)))
			}
		}
		f.Set(k.d, f.Get(k.outRow))
		f.Set(k.rowEnd, f.I32Add(f.Get(k.outRow), f.Get(k.vectorBytes)))
		f.Loop(func(nextVector wasmenc.Label) {
			k.vector(first, last, reLU, false)
			f.BrIf(nextVector, f.I32LtU(f.Get(k.d), f.Get(k.rowEnd)))
		})
		f.If(f.Get(k.hasTail), func() {
			// Back to the row's last 4 outputs.
			back := f.I32Sub(f.I32Const(16), f.I32Shl(f.Get(k.hasTail), f.I32Const(2)))
			step := f.Local(wasmenc.I32)
			f.Set(step, back)
			for _, l := range k.pointers() {
				f.Set(l, f.I32Sub(f.Get(l), f.Get(step)))
			}
			k.vector(first, last, reLU, true)
		})
		f.Set(k.inRow, f.I32Add(f.Get(k.inRow), f.I32Mul(f.Get(k.rowBytes), f.I32Const(int32(k.stride)))))
		f.Set(k.outRow, f.I32Add(f.Get(k.outRow), f.Get(k.outRowBytes)))
		f.Set(k.y, f.I32Sub(f.Get(k.y), f.I32Const(1)))
		f.BrIf(nextRow, f.Get(k.y))
	})
}

// fixedRows computes the pass over every row of k.size outputs: each tap
// of each vector is a constant offset from the row's start.
func (k *convWriter) fixedRows(first, last, reLU bool) {
	f := k.f
	size := k.size
	rowFloats := k.fixedRowFloats()
	f.Loop(func(nextRow wasmenc.Label) {
		var row []convVector
		for x := 0; x < size; x += 4 {
			x0, tail := x, 0
			if x+4 > size { // the last, overlapping vector
				x0, tail = size-4, size-x
			}
			row = append(row, convVector{tap: k.fixedTap(0, x0), d: k.outRow, at: uint32(4 * x0), tail: tail})
		}
		for len(row) > 0 {
			n := min(convInterleave, len(row))
			if row[n-1].tail > 0 {
				// The overlapping vector reads what the one before stored.
				n = max(1, n-1)
			}
			k.outputs(first, last, reLU, k.sums[:], k.heldWeight, row[:n]...)
			row = row[n:]
		}
		f.Set(k.inRow, f.I32Add(f.Get(k.inRow), f.I32Const(int32(4*k.stride*rowFloats))))
		f.Set(k.outRow, f.I32Add(f.Get(k.outRow), f.I32Const(int32(4*size))))
		f.Set(k.y, f.I32Sub(f.Get(k.y), f.I32Const(1)))
		f.BrIf(nextRow, f.Get(k.y))
	})
}

// planeInterleave is how many vectors fixedPlane computes at once.
const planeInterleave = 8

// planeFits reports whether the variant computes its only pass, if it has
// one pass, with fixedPlane: in the fused build, for a fixed size whose
// rows have fewer vectors than fixedRows interleaves.
func (k *convWriter) planeFits() bool {
	return k.fused && k.size > 0 && k.size < 4*convInterleave
}

// fixedPlane computes the only pass of a fixed-size conv with one input
// channel per output (the depthwise convs) in the fused build,
// planeInterleave vectors at a time, from as many rows as it takes.
//
// Why: each vector's sum is a chain of 9 dependent FMAs, and an FMA waits
// 4 cycles for the one before. fixedRows interleaves the vectors of one
// row, at most convInterleave, and a 14-wide row has 3 of them before its
// overlapping last one, a 7-wide row one. Eight chains need 8 sums in
// registers, which the 9 weights fixedRows holds would push out of V8's
// 15; here a tap's weight is loaded once per group of vectors, into one
// register (loadTapWeight).
//
// In Chromium (BenchmarkConv3x3SIMD128, alternating runs, 2026-12-07) the
// 14x14 depthwise convs went from 10.4-12.4 to 12.7-15.4 GMAC/s, the 7x7
// ones from 6.5-7.9 to 9.5-12.6; the 28x28 ones, whose rows have 7
// vectors, ran 5% slower this way and keep fixedRows.
//
// A row's last vector, when the width is not a multiple of 4, overlaps the
// one before; in the only pass its overlapping lanes recompute the same
// sums, so it is stored whole, in any order with the others.
func (k *convWriter) fixedPlane(reLU bool) {
	f := k.f
	size := k.size
	rowFloats := k.fixedRowFloats()
	perRow := (size + 3) / 4
	rows := size // a divisor of size, with at least planeInterleave vectors if it can
	for r := 1; r <= size; r++ {
		if size%r == 0 && r*perRow >= planeInterleave {
			rows = r
			break
		}
	}
	var vectors []convVector
	for ry := range rows {
		for x := 0; x < size; x += 4 {
			x0 := min(x, size-4)
			vectors = append(vectors, convVector{tap: k.fixedTap(ry, x0), d: k.outRow, at: uint32(4 * (ry*size + x0))})
		}
	}
	f.Loop(func(nextRows wasmenc.Label) {
		for group := vectors; len(group) > 0; {
			n := min(planeInterleave, len(group))
			k.outputs(true, true, reLU, k.planeSums[:], k.loadTapWeight, group[:n]...)
			group = group[n:]
		}
		f.Set(k.inRow, f.I32Add(f.Get(k.inRow), f.I32Const(int32(4*rows*k.stride*rowFloats))))
		f.Set(k.outRow, f.I32Add(f.Get(k.outRow), f.I32Const(int32(4*rows*size))))
		f.Set(k.y, f.I32Sub(f.Get(k.y), f.I32Const(int32(rows))))
		f.BrIf(nextRows, f.Get(k.y))
	})
}

// heldWeight is tap t's weight as pass loaded it, in every lane.
func (k *convWriter) heldWeight(t int) wasmenc.Local { return k.w[t] }

// loadTapWeight loads tap t's weight into tapWeight, in every lane.
func (k *convWriter) loadTapWeight(t int) wasmenc.Local {
	k.f.Set(k.tapWeight, k.f.V128Load32Splat(k.f.Get(k.weights), uint32(4*t)))
	return k.tapWeight
}

// fixedRowFloats is the floats of a padded input row of a fixed-size
// variant.
func (k *convWriter) fixedRowFloats() int {
	if k.stride == 2 {
		return 2*k.size + 1 // the padding column, size odd columns, size even ones
	}
	return k.size + 2 // a padded row
}

// fixedTap returns the taps, in the weights' order, of a fixed-size
// variant's vector of outputs at column x0 of output row ry after the
// row inRow points at: each a constant offset from inRow.
func (k *convWriter) fixedTap(ry, x0 int) func(t int) wasmenc.Expr {
	f, size, rowFloats := k.f, k.size, k.fixedRowFloats()
	return func(t int) wasmenc.Expr {
		at := ry*k.stride*rowFloats + tapOffset(k.stride, size, rowFloats, t, x0)
		return f.V128Load(f.Get(k.inRow), uint32(4*at))
	}
}

// tapOffset is the float that tap t (in the weights' order) of output
// column x reads, counted from the start of the padded input rows of the
// output row, for a conv of stride whose outputs are size wide and whose
// padded rows rowFloats long (see writePad1 and writePad2).
func tapOffset(stride, size, rowFloats, t, x int) int {
	ky, kx := t/3, t%3
	at := ky * rowFloats
	switch {
	case stride == 1:
		at += x + kx
	case kx == 0:
		at += x // column 2x-1: the odd column before
	case kx == 1:
		at += size + 1 + x // column 2x
	default:
		at += x + 1 // column 2x+1
	}
	return at
}

// pointers are the locals that walk along a row, 4 outputs per vector.
func (k *convWriter) pointers() []wasmenc.Local {
	l := []wasmenc.Local{k.d, k.p[0], k.p[1], k.p[2]}
	if k.stride == 2 {
		l = append(l, k.e[0], k.e[1], k.e[2])
	}
	return l
}

// vector computes 4 outputs of the row and moves the pointers on. tail:
// only the lanes of tailMask are new; the others keep what dst has.
func (k *convWriter) vector(first, last, reLU, tail bool) {
	f := k.f
	tap := func(t int) wasmenc.Expr {
		ky, kx := t/3, t%3
		if k.stride == 1 {
			return f.V128Load(f.Get(k.p[ky]), uint32(4*kx))
		}
		switch kx {
		case 0:
			return f.V128Load(f.Get(k.p[ky]), 0) // column 2x-1: the odd column before
		case 1:
			return f.V128Load(f.Get(k.e[ky]), 0) // column 2x
		}
		return f.V128Load(f.Get(k.p[ky]), 4) // column 2x+1
	}
	var lanes int // tail: the vector's new lanes are its last hasTail ones
	if tail {
		lanes = -1
	}
	k.outputs(first, last, reLU, k.sums[:], k.heldWeight, convVector{tap: tap, d: k.d, tail: lanes})
	for _, l := range k.pointers() {
		f.Set(l, f.I32Add(f.Get(l), f.I32Const(16)))
	}
}

// convVector is a vector of 4 outputs for outputs to compute: its taps
// (in the weights' order), where it goes (d+at), and, when tail > 0, that
// only its last tail lanes are new (tail < 0: the lanes of tailMask).
type convVector struct {
	tap  func(t int) wasmenc.Expr
	d    wasmenc.Local
	at   uint32
	tail int
}

// outputs computes vectors (at most len(sums)) of 4 outputs, each the sum
// of its taps' products in the portable kernel's order, added to the bias
// (first) or to what dst has, with the ReLU (last and reLU), and stores
// them. The vectors' sums are interleaved tap by tap: each is a chain of
// dependent adds, and one chain at a time leaves the CPU waiting. Tap t's
// weight is in weight(t), which is called once per tap: heldWeight, or
// loadTapWeight for fixedPlane.
func (k *convWriter) outputs(first, last, reLU bool, sums []wasmenc.Local, weight func(t int) wasmenc.Local, vectors ...convVector) {
	f := k.f
	for t := range 9 {
		w := weight(t)
		for i, v := range vectors {
			if t == 0 {
				f.Set(sums[i], f.F32x4Mul(f.Get(w), v.tap(0)))
				continue
			}
			f.Set(sums[i], mulAdd(f, k.fused, func() wasmenc.Expr { return f.Get(sums[i]) },
				func() wasmenc.Expr { return f.Get(w) }, func() wasmenc.Expr { return v.tap(t) }))
		}
	}
	for i, v := range vectors {
		acc := sums[i]
		if first {
			f.Set(acc, f.F32x4Add(f.Get(k.biasV), f.Get(acc)))
		} else {
			f.Set(acc, f.F32x4Add(f.V128Load(f.Get(v.d), v.at), f.Get(acc)))
		}
		if last && reLU {
			f.Set(acc, relu(f, f.Get(acc)))
		}
		switch {
		case v.tail > 0:
			var lanes [4]uint32
			for l := 4 - v.tail; l < 4; l++ {
				lanes[l] = 0xffffffff
			}
			f.Set(acc, f.V128Bitselect(f.Get(acc), f.V128Load(f.Get(v.d), v.at), f.V128Const(lanes)))
		case v.tail < 0:
			f.Set(acc, f.V128Bitselect(f.Get(acc), f.V128Load(f.Get(v.d), v.at), f.Get(k.tailMask)))
		}
		f.V128Store(f.Get(v.d), v.at, f.Get(acc))
	}
}
