package simd128

import (
	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
	"github.com/shufflenet-go/shufflenet/internal/wasmenc"
)

// The fused build runs the seed's stride-1 grouped 3x3 convs as Winograd's
// F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016): each 2x2 block of outputs (a tile) comes from the 4x4
// block of padded input around it, V = Bt d B for each input channel,
// multiplied position by position (16 of them) with the weights
// transformed the same way, U = G g Gt, summed over the group's input
// channels, and transformed back, Y = At M A. The products are 16 grouped
// pointwise convs over the tiles, which the engine runs with the pointwise
// kernel; these two kernels are the transforms. A tile's 4 outputs then
// take 16 multiply-adds per input channel instead of 36: in Chromium the
// seed g3's grouped layers went from 5.96 to 4.51 ms (BenchmarkLayers,
// internal/browserbench), its forward pass from 13.4 to 12.0 ms.
//
//	Bt = | 1  0 -1  0 |   G = |  1    0    0  |   At = | 1  1  1  0 |
//	     | 0  1  1  0 |       | 1/2  1/2  1/2 |        | 0  1 -1 -1 |
//	     | 0 -1  1  0 |       | 1/2 -1/2  1/2 |
//	     | 0  1  0 -1 |       |  0    0    1  |
//
// Both transforms work on 4 tiles of a row of tiles at once, one per lane;
// a row of T tiles ends with a vector that overlaps the one before (T is
// at least 4), which recomputes the same values.

// writeWinogradInput writes winogradInput(dst, padded, channels, size)
// (abi.WinogradInput): for each channel's Pad1-padded size x size map, the
// transformed input tiles, dst[position][channel][tile]. The tiles start
// every 2 pixels, T = (size+1)/2 to a side; for an odd size the last ones
// read a row and a column past the padded map (the next plane's top row,
// the next row's left column, or past the last plane), and the last
// vector's third load reads 2 floats past the row. Only the transformed
// positions with j = 3 or k = 3 take those values, and At gives them only
// to a tile's second row or column, which for an odd size's last tiles is
// outside the map and not stored.
func writeWinogradInput(m *wasmenc.Module) {
	i32, v128 := wasmenc.I32, wasmenc.V128
	f, param := export(m, abi.WinogradInput)
	dst, padded, channels, size := param("dst"), param("padded"), param("channels"), param("size")
	rowBytes, planeBytes := f.Local(i32), f.Local(i32)
	ty, inRow, out, p := f.Local(i32), f.Local(i32), f.Local(i32), f.Local(i32)
	a, b, c := f.Local(v128), f.Local(v128), f.Local(v128)
	var d [4]wasmenc.Local
	for k := range d {
		d[k] = f.Local(v128)
	}

	t, tileRowBytes, channelBytes, positionBytes := tileLayout(f, size, channels)
	f.Set(rowBytes, f.I32Shl(f.I32Add(f.Get(size), f.I32Const(2)), f.I32Const(2)))
	f.Set(planeBytes, f.I32Mul(f.Get(rowBytes), f.I32Add(f.Get(size), f.I32Const(2))))
	// at is the vector's first tile of the row, in bytes of dst; its input
	// columns start at 2*at bytes of the padded row.
	f.Loop(func(nextChannel wasmenc.Label) {
		f.Set(inRow, f.Get(padded))
		f.Set(out, f.Get(dst))
		f.Set(ty, f.Get(t))
		f.Loop(func(nextRow wasmenc.Label) {
			eachVector(f, tileRowBytes, func(at wasmenc.Local) {
				// Each input row across: Bt along the row, into positions 4r+k.
				for r := range 4 {
					f.Set(p, f.I32Add(f.I32Add(f.Get(inRow), f.I32Mul(f.Get(rowBytes), f.I32Const(int32(r)))), f.I32Shl(f.Get(at), f.I32Const(1))))
					f.Set(a, f.V128Load(f.Get(p), 0))
					f.Set(b, f.V128Load(f.Get(p), 16))
					f.Set(c, f.V128Load(f.Get(p), 32))
					// d[k]: column 2x+k of the vector's 4 tiles x.
					f.Set(d[0], f.Shuffle32(f.Get(a), f.Get(b), [4]byte{0, 2, 4, 6}))
					f.Set(d[1], f.Shuffle32(f.Get(a), f.Get(b), [4]byte{1, 3, 5, 7}))
					f.Set(d[2], f.Shuffle32(f.Shuffle32(f.Get(a), f.Get(b), [4]byte{2, 4, 6, 6}), f.Get(c), [4]byte{0, 1, 2, 4}))
					f.Set(d[3], f.Shuffle32(f.Shuffle32(f.Get(a), f.Get(b), [4]byte{3, 5, 7, 7}), f.Get(c), [4]byte{0, 1, 2, 5}))
					bt := bTransposed(f, d)
					for k := range 4 {
						f.V128Store(f.I32Add(f.I32Add(f.Get(out), f.Get(at)), f.I32Mul(f.Get(positionBytes), f.I32Const(int32(4*r+k)))), 0, bt(k))
					}
				}
				// Then down each column: Bt again, positions 4r+k to 4j+k.
				for k := range 4 {
					position := func(r int) wasmenc.Expr {
						return f.I32Add(f.I32Add(f.Get(out), f.Get(at)), f.I32Mul(f.Get(positionBytes), f.I32Const(int32(4*r+k))))
					}
					for r := range 4 {
						f.Set(d[r], f.V128Load(position(r), 0))
					}
					bt := bTransposed(f, d)
					for j := range 4 {
						f.V128Store(position(j), 0, bt(j))
					}
				}
			})
			f.Set(inRow, f.I32Add(f.Get(inRow), f.I32Shl(f.Get(rowBytes), f.I32Const(1))))
			f.Set(out, f.I32Add(f.Get(out), f.Get(tileRowBytes)))
			f.Set(ty, f.I32Sub(f.Get(ty), f.I32Const(1)))
			f.BrIf(nextRow, f.Get(ty))
		})
		f.Set(padded, f.I32Add(f.Get(padded), f.Get(planeBytes)))
		f.Set(dst, f.I32Add(f.Get(dst), f.Get(channelBytes)))
		f.Set(channels, f.I32Sub(f.Get(channels), f.I32Const(1)))
		f.BrIf(nextChannel, f.Get(channels))
	})
}

