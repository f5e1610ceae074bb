package wasmenc

import (
	"errors"
	"fmt"
	"math"
)

// Func is a function body being written. Instructions are methods that
// take their operands as Expr arguments: Go evaluates arguments left to
// right, so writing f.F32x4Add(f.Get(a), f.F32x4Mul(f.Get(w), f.Get(x)))
// emits get a, get w, get x, mul, add, which is the stack machine's order.
// Every method checks its operands' types, so a kernel that would not
// validate fails when it is generated, with a Go stack trace.
type Func struct {
	name                    string
	index                   int
	params, results, locals []ValType
	code                    []byte
	height                  int   // values on the stack in the current block
	blocks                  []int // the stack height outside each open block
}

// Local is a parameter or local variable.
type Local struct {
	index uint32
	t     ValType
}

// Type is the local's value type.
func (l Local) Type() ValType { return l.t }

// Expr is a value an instruction has just pushed on the stack: an
// instruction can only take the values on top of the stack, in the order
// they were pushed, so using an Expr out of turn is an error.
type Expr struct {
	t   ValType
	pos int // its position on the stack
}

// Type is the value's type.
func (e Expr) Type() ValType { return e.t }

// Label names an enclosing block or loop, for Br and BrIf.
type Label struct{ level int }

// Param returns parameter i.
func (f *Func) Param(i int) Local { return Local{uint32(i), f.params[i]} }

// Local declares a new local variable of type t, initially zero.
func (f *Func) Local(t ValType) Local {
	f.locals = append(f.locals, t)
	return Local{uint32(len(f.params) + len(f.locals) - 1), t}
}

func (f *Func) finished() error {
	if len(f.blocks) != 0 {
		return errors.New("unclosed block")
	}
	if f.height != len(f.results) {
		return fmt.Errorf("%d values left on the stack, want %d", f.height, len(f.results))
	}
	return nil
}

// encodeLocals encodes the local declarations, runs of equal types merged.
func (f *Func) encodeLocals() []byte {
	var runs [][2]int // count, type
	for _, t := range f.locals {
		if n := len(runs); n > 0 && runs[n-1][1] == int(t) {
			runs[n-1][0]++
			continue
		}
		runs = append(runs, [2]int{1, int(t)})
	}
	b := appendU32(nil, uint32(len(runs)))
	for _, r := range runs {
		b = appendU32(b, uint32(r[0]))
		b = append(b, byte(r[1]))
	}
	return b
}

// use checks that operands are the values on top of the stack, in order,
// all of the wanted type, and pops them.
func (f *Func) use(want ValType, operands ...Expr) {
	types := make([]ValType, len(operands))
	for i := range types {
		types[i] = want
	}
	f.take(types, operands)
}

// take checks that operands are the values on top of the stack, in order,
// with the given types, and pops them.
func (f *Func) take(types []ValType, operands []Expr) {
	for i, e := range operands {
		if e.t != types[i] {
			panic(fmt.Sprintf("wasmenc: operand %d is %v, want %v", i, e.t, types[i]))
		}
		if e.pos != f.height-len(operands)+i {
			panic(fmt.Sprintf("wasmenc: operand %d was pushed out of turn", i))
		}
	}
	f.pop(len(operands))
}

func (f *Func) pop(n int) {
	floor := 0
	if len(f.blocks) > 0 {
		floor = f.blocks[len(f.blocks)-1]
	}
	if f.height-n < floor {
		panic("wasmenc: stack underflow")
	}
	f.height -= n
}

func (f *Func) push(t ValType) Expr {
	f.height++
	return Expr{t: t, pos: f.height - 1}
}

// Control flow.

const (
	opBlock = 0x02
	opLoop  = 0x03
	opIf    = 0x04
	opElse  = 0x05
	opEnd   = 0x0b
	opBr    = 0x0c
	opBrIf  = 0x0d
	opRet   = 0x0f
	opCall  = 0x10
	opDrop  = 0x1a
	opSel   = 0x1b
)

func (f *Func) open(op byte, body func(Label)) {
	f.code = append(f.code, op, 0x40) // no block results
	f.blocks = append(f.blocks, f.height)
	body(Label{level: len(f.blocks)})
	f.close()
}

