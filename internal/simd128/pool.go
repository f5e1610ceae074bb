package simd128

import (
	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
	"github.com/shufflenet-go/shufflenet/internal/wasmenc"
)

// The SIMD128 pool kernel computes 4 outputs of a row at once: it loads
// 8 consecutive inputs of each input row and splits them with shuffles
// into the columns 2x-1, 2x and 2x+1 of the 4 outputs. Max pools take
// IEEE maxima, as Go's max does, in any order; average pools add as
// avgPool3x3s2ReLU does, row by row from 0, each row's three columns left
// to right, then divide by 9 and take the ReLU. At the top and left edges,
// where the window hangs over the map, a max pool takes the first row
// (column) twice and an average pool adds zeros, as the portable pools'
// sums start from zero. So the results are identical.
//
// Except in the fused build's max pools, which take pseudo-maxima
// (f32x4.pmax, see wasmenc.F32x4Pmax): V8 spends eight instructions on each
// of f32x4.max's IEEE maxima and one on a pseudo-maximum, and the stem's
// max pool of Megvii g3 1.0x took 0.49 ms in Chromium against 0.06. The
// two agree wherever the window holds no NaN and its largest value is not
// zero; where it is, the zero's sign may differ (which no later sum can
// tell, unless it is all zeros), and a NaN may be lost.

// writePool writes pool(dst, src, channels, inSize, average) (abi.Pool).
// It reads up to one float before each row and one after it.
func writePool(m *wasmenc.Module, fused bool) {
	i32, v128 := wasmenc.I32, wasmenc.V128
	f, param := export(m, abi.Pool)
	dst, src, channels, inSize, average := param("dst"), param("src"), param("channels"), param("inSize"), param("average")
	inRowBytes, outRowBytes, y, q := f.Local(i32), f.Local(i32), f.Local(i32), f.Local(i32)
	rows := [3]wasmenc.Local{f.Local(i32), f.Local(i32), f.Local(i32)}
	acc, edge := f.Local(v128), f.Local(v128)
	f.Set(inRowBytes, f.I32Shl(f.Get(inSize), f.I32Const(2)))
	f.Set(outRowBytes, f.I32Shl(f.Get(inSize), f.I32Const(1)))
	allLanes := [4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}
	notFirst := [4]uint32{0, 0xffffffff, 0xffffffff, 0xffffffff}

	// window is the pool of one output row from input rows rows[:n].
	window := func(avg bool, n int) {
		eachVector(f, outRowBytes, func(at wasmenc.Local) {
			// Lane 0 of the first vector has no column 2x-1.
			f.Set(edge, f.Select(f.V128Const(notFirst), f.V128Const(allLanes), f.I32Eqz(f.Get(at))))
			for r := range n {
				// q: column 2x-1 of the first output.
				f.Set(q, f.I32Sub(f.I32Add(f.Get(rows[r]), f.I32Shl(f.Get(at), f.I32Const(1))), f.I32Const(4)))
				columns := func(first uint32, lanes [4]byte) wasmenc.Expr {
					return f.Shuffle32(f.V128Load(f.Get(q), first), f.V128Load(f.Get(q), first+16), lanes)
				}
				left := func() wasmenc.Expr { return columns(0, [4]byte{0, 2, 4, 6}) }   // columns 2x-1
				middle := func() wasmenc.Expr { return columns(0, [4]byte{1, 3, 5, 7}) } // columns 2x
				right := func() wasmenc.Expr { return columns(8, [4]byte{0, 2, 4, 6}) }  // columns 2x+1
				if avg {
					var before wasmenc.Expr // the sum of the rows above
					if r == 0 {
						before = zero(f)
					} else {
						before = f.Get(acc)
					}
					f.Set(acc, f.F32x4Add(before, f.F32x4Add(f.F32x4Add(f.V128And(left(), f.Get(edge)), middle()), right())))
					continue
				}
				maximum := f.F32x4Max
				if fused {
					maximum = f.F32x4Pmax
				}
				if r == 0 {
					f.Set(acc, maximum(maximum(f.V128Bitselect(left(), middle(), f.Get(edge)), middle()), right()))
					continue
				}
				f.Set(acc, maximum(f.Get(acc), maximum(maximum(f.V128Bitselect(left(), middle(), f.Get(edge)), middle()), right())))
			}
			if avg {
				f.Set(acc, relu(f, f.F32x4Div(f.Get(acc), f.F32x4Splat(f.F32Const(9)))))
			}
			f.V128Store(f.I32Add(f.Get(dst), f.Get(at)), 0, f.Get(acc))
		})
	}
	// channel pools one channel: its first output row from input rows 0
	// and 1, the others from rows 2y-1, 2y and 2y+1.
	channel := func(avg bool) {
		f.Set(rows[0], f.Get(src))
		f.Set(rows[1], f.I32Add(f.Get(src), f.Get(inRowBytes)))
		window(avg, 2)
		f.Set(dst, f.I32Add(f.Get(dst), f.Get(outRowBytes)))
		f.Set(y, f.I32Sub(f.I32ShrU(f.Get(inSize), f.I32Const(1)), f.I32Const(1)))
		f.Loop(func(nextRow wasmenc.Label) {
			f.Set(rows[0], f.Get(rows[1]))
			f.Set(rows[1], f.I32Add(f.Get(rows[0]), f.Get(inRowBytes)))
			f.Set(rows[2], f.I32Add(f.Get(rows[1]), f.Get(inRowBytes)))
			window(avg, 3)
			f.Set(rows[1], f.Get(rows[2]))
			f.Set(dst, f.I32Add(f.Get(dst), f.Get(outRowBytes)))
			f.Set(y, f.I32Sub(f.Get(y), f.I32Const(1)))
			f.BrIf(nextRow, f.Get(y))
		})
		f.Set(src, f.I32Add(f.Get(src), f.I32Mul(f.Get(inRowBytes), f.Get(inSize))))
	}
	f.Loop(func(nextChannel wasmenc.Label) {
		f.IfElse(f.Get(average), func() { channel(true) }, func() { channel(false) })
		f.Set(channels, f.I32Sub(f.Get(channels), f.I32Const(1)))
		f.BrIf(nextChannel, f.Get(channels))
	})
}