// tileLayout sets and returns locals of f for the tiles of channels size x
// size maps as [position][channel][tile]: T, the tiles a side, and the
// bytes of a row of tiles, of a channel's tiles and of a position's.
func tileLayout(f *wasmenc.Func, size, channels wasmenc.Local) (t, rowBytes, channelBytes, positionBytes wasmenc.Local) {
	i32 := wasmenc.I32
	t, rowBytes, channelBytes, positionBytes = f.Local(i32), f.Local(i32), f.Local(i32), f.Local(i32)
	f.Set(t, f.I32ShrU(f.I32Add(f.Get(size), f.I32Const(1)), f.I32Const(1)))
	f.Set(rowBytes, f.I32Shl(f.Get(t), f.I32Const(2)))
	f.Set(channelBytes, f.I32Mul(f.Get(rowBytes), f.Get(t)))
	f.Set(positionBytes, f.I32Mul(f.Get(channelBytes), f.Get(channels)))
	return t, rowBytes, channelBytes, positionBytes
}

// bTransposed returns a function that pushes row k of Bt x for the 4
// vectors x (an expression is emitted when it is made, so each is made
// where it is used).
func bTransposed(f *wasmenc.Func, x [4]wasmenc.Local) func(k int) wasmenc.Expr {
	return func(k int) wasmenc.Expr {
		switch k {
		case 0:
			return f.F32x4Sub(f.Get(x[0]), f.Get(x[2]))
		case 1:
			return f.F32x4Add(f.Get(x[1]), f.Get(x[2]))
		case 2:
			return f.F32x4Sub(f.Get(x[2]), f.Get(x[1]))
		}
		return f.F32x4Sub(f.Get(x[1]), f.Get(x[3]))
	}
}