func (f *Func) close() {
	outside := f.blocks[len(f.blocks)-1]
	if f.height != outside {
		panic(fmt.Sprintf("wasmenc: block leaves %d values on the stack", f.height-outside))
	}
	f.blocks = f.blocks[:len(f.blocks)-1]
	f.code = append(f.code, opEnd)
}

// Block runs body inside a block: a branch to its label leaves the block.
func (f *Func) Block(body func(end Label)) { f.open(opBlock, body) }

// Loop runs body inside a loop: a branch to its label starts it again.
func (f *Func) Loop(body func(again Label)) { f.open(opLoop, body) }

// If runs then when cond is not zero.
func (f *Func) If(cond Expr, then func()) {
	f.use(I32, cond)
	f.open(opIf, func(Label) { then() })
}

// IfElse runs then when cond is not zero, otherwise els.
func (f *Func) IfElse(cond Expr, then, els func()) {
	f.use(I32, cond)
	f.code = append(f.code, opIf, 0x40)
	f.blocks = append(f.blocks, f.height)
	then()
	if f.height != f.blocks[len(f.blocks)-1] {
		panic("wasmenc: then branch leaves values on the stack")
	}
	f.code = append(f.code, opElse)
	els()
	f.close()
}

func (f *Func) depth(l Label) uint32 {
	if l.level < 1 || l.level > len(f.blocks) {
		panic("wasmenc: branch to a label that is not open")
	}
	return uint32(len(f.blocks) - l.level)
}

// Br branches to l.
func (f *Func) Br(l Label) {
	f.code = appendU32(append(f.code, opBr), f.depth(l))
}

// BrIf branches to l when cond is not zero.
func (f *Func) BrIf(l Label, cond Expr) {
	f.use(I32, cond)
	f.code = appendU32(append(f.code, opBrIf), f.depth(l))
}

// Return returns from the function (which must have no results).
func (f *Func) Return() {
	if len(f.results) != 0 {
		panic("wasmenc: Return in a function with results")
	}
	f.code = append(f.code, opRet)
}

// Call calls g (a function without results) with args.
func (f *Func) Call(g *Func, args ...Expr) {
	if len(g.results) != 0 || len(args) != len(g.params) {
		panic("wasmenc: Call needs a function without results and all its arguments")
	}
	f.take(g.params, args)
	f.code = appendU32(append(f.code, opCall), uint32(g.index))
}

// Drop discards a value.
func (f *Func) Drop(e Expr) {
	f.take([]ValType{e.t}, []Expr{e})
	f.code = append(f.code, opDrop)
}

// Select is a when cond is not zero, else b.
func (f *Func) Select(a, b, cond Expr) Expr {
	f.take([]ValType{a.t, a.t, I32}, []Expr{a, b, cond})
	f.code = append(f.code, opSel)
	return f.push(a.t)
}

// Variables.

// Get pushes a local's value.
func (f *Func) Get(l Local) Expr {
	f.code = appendU32(append(f.code, 0x20), l.index)
	return f.push(l.t)
}

// Set stores v in a local.
func (f *Func) Set(l Local, v Expr) {
	f.use(l.t, v)
	f.code = appendU32(append(f.code, 0x21), l.index)
}

// Tee stores v in a local and pushes it again.
func (f *Func) Tee(l Local, v Expr) Expr {
	f.use(l.t, v)
	f.code = appendU32(append(f.code, 0x22), l.index)
	return f.push(l.t)
}

// Memory. Addresses are i32 byte addresses; offset is added to them.

func (f *Func) memarg(op []byte, align, offset uint32) {
	f.code = append(f.code, op...)
	f.code = appendU32(f.code, align)
	f.code = appendU32(f.code, offset)
}

// I32Load loads an i32 from addr+offset.
func (f *Func) I32Load(addr Expr, offset uint32) Expr {
	f.use(I32, addr)
	f.memarg([]byte{0x28}, 2, offset)
	return f.push(I32)
}

// F32Load loads an f32 from addr+offset.
func (f *Func) F32Load(addr Expr, offset uint32) Expr {
	f.use(I32, addr)
	f.memarg([]byte{0x2a}, 2, offset)
	return f.push(F32)
}

