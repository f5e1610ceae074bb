package simd128

import (
	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
	"github.com/shufflenet-go/shufflenet/internal/wasmenc"
)

// The SIMD128 classifier computes 4 outputs at once, one per lane, each
// lane doing what dot does for its output: eight partial sums of every
// eighth product, the inputs past the last multiple of 8 added to the
// first, then ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7)) and the bias. So the
// results are identical. Its weights are laid out 4 outputs side by side.

// writeClassifier writes classifier(dst, src, weights, bias, in, out)
// (abi.Classifier).
func writeClassifier(m *wasmenc.Module) {
	i32, v128 := wasmenc.I32, wasmenc.V128
	f, param := export(m, abi.Classifier)
	dst, src, weights, bias, in, out := param("dst"), param("src"), param("weights"), param("bias"), param("in"), param("out")
	var s [8]wasmenc.Local
	for j := range s {
		s[j] = f.Local(v128)
	}
	x, eights, rest, sum := f.Local(i32), f.Local(i32), f.Local(i32), f.Local(v128)
	f.Set(eights, f.I32ShrU(f.Get(in), f.I32Const(3)))
	f.Loop(func(nextBlock wasmenc.Label) {
		for j := range s {
			f.Set(s[j], zero(f))
		}
		f.Set(x, f.Get(src))
		f.Set(rest, f.Get(eights))
		f.If(f.Get(rest), func() {
			f.Loop(func(next wasmenc.Label) {
				for j := range s {
					f.Set(s[j], f.F32x4Add(f.Get(s[j]), f.F32x4Mul(f.V128Load(f.Get(weights), uint32(16*j)), f.V128Load32Splat(f.Get(x), uint32(4*j)))))
				}
				f.Set(weights, f.I32Add(f.Get(weights), f.I32Const(8*16)))
				f.Set(x, f.I32Add(f.Get(x), f.I32Const(8*4)))
				f.Set(rest, f.I32Sub(f.Get(rest), f.I32Const(1)))
				f.BrIf(next, f.Get(rest))
			})
		})
		f.Set(rest, f.I32And(f.Get(in), f.I32Const(7))) // the inputs past the last 8 go to s0
		f.If(f.Get(rest), func() {
			f.Loop(func(next wasmenc.Label) {
				f.Set(s[0], f.F32x4Add(f.Get(s[0]), f.F32x4Mul(f.V128Load(f.Get(weights), 0), f.V128Load32Splat(f.Get(x), 0))))
				f.Set(weights, f.I32Add(f.Get(weights), f.I32Const(16)))
				f.Set(x, f.I32Add(f.Get(x), f.I32Const(4)))
				f.Set(rest, f.I32Sub(f.Get(rest), f.I32Const(1)))
				f.BrIf(next, f.Get(rest))
			})
		})
		pair := func(a, b int) wasmenc.Expr { return f.F32x4Add(f.Get(s[a]), f.Get(s[b])) }
		f.Set(sum, f.F32x4Add(f.F32x4Add(pair(0, 1), pair(2, 3)), f.F32x4Add(pair(4, 5), pair(6, 7))))
		f.IfElse(f.I32GeU(f.Get(out), f.I32Const(4)), func() {
			f.V128Store(f.Get(dst), 0, f.F32x4Add(f.V128Load(f.Get(bias), 0), f.Get(sum)))
		}, func() { // the last outputs, fewer than 4
			for lane := range byte(3) {
				f.If(f.I32GtU(f.Get(out), f.I32Const(int32(lane))), func() {
					f.F32Store(f.Get(dst), uint32(4*lane), f.F32Add(f.F32Load(f.Get(bias), uint32(4*lane)), f.F32x4ExtractLane(f.Get(sum), lane)))
				})
			}
		})
		f.Set(dst, f.I32Add(f.Get(dst), f.I32Const(16)))
		f.Set(bias, f.I32Add(f.Get(bias), f.I32Const(16)))
		f.Set(out, f.I32Sub(f.Get(out), f.I32Const(4)))
		f.BrIf(nextBlock, f.I32GtS(f.Get(out), f.I32Const(0)))
	})
}