// writeWinogradOutput writes winogradOutput(dst, products, bias, out,
// size) (abi.WinogradOutput): from the summed products m[position]
// [channel][tile], each output channel's size x size map, At m A plus its
// bias.
// For an odd size the last tiles' second row and column fall outside the
// map and are not stored.
func writeWinogradOutput(m *wasmenc.Module) {
	i32, v128 := wasmenc.I32, wasmenc.V128
	f, param := export(m, abi.WinogradOutput)
	dst, products, bias, out, size := param("dst"), param("products"), param("bias"), param("out"), param("size")
	rowBytes, ty, in, row, oddSize := f.Local(i32), f.Local(i32), f.Local(i32), f.Local(i32), f.Local(i32)
	biasV, x, y := f.Local(v128), f.Local(v128), f.Local(v128)
	var s [4][2]wasmenc.Local // At along each row of m: s[j][0], s[j][1]
	for j := range s {
		s[j] = [2]wasmenc.Local{f.Local(v128), f.Local(v128)}
	}
	var mj [4]wasmenc.Local
	for k := range mj {
		mj[k] = f.Local(v128)
	}

	t, tileRowBytes, channelBytes, positionBytes := tileLayout(f, size, out)
	f.Set(oddSize, f.I32And(f.Get(size), f.I32Const(1)))
	f.Set(rowBytes, f.I32Shl(f.Get(size), f.I32Const(2)))
	f.Loop(func(nextChannel wasmenc.Label) {
		f.Set(biasV, f.V128Load32Splat(f.Get(bias), 0))
		f.Set(in, f.Get(products))
		f.Set(row, f.Get(dst))
		f.Set(ty, f.Get(t))
		f.Loop(func(nextRow wasmenc.Label) {
			eachVector(f, tileRowBytes, func(at wasmenc.Local) {
				for j := range 4 {
					for k := range 4 {
						f.Set(mj[k], f.V128Load(f.I32Add(f.I32Add(f.Get(in), f.Get(at)), f.I32Mul(f.Get(positionBytes), f.I32Const(int32(4*j+k)))), 0))
					}
					f.Set(s[j][0], f.F32x4Add(f.F32x4Add(f.Get(mj[0]), f.Get(mj[1])), f.Get(mj[2])))
					f.Set(s[j][1], f.F32x4Sub(f.F32x4Sub(f.Get(mj[1]), f.Get(mj[2])), f.Get(mj[3])))
				}
				// lastVector: the row's last vector, whose last tile's
				// second column is outside a map of odd size.
				lastVector := func() wasmenc.Expr { return f.I32Eq(f.Get(at), f.I32Sub(f.Get(tileRowBytes), f.I32Const(16))) }
				// Output row 2ty (a = 0) and 2ty+1 (a = 1): columns 2x and
				// 2x+1 of the vector's tiles, interleaved.
				outputRow := func(a int) {
					for b := range 2 {
						target := y
						if b == 1 {
							target = x
						}
						if a == 0 {
							f.Set(target, f.F32x4Add(f.F32x4Add(f.F32x4Add(f.Get(s[0][b]), f.Get(s[1][b])), f.Get(s[2][b])), f.Get(biasV)))
						} else {
							f.Set(target, f.F32x4Add(f.F32x4Sub(f.F32x4Sub(f.Get(s[1][b]), f.Get(s[2][b])), f.Get(s[3][b])), f.Get(biasV)))
						}
					}
					// y: column 2x, x: column 2x+1.
					at2 := func() wasmenc.Expr {
						return f.I32Add(f.I32Add(f.Get(row), f.I32Mul(f.Get(rowBytes), f.I32Const(int32(a)))), f.I32Shl(f.Get(at), f.I32Const(1)))
					}
					f.V128Store(at2(), 0, f.Shuffle32(f.Get(y), f.Get(x), [4]byte{0, 4, 1, 5}))
					f.IfElse(f.I32And(f.Get(oddSize), lastVector()), func() {
						f.Set(y, f.Shuffle32(f.Get(y), f.Get(x), [4]byte{2, 6, 3, 7}))
						for lane := range 3 {
							f.V128Store32Lane(at2(), uint32(16+4*lane), f.Get(y), byte(lane))
						}
					}, func() {
						f.V128Store(at2(), 16, f.Shuffle32(f.Get(y), f.Get(x), [4]byte{2, 6, 3, 7}))
					})
				}
				outputRow(0)
				// The second row of the last row of tiles is outside a map of odd size.
				f.If(f.I32Or(f.I32Eqz(f.Get(oddSize)), f.I32Ne(f.Get(ty), f.I32Const(1))), func() { outputRow(1) })
			})
			f.Set(in, f.I32Add(f.Get(in), f.Get(tileRowBytes)))
			f.Set(row, f.I32Add(f.Get(row), f.I32Shl(f.Get(rowBytes), f.I32Const(1))))
			f.Set(ty, f.I32Sub(f.Get(ty), f.I32Const(1)))
			f.BrIf(nextRow, f.Get(ty))
		})
		f.Set(products, f.I32Add(f.Get(products), f.Get(channelBytes)))
		f.Set(dst, f.I32Add(f.Get(dst), f.I32Mul(f.Get(rowBytes), f.Get(size))))
		f.Set(bias, f.I32Add(f.Get(bias), f.I32Const(4)))
		f.Set(out, f.I32Sub(f.Get(out), f.I32Const(1)))
		f.BrIf(nextChannel, f.Get(out))
	})
}