// writeGlobalPool writes globalPool(dst, src, channels, hw)
// (abi.GlobalPool): the mean of each map, 4 maps at a time, one per lane.
// Each lane adds its map's values in order from 0 and divides the sum by
// hw, as the engine's globalAveragePool does, so the results are
// identical. The next 4 values of the 4 maps are loaded as 4 vectors and
// transposed, so that each vector holds one pixel of the 4 maps; the
// pixels past the last multiple of 4 are gathered one by one.
//
// In Go's WebAssembly the pool took 0.08-0.12 ms of Megvii g3 1.0x in
// Chromium, as long as the classifier after it.
func writeGlobalPool(m *wasmenc.Module) {
	i32, v128 := wasmenc.I32, wasmenc.V128
	f, param := export(m, abi.GlobalPool)
	dst, src, channels, hw := param("dst"), param("src"), param("channels"), param("hw")
	planeBytes, vectorsEnd, at := f.Local(i32), f.Local(i32), f.Local(i32)
	var plane [4]wasmenc.Local // the 4 maps' first values
	var v, t [4]wasmenc.Local
	for i := range 4 {
		plane[i], v[i], t[i] = f.Local(i32), f.Local(v128), f.Local(v128)
	}
	acc, divisor := f.Local(v128), f.Local(v128)
	f.Set(planeBytes, f.I32Shl(f.Get(hw), f.I32Const(2)))
	f.Set(vectorsEnd, f.I32And(f.Get(planeBytes), f.I32Const(-16)))
	f.Set(divisor, f.F32x4Splat(f.F32ConvertI32U(f.Get(hw))))
	f.Loop(func(nextBlock wasmenc.Label) {
		for i := range plane {
			f.Set(plane[i], f.I32Add(f.Get(src), f.I32Mul(f.Get(planeBytes), f.I32Const(int32(i)))))
		}
		f.Set(acc, zero(f))
		f.Set(at, f.I32Const(0))
		f.If(f.Get(vectorsEnd), func() {
			f.Loop(func(next wasmenc.Label) {
				for i := range v {
					f.Set(v[i], f.V128Load(f.I32Add(f.Get(plane[i]), f.Get(at)), 0))
				}
				f.Set(t[0], f.Shuffle32(f.Get(v[0]), f.Get(v[1]), [4]byte{0, 4, 1, 5})) // pixels 0 and 1 of maps 0 and 1
				f.Set(t[1], f.Shuffle32(f.Get(v[2]), f.Get(v[3]), [4]byte{0, 4, 1, 5})) // of maps 2 and 3
				f.Set(t[2], f.Shuffle32(f.Get(v[0]), f.Get(v[1]), [4]byte{2, 6, 3, 7})) // pixels 2 and 3
				f.Set(t[3], f.Shuffle32(f.Get(v[2]), f.Get(v[3]), [4]byte{2, 6, 3, 7}))
				for _, pixel := range []struct {
					a, b  int
					lanes [4]byte
				}{{0, 1, [4]byte{0, 1, 4, 5}}, {0, 1, [4]byte{2, 3, 6, 7}}, {2, 3, [4]byte{0, 1, 4, 5}}, {2, 3, [4]byte{2, 3, 6, 7}}} {
					f.Set(acc, f.F32x4Add(f.Get(acc), f.Shuffle32(f.Get(t[pixel.a]), f.Get(t[pixel.b]), pixel.lanes)))
				}
				f.Set(at, f.I32Add(f.Get(at), f.I32Const(16)))
				f.BrIf(next, f.I32LtU(f.Get(at), f.Get(vectorsEnd)))
			})
		})
		f.If(f.I32LtU(f.Get(at), f.Get(planeBytes)), func() {
			f.Loop(func(next wasmenc.Label) {
				sum := f.Get(acc)
				pixel := f.F32x4Splat(f.F32Load(f.I32Add(f.Get(plane[0]), f.Get(at)), 0))
				for i := 1; i < 4; i++ {
					pixel = f.F32x4ReplaceLane(pixel, byte(i), f.F32Load(f.I32Add(f.Get(plane[i]), f.Get(at)), 0))
				}
				f.Set(acc, f.F32x4Add(sum, pixel))
				f.Set(at, f.I32Add(f.Get(at), f.I32Const(4)))
				f.BrIf(next, f.I32LtU(f.Get(at), f.Get(planeBytes)))
			})
		})
		f.V128Store(f.Get(dst), 0, f.F32x4Div(f.Get(acc), f.Get(divisor)))
		f.Set(dst, f.I32Add(f.Get(dst), f.I32Const(16)))
		f.Set(src, f.I32Add(f.Get(src), f.I32Shl(f.Get(planeBytes), f.I32Const(2))))
		f.Set(channels, f.I32Sub(f.Get(channels), f.I32Const(4)))
		f.BrIf(nextBlock, f.Get(channels))
	})
}
