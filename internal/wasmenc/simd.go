package wasmenc

// SIMD128 instructions: the 0xfd prefix, then the opcode in LEB128.

func (f *Func) simd(op uint32) { f.code = appendU32(append(f.code, 0xfd), op) }

func (f *Func) v128Binary(op uint32, a, b Expr) Expr {
	f.use(V128, a, b)
	f.simd(op)
	return f.push(V128)
}

// V128Load loads 16 bytes from addr+offset (any alignment).
func (f *Func) V128Load(addr Expr, offset uint32) Expr {
	f.use(I32, addr)
	f.simd(0x00)
	f.code = appendU32(appendU32(f.code, 0), offset)
	return f.push(V128)
}

// V128Store stores v at addr+offset (any alignment).
func (f *Func) V128Store(addr Expr, offset uint32, v Expr) {
	f.take([]ValType{I32, V128}, []Expr{addr, v})
	f.simd(0x0b)
	f.code = appendU32(appendU32(f.code, 0), offset)
}

// V128Load32Splat loads the f32 (or i32) at addr+offset into all four lanes.
func (f *Func) V128Load32Splat(addr Expr, offset uint32) Expr {
	f.use(I32, addr)
	f.simd(0x09)
	f.code = appendU32(appendU32(f.code, 2), offset)
	return f.push(V128)
}

// V128Store32Lane stores lane of v at addr+offset.
func (f *Func) V128Store32Lane(addr Expr, offset uint32, v Expr, lane byte) {
	f.take([]ValType{I32, V128}, []Expr{addr, v})
	f.simd(0x5a)
	f.code = appendU32(appendU32(f.code, 2), offset)
	f.code = append(f.code, lane)
}

// V128Const pushes four i32 lanes.
func (f *Func) V128Const(lanes [4]uint32) Expr {
	f.simd(0x0c)
	for _, l := range lanes {
		f.code = append(f.code, byte(l), byte(l>>8), byte(l>>16), byte(l>>24))
	}
	return f.push(V128)
}

// Shuffle32 picks four 32-bit lanes from a and b: lane i of the result is
// lane lanes[i] of the eight lanes a0..a3 b0..b3 (i8x16.shuffle).
func (f *Func) Shuffle32(a, b Expr, lanes [4]byte) Expr {
	f.use(V128, a, b)
	f.simd(0x0d)
	for _, l := range lanes {
		if l > 7 {
			panic("wasmenc: shuffle lane out of range")
		}
		f.code = append(f.code, 4*l, 4*l+1, 4*l+2, 4*l+3)
	}
	return f.push(V128)
}

// F32x4Splat puts v in all four lanes.
func (f *Func) F32x4Splat(v Expr) Expr {
	f.use(F32, v)
	f.simd(0x13)
	return f.push(V128)
}

// F32x4ExtractLane is lane of v.
func (f *Func) F32x4ExtractLane(v Expr, lane byte) Expr {
	f.use(V128, v)
	f.simd(0x1f)
	f.code = append(f.code, lane)
	return f.push(F32)
}

// F32x4ReplaceLane is v with lane set to x.
func (f *Func) F32x4ReplaceLane(v Expr, lane byte, x Expr) Expr {
	f.take([]ValType{V128, F32}, []Expr{v, x})
	f.simd(0x20)
	f.code = append(f.code, lane)
	return f.push(V128)
}

// V128And is the bitwise and.
func (f *Func) V128And(a, b Expr) Expr { return f.v128Binary(0x4e, a, b) }

// V128Bitselect takes the bits of a where mask is 1 and of b where it is 0.
func (f *Func) V128Bitselect(a, b, mask Expr) Expr {
	f.use(V128, a, b, mask)
	f.simd(0x52)
	return f.push(V128)
}

// The f32x4 arithmetic follows IEEE 754 lane by lane, exactly as the
// scalar f32 (and Go float32) operations do; Max is Go's max, NaN and
// signed zeros included.
func (f *Func) F32x4Add(a, b Expr) Expr { return f.v128Binary(0xe4, a, b) }
func (f *Func) F32x4Sub(a, b Expr) Expr { return f.v128Binary(0xe5, a, b) }
func (f *Func) F32x4Mul(a, b Expr) Expr { return f.v128Binary(0xe6, a, b) }
func (f *Func) F32x4Div(a, b Expr) Expr { return f.v128Binary(0xe7, a, b) }
func (f *Func) F32x4Max(a, b Expr) Expr { return f.v128Binary(0xe9, a, b) }

// F32x4Pmax is the pseudo-maximum a < b ? b : a, lane by lane: it keeps a
// where the two are unordered (a NaN) or equal (zeros of either sign).
// Engines compile it to one x86 maxps, where Max, to honour NaN and
// signed zeros on x86, takes eight instructions in V8.
func (f *Func) F32x4Pmax(a, b Expr) Expr { return f.v128Binary(0xeb, a, b) }

// F32x4RelaxedMadd is a*b + c, rounded once or twice as the machine does
// it (relaxed SIMD's f32x4.relaxed_madd: a fused multiply-add where the
// CPU has one).
func (f *Func) F32x4RelaxedMadd(a, b, c Expr) Expr {
	f.use(V128, a, b, c)
	f.simd(0x105)
	return f.push(V128)
}