// F32Store stores v at addr+offset.
func (f *Func) F32Store(addr Expr, offset uint32, v Expr) {
	f.take([]ValType{I32, F32}, []Expr{addr, v})
	f.memarg([]byte{0x38}, 2, offset)
}

// I32Store stores v at addr+offset.
func (f *Func) I32Store(addr Expr, offset uint32, v Expr) {
	f.take([]ValType{I32, I32}, []Expr{addr, v})
	f.memarg([]byte{0x36}, 2, offset)
}

// Constants.

// I32Const pushes v.
func (f *Func) I32Const(v int32) Expr {
	f.code = appendS32(append(f.code, 0x41), v)
	return f.push(I32)
}

// F32Const pushes v.
func (f *Func) F32Const(v float32) Expr {
	bits := math.Float32bits(v)
	f.code = append(f.code, 0x43, byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24))
	return f.push(F32)
}

// Integer arithmetic and comparisons (i32).

// binary pops two operands of type t and pushes the result of op on them.
func (f *Func) binary(t ValType, op byte, a, b Expr) Expr {
	f.use(t, a, b)
	f.code = append(f.code, op)
	return f.push(t)
}

func (f *Func) i32Binary(op byte, a, b Expr) Expr { return f.binary(I32, op, a, b) }

func (f *Func) I32Add(a, b Expr) Expr  { return f.i32Binary(0x6a, a, b) }
func (f *Func) I32Sub(a, b Expr) Expr  { return f.i32Binary(0x6b, a, b) }
func (f *Func) I32Mul(a, b Expr) Expr  { return f.i32Binary(0x6c, a, b) }
func (f *Func) I32DivU(a, b Expr) Expr { return f.i32Binary(0x6e, a, b) }
func (f *Func) I32And(a, b Expr) Expr  { return f.i32Binary(0x71, a, b) }
func (f *Func) I32Or(a, b Expr) Expr   { return f.i32Binary(0x72, a, b) }
func (f *Func) I32Shl(a, b Expr) Expr  { return f.i32Binary(0x74, a, b) }
func (f *Func) I32ShrU(a, b Expr) Expr { return f.i32Binary(0x76, a, b) }
func (f *Func) I32Eq(a, b Expr) Expr   { return f.i32Binary(0x46, a, b) }
func (f *Func) I32Ne(a, b Expr) Expr   { return f.i32Binary(0x47, a, b) }
func (f *Func) I32LtS(a, b Expr) Expr  { return f.i32Binary(0x48, a, b) }
func (f *Func) I32LtU(a, b Expr) Expr  { return f.i32Binary(0x49, a, b) }
func (f *Func) I32GtS(a, b Expr) Expr  { return f.i32Binary(0x4a, a, b) }
func (f *Func) I32GtU(a, b Expr) Expr  { return f.i32Binary(0x4b, a, b) }
func (f *Func) I32LeS(a, b Expr) Expr  { return f.i32Binary(0x4c, a, b) }
func (f *Func) I32LeU(a, b Expr) Expr  { return f.i32Binary(0x4d, a, b) }
func (f *Func) I32GeS(a, b Expr) Expr  { return f.i32Binary(0x4e, a, b) }
func (f *Func) I32GeU(a, b Expr) Expr  { return f.i32Binary(0x4f, a, b) }

// I32Eqz is 1 when a is zero.
func (f *Func) I32Eqz(a Expr) Expr {
	f.use(I32, a)
	f.code = append(f.code, 0x45)
	return f.push(I32)
}

// F32ConvertI32U is the unsigned integer a as the nearest f32
// (f32.convert_i32_u), as Go's float32(uint32(a)).
func (f *Func) F32ConvertI32U(a Expr) Expr {
	f.use(I32, a)
	f.code = append(f.code, 0xb3)
	return f.push(F32)
}

// Scalar float arithmetic (f32).

func (f *Func) f32Binary(op byte, a, b Expr) Expr { return f.binary(F32, op, a, b) }

func (f *Func) F32Add(a, b Expr) Expr { return f.f32Binary(0x92, a, b) }
func (f *Func) F32Mul(a, b Expr) Expr { return f.f32Binary(0x94, a, b) }
func (f *Func) F32Div(a, b Expr) Expr { return f.f32Binary(0x95, a, b) }
func (f *Func) F32Max(a, b Expr) Expr { return f.f32Binary(0x97, a, b) }
