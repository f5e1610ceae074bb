package simd128

import (
	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
	"github.com/shufflenet-go/shufflenet/internal/wasmenc"
)

// pointwise(dst, src, residual, weights, bias, planes, hw, inPer, outPer,
// groups, ep) (abi.Pointwise) runs a grouped 1x1 conv with the portable
// kernel's shape: for a block of abi.PointwiseRows output channels and a
// tile of up to pwTile pixels, each step adds two input channels to the
// block's rows, which are accumulated in place in dst (in L1) while the
// inputs stream by: acc += w[i]*x[i] + w[i+1]*x[i+1], then the odd
// channel, then the epilogue (ep: abi.Linear, ReLU, or AddReLU with
// residual, which has dst's layout), fused into the first and last steps. So every output is the
// same sum in the same order as engine's pointwise.rows4, and the results
// are identical. weights are [group][block][input][row in block]; planes
// holds the byte offset of each output channel's plane in dst.
//
// Keeping the sums in registers instead (a tile of 4 rows by 8 pixels,
// looping over the inputs inside) ran slower in this build in Chromium
// (Megvii 1.0x: 8.8 ms against 7.6 for its pointwise layers): V8 loads
// every weight of a step before computing, and 8 sums, 4 input vectors
// and 8 weights do not fit in the 15 vector registers, so it spills.
//
// The fused build (see Module) does keep them in registers (registerTiles):
// with relaxed SIMD's f32x4.relaxed_madd, which V8 and SpiderMonkey compile
// to an FMA on x86 with FMA3, there is no product to hold, and a tile of 6
// rows by 8 pixels needs 15 registers: 12 sums, 2 inputs, a weight. It
// takes 12 sums to keep the FMA units busy: an FMA waits 4 cycles for its
// sum and two can start each cycle, so 8 independent sums are the least,
// and then any stall shows. In Chromium on this Zen 5 VM, a loop of
// independent FMAs peaks at 28 GMAC/s with 12 sums and 24 with 8, and
// Megvii 1.0x's pointwise layers ran at 22-23.5 GMAC/s with 4 rows (8
// sums), 24.5-25.8 with 6 (BenchmarkLayers, 2026-12-07). Its blocks are
// abi.FusedPointwiseRows, the plain build's abi.PointwiseRows (see there).
// The fused sums are w[0]*x[0] + bias, then
// w[1]*x[1] + that, ..., each rounded once, so they differ from the
// portable kernel's by the rounding of the products only.
//
// When the map's size is not a multiple of 4, its last 4 pixels are done
// again at the end with the sums in registers (one vector per row): that
// recomputes up to 3 outputs, with the same result, rather than store
// past the map.
const (
	pwTile   = 256 // pixels per tile: a block's rows of 1 KB stay in L1
	pwUnroll = 4   // vectors per pass of a step's loop
)

// pwWriter writes the pointwise kernel; its fields are the kernel's
// parameters and locals.
type pwWriter struct {
	f                              *wasmenc.Func
	fused                          bool // multiply-adds are FMAs
	dst, src, res, bias, planes    wasmenc.Local
	hw, inPer, outPer, ep          wasmenc.Local
	hwBytes, pairs                 wasmenc.Local
	groupSrc, groupW               wasmenc.Local // the group's first input plane and weights
	o, w                           wasmenc.Local // the block's first output channel and its weights
	tile, size                     wasmenc.Local // the tile's first pixel and its size, in bytes
	x, wStep, steps                wasmenc.Local
	px, py, end, endUnrolled       wasmenc.Local // a step's pointers
	biasAt                         wasmenc.Local // the block's first bias
	blockRows                      int           // abi.PointwiseBlock: the rows of a block
	pr, pres                       [abi.FusedPointwiseRows]wasmenc.Local
	rows, residual                 [abi.FusedPointwiseRows]wasmenc.Local // the block's output rows (and residuals) in the tile
	wx, wy                         [abi.FusedPointwiseRows]wasmenc.Local
	xv, yv, acc                    wasmenc.Local
	tileAcc, tileAcc2              [abi.FusedPointwiseRows]wasmenc.Local // a row's sums: one vector, or two (registerTiles)
	wv                             wasmenc.Local                         // a weight in every lane
	blocks, lastBlock, pixelsBytes wasmenc.Local
	// A function of one block shape (see writeRegisterBlocks) has one
	// epilogue, epilogue, known when it is written.
	oneEpilogue bool
	epilogueOf  abi.Epilogue
}

// writePointwise writes the pointwise kernel (see above).
func writePointwise(m *wasmenc.Module, fused bool) {
	i32 := wasmenc.I32
	f, param := export(m, abi.Pointwise)
	k := &pwWriter{f: f, fused: fused, dst: param("dst"), src: param("src"), res: param("residual"), bias: param("bias"), planes: param("planes"),
		hw: param("hw"), inPer: param("inPer"), outPer: param("outPer"), ep: param("ep")}
	weights, groups := param("weights"), param("groups")
	for _, l := range []*wasmenc.Local{&k.hwBytes, &k.pairs, &k.groupSrc, &k.groupW, &k.o, &k.w, &k.tile, &k.size,
		&k.x, &k.wStep, &k.steps, &k.px, &k.py, &k.end, &k.endUnrolled, &k.biasAt, &k.blocks, &k.lastBlock, &k.pixelsBytes} {
		*l = f.Local(i32)
	}
	k.blockRows = abi.PointwiseBlock(fused)
	for r := range k.blockRows {
		k.rows[r], k.residual[r], k.pr[r], k.pres[r] = f.Local(i32), f.Local(i32), f.Local(i32), f.Local(i32)
		k.wx[r], k.wy[r], k.tileAcc[r] = f.Local(wasmenc.V128), f.Local(wasmenc.V128), f.Local(wasmenc.V128)
		k.tileAcc2[r] = f.Local(wasmenc.V128)
	}
	k.xv, k.yv, k.acc, k.wv = f.Local(wasmenc.V128), f.Local(wasmenc.V128), f.Local(wasmenc.V128), f.Local(wasmenc.V128)
	g := f.Local(i32)

	f.Set(k.hwBytes, f.I32Shl(f.Get(k.hw), f.I32Const(2)))
	f.Set(k.pixelsBytes, f.I32And(f.Get(k.hwBytes), f.I32Const(-16))) // whole vectors
	f.Set(k.pairs, f.I32DivU(f.Get(k.inPer), f.I32Const(2)))
	f.Set(k.blocks, f.I32DivU(f.Get(k.outPer), f.I32Const(int32(k.blockRows))))
	f.Set(k.lastBlock, f.I32Sub(f.Get(k.outPer), f.I32Mul(f.Get(k.blocks), f.I32Const(int32(k.blockRows)))))
	f.Set(k.groupSrc, f.Get(k.src))
	f.Set(k.groupW, f.Get(weights))
	f.Set(k.o, f.I32Const(0))
	f.Set(g, f.Get(groups))
	var blockFuncs [abi.FusedPointwiseRows + 1][abi.AddReLU + 1]*wasmenc.Func
	if fused {
		blockFuncs = writeRegisterBlocks(m)
	}
	f.Loop(func(nextGroup wasmenc.Label) {
		if fused {
			k.eachBlock(func(rows int) {
				k.byEpilogue(func(ep abi.Epilogue) {
					f.Call(blockFuncs[rows][ep], f.Get(k.dst), f.Get(k.res), f.Get(k.bias), f.Get(k.planes), f.Get(k.groupSrc), f.Get(k.w),
						f.Get(k.hw), f.Get(k.inPer), f.Get(k.o))
				})
				f.Set(k.w, f.I32Add(f.Get(k.w), f.I32Mul(f.Get(k.inPer), f.I32Const(int32(4*rows)))))
			})
		} else {
			f.Set(k.tile, f.I32Const(0))
			f.Loop(func(nextTile wasmenc.Label) {
				f.Set(k.size, f.I32Sub(f.Get(k.pixelsBytes), f.Get(k.tile)))
				f.Set(k.size, f.Select(f.I32Const(4*pwTile), f.Get(k.size), f.I32GtU(f.Get(k.size), f.I32Const(4*pwTile))))
				k.eachBlock(k.memoryBlock)
				f.Set(k.tile, f.I32Add(f.Get(k.tile), f.I32Const(4*pwTile)))
				f.BrIf(nextTile, f.I32LtU(f.Get(k.tile), f.Get(k.pixelsBytes)))
			})
			f.If(f.I32Ne(f.Get(k.pixelsBytes), f.Get(k.hwBytes)), func() { // the last 4 pixels
				f.Set(k.tile, f.I32Sub(f.Get(k.hwBytes), f.I32Const(16)))
				k.eachBlock(k.registerBlock)
			})
		}
		// Next group: its inputs, weights (k.w is past this group's) and outputs.
		f.Set(k.groupSrc, f.I32Add(f.Get(k.groupSrc), f.I32Mul(f.Get(k.inPer), f.Get(k.hwBytes))))
		f.Set(k.groupW, f.Get(k.w))
		f.Set(k.o, f.I32Add(f.Get(k.o), f.Get(k.outPer)))
		f.Set(g, f.I32Sub(f.Get(g), f.I32Const(1)))
		f.BrIf(nextGroup, f.I32Ne(f.Get(g), f.I32Const(0)))
	})
}

// eachBlock runs block for every block of the group's outputs,
// blockRows rows at a time and then the rest, leaving o and w
// where they started.
func (k *pwWriter) eachBlock(block func(rows int)) {
	f := k.f
	first := f.Local(wasmenc.I32)
	f.Set(first, f.Get(k.o))
	f.Set(k.w, f.Get(k.groupW))
	end := f.Local(wasmenc.I32)
	f.Set(end, f.I32Add(f.Get(k.o), f.I32Mul(f.Get(k.blocks), f.I32Const(int32(k.blockRows)))))
	f.If(f.I32Ne(f.Get(k.blocks), f.I32Const(0)), func() {
		f.Loop(func(next wasmenc.Label) {
			block(k.blockRows)
			f.Set(k.o, f.I32Add(f.Get(k.o), f.I32Const(int32(k.blockRows))))
			f.BrIf(next, f.I32LtU(f.Get(k.o), f.Get(end)))
		})
	})
	for rows := 1; rows < k.blockRows; rows++ {
		f.If(f.I32Eq(f.Get(k.lastBlock), f.I32Const(int32(rows))), func() { block(rows) })
	}
	f.Set(k.o, f.Get(first))
}

// rowAddresses sets rows[r] (and residual[r]) to where output channel
// o+r's plane has the tile's first pixel.
func (k *pwWriter) rowAddresses(rows int) {
	f := k.f
	for r := range rows {
		f.Set(k.residual[r], f.I32Add(f.I32Load(f.I32Add(f.Get(k.planes), f.I32Shl(f.Get(k.o), f.I32Const(2))), uint32(4*r)), f.Get(k.tile)))
		f.Set(k.rows[r], f.I32Add(f.Get(k.dst), f.Get(k.residual[r])))
		f.Set(k.residual[r], f.I32Add(f.Get(k.res), f.Get(k.residual[r])))
	}
}

// memoryBlock computes the tile of rows outputs from o, accumulating in
// dst, and moves w past the block's weights.
func (k *pwWriter) memoryBlock(rows int) {
	f := k.f
	k.rowAddresses(rows)
	f.Set(k.biasAt, f.I32Add(f.Get(k.bias), f.I32Shl(f.Get(k.o), f.I32Const(2))))
	f.Set(k.x, f.I32Add(f.Get(k.groupSrc), f.Get(k.tile)))
	f.Set(k.wStep, f.Get(k.w))
	f.Set(k.w, f.I32Add(f.Get(k.w), f.I32Mul(f.Get(k.inPer), f.I32Const(int32(4*rows)))))
	// The steps: a first one, middle ones, a last one (a step may be both).
	odd := f.I32And(f.Get(k.inPer), f.I32Const(1))
	f.IfElse(odd, func() {
		f.IfElse(f.I32Eqz(f.Get(k.pairs)), func() {
			k.step(rows, false, true, true)
		}, func() {
			k.step(rows, true, true, false)
			f.Set(k.steps, f.I32Sub(f.Get(k.pairs), f.I32Const(1)))
			k.middleSteps(rows)
			k.step(rows, false, false, true)
		})
	}, func() {
		f.IfElse(f.I32Eq(f.Get(k.pairs), f.I32Const(1)), func() {
			k.step(rows, true, true, true)
		}, func() {
			k.step(rows, true, true, false)
			f.Set(k.steps, f.I32Sub(f.Get(k.pairs), f.I32Const(2)))
			k.middleSteps(rows)
			k.step(rows, true, false, true)
		})
	})
}

// middleSteps runs k.steps pair steps that are neither first nor last.
func (k *pwWriter) middleSteps(rows int) {
	f := k.f
	f.If(f.I32Ne(f.Get(k.steps), f.I32Const(0)), func() {
		f.Loop(func(next wasmenc.Label) {
			k.step(rows, true, false, false)
			f.Set(k.steps, f.I32Sub(f.Get(k.steps), f.I32Const(1)))
			f.BrIf(next, f.I32Ne(f.Get(k.steps), f.I32Const(0)))
		})
	})
}

// step adds one input channel (or two, pair) to the block's rows over the
// tile. The first step starts from the bias rather than dst; the last
// one applies the epilogue. It moves x and wStep to the next inputs.
//
// The loop over the tile's vectors is unrolled pwUnroll times, with a
// pointer per stream bumped once per pass: V8 would otherwise spend an
// add on the address of every load and store.
func (k *pwWriter) step(rows int, pair, first, last bool) {
	f := k.f
	for r := range rows {
		f.Set(k.wx[r], f.V128Load32Splat(f.Get(k.wStep), uint32(4*r)))
		if pair {
			f.Set(k.wy[r], f.V128Load32Splat(f.Get(k.wStep), uint32(4*(rows+r))))
		}
	}
	pass := func(ep abi.Epilogue, vectors int) {
		for u := range vectors {
			at := uint32(16 * u)
			f.Set(k.xv, f.V128Load(f.Get(k.px), at))
			if pair {
				f.Set(k.yv, f.V128Load(f.Get(k.py), at))
			}
			for r := range rows {
				var prev wasmenc.Expr
				if first {
					prev = f.V128Load32Splat(f.Get(k.biasAt), uint32(4*r))
				} else {
					prev = f.V128Load(f.Get(k.pr[r]), at)
				}
				var sum wasmenc.Expr
				if pair {
					sum = f.F32x4Add(prev, f.F32x4Add(f.F32x4Mul(f.Get(k.wx[r]), f.Get(k.xv)), f.F32x4Mul(f.Get(k.wy[r]), f.Get(k.yv))))
				} else {
					sum = f.F32x4Add(prev, f.F32x4Mul(f.Get(k.wx[r]), f.Get(k.xv)))
				}
				f.Set(k.acc, sum)
				k.epilogue(ep, k.acc, func() wasmenc.Expr { return f.Get(k.pres[r]) }, at)
				f.V128Store(f.Get(k.pr[r]), at, f.Get(k.acc))
			}
		}
		bump := func(p wasmenc.Local) { f.Set(p, f.I32Add(f.Get(p), f.I32Const(int32(16*vectors)))) }
		bump(k.px)
		if pair {
			bump(k.py)
		}
		for r := range rows {
			bump(k.pr[r])
			if ep == abi.AddReLU {
				bump(k.pres[r])
			}
		}
	}
	loops := func(ep abi.Epilogue) {
		f.Set(k.px, f.Get(k.x))
		f.Set(k.py, f.I32Add(f.Get(k.x), f.Get(k.hwBytes)))
		for r := range rows {
			f.Set(k.pr[r], f.Get(k.rows[r]))
			f.Set(k.pres[r], f.Get(k.residual[r]))
		}
		f.Set(k.end, f.I32Add(f.Get(k.x), f.Get(k.size)))
		f.Set(k.endUnrolled, f.I32Sub(f.Get(k.end), f.I32Const(16*pwUnroll)))
		f.If(f.I32LeS(f.Get(k.px), f.Get(k.endUnrolled)), func() {
			f.Loop(func(next wasmenc.Label) {
				pass(ep, pwUnroll)
				f.BrIf(next, f.I32LeS(f.Get(k.px), f.Get(k.endUnrolled)))
			})
		})
		f.If(f.I32LtU(f.Get(k.px), f.Get(k.end)), func() {
			f.Loop(func(next wasmenc.Label) {
				pass(ep, 1)
				f.BrIf(next, f.I32LtU(f.Get(k.px), f.Get(k.end)))
			})
		})
	}
	if last {
		k.byEpilogue(loops)
	} else {
		loops(abi.Linear)
	}
	inputs := int32(1)
	if pair {
		inputs = 2
	}
	f.Set(k.x, f.I32Add(f.Get(k.x), f.I32Mul(f.Get(k.hwBytes), f.I32Const(inputs))))
	f.Set(k.wStep, f.I32Add(f.Get(k.wStep), f.I32Const(4*inputs*int32(rows))))
}

// byEpilogue writes code once per epilogue, each run when the layer has it.
func (k *pwWriter) byEpilogue(code func(ep abi.Epilogue)) {
	if k.oneEpilogue {
		code(k.epilogueOf)
		return
	}
	f := k.f
	f.IfElse(f.I32Eq(f.Get(k.ep), f.I32Const(int32(abi.AddReLU))), func() { code(abi.AddReLU) }, func() {
		f.IfElse(f.I32Eq(f.Get(k.ep), f.I32Const(int32(abi.ReLU))), func() { code(abi.ReLU) }, func() { code(abi.Linear) })
	})
}

// epilogue applies ep to the sums in acc; residual pushes the address of
// their residuals.
func (k *pwWriter) epilogue(ep abi.Epilogue, acc wasmenc.Local, residual func() wasmenc.Expr, offset uint32) {
	f := k.f
	switch ep {
	case abi.AddReLU:
		f.Set(acc, relu(f, f.F32x4Add(f.Get(acc), f.V128Load(residual(), offset))))
	case abi.ReLU:
		f.Set(acc, relu(f, f.Get(acc)))
	}
}

// blockParams are the parameters of the fused build's block functions.
var blockParams = []abi.Param{
	{Name: "dst", Type: abi.I32}, {Name: "residual", Type: abi.I32}, {Name: "bias", Type: abi.I32}, {Name: "planes", Type: abi.I32},
	{Name: "src", Type: abi.I32}, {Name: "weights", Type: abi.I32}, {Name: "hw", Type: abi.I32}, {Name: "inPer", Type: abi.I32},
	{Name: "o", Type: abi.I32},
}

// writeRegisterBlocks writes the fused build's blocks, one function for
// each number of rows (1 to abi.FusedPointwiseRows) and epilogue, taking
// blockParams: block(dst, residual, bias, planes, src, weights, hw, inPer,
// o) computes output channels o to o+rows-1 of a group, whose inputs start
// at src and whose block of weights at weights, over the whole map
// (registerTiles, and then, when the map's size is not a multiple of 4,
// its last 4 pixels again).
//
// Why functions of their own: Chromium compiles a function with its
// optimizing compiler once it has run a while, in the background, and
// until then runs its baseline code. One pointwise function holding every
// shape took 137 ms to compile, longer than any other function of the
// page; a layer uses one or two shapes, each a small function that
// compiles in a few ms, so the first classifications reach full speed
// sooner.
func writeRegisterBlocks(m *wasmenc.Module) [abi.FusedPointwiseRows + 1][abi.AddReLU + 1]*wasmenc.Func {
	var funcs [abi.FusedPointwiseRows + 1][abi.AddReLU + 1]*wasmenc.Func
	for rows := 1; rows <= abi.FusedPointwiseRows; rows++ {
		for ep := abi.Linear; ep <= abi.AddReLU; ep++ {
			f, param := kernel(m, "", blockParams)
			funcs[rows][ep] = f
			k := &pwWriter{f: f, fused: true, oneEpilogue: true, epilogueOf: ep, dst: param("dst"), res: param("residual"), bias: param("bias"),
				planes: param("planes"), groupSrc: param("src"), w: param("weights"), hw: param("hw"), inPer: param("inPer"), o: param("o")}
			for _, l := range []*wasmenc.Local{&k.hwBytes, &k.pixelsBytes, &k.pairs, &k.tile, &k.x, &k.px, &k.wStep, &k.steps} {
				*l = f.Local(wasmenc.I32)
			}
			for r := range rows {
				k.rows[r], k.residual[r] = f.Local(wasmenc.I32), f.Local(wasmenc.I32)
				k.tileAcc[r], k.tileAcc2[r] = f.Local(wasmenc.V128), f.Local(wasmenc.V128)
			}
			k.xv, k.yv, k.wv = f.Local(wasmenc.V128), f.Local(wasmenc.V128), f.Local(wasmenc.V128)
			wBlock := f.Local(wasmenc.I32)
			f.Set(wBlock, f.Get(k.w))
			f.Set(k.hwBytes, f.I32Shl(f.Get(k.hw), f.I32Const(2)))
			f.Set(k.pixelsBytes, f.I32And(f.Get(k.hwBytes), f.I32Const(-16))) // whole vectors
			f.Set(k.pairs, f.I32DivU(f.Get(k.inPer), f.I32Const(2)))
			k.registerTiles(rows)
			f.If(f.I32Ne(f.Get(k.pixelsBytes), f.Get(k.hwBytes)), func() { // the last 4 pixels
				f.Set(k.w, f.Get(wBlock)) // registerTiles may have moved it
				f.Set(k.tile, f.I32Sub(f.Get(k.hwBytes), f.I32Const(16)))
				k.registerBlock(rows)
			})
		}
	}
	return funcs
}

// registerTiles computes rows outputs from o over the map's whole vectors,
// two vectors (8 pixels) at a time with their sums in registers, input by
// input: one FMA per weight and vector, 12 sums, 2 inputs and a weight in
// the 15 vector registers V8 has. It is the fused build's
// replacement for memoryBlock's tiles: each input and weight is loaded
// once per 8 pixels, where memoryBlock loads and stores every sum per
// pair of inputs. A last single vector goes to registerBlock, whose fused
// sums are the same, in the same order (and which moves w past the
// block's weights).
func (k *pwWriter) registerTiles(rows int) {
	f := k.f
	tilesEnd := f.Local(wasmenc.I32)
	f.Set(tilesEnd, f.I32And(f.Get(k.pixelsBytes), f.I32Const(-32)))
	k.byEpilogue(func(ep abi.Epilogue) {
		f.Set(k.tile, f.I32Const(0))
		f.If(f.I32Ne(f.Get(tilesEnd), f.I32Const(0)), func() {
			f.Loop(func(nextTile wasmenc.Label) {
				for r := range rows {
					f.Set(k.tileAcc[r], f.V128Load32Splat(f.I32Add(f.Get(k.bias), f.I32Shl(f.Get(k.o), f.I32Const(2))), uint32(4*r)))
					f.Set(k.tileAcc2[r], f.Get(k.tileAcc[r]))
				}
				f.Set(k.px, f.I32Add(f.Get(k.groupSrc), f.Get(k.tile)))
				f.Set(k.wStep, f.Get(k.w))
				f.Set(k.steps, f.Get(k.inPer))
				f.Loop(func(nextInput wasmenc.Label) {
					f.Set(k.xv, f.V128Load(f.Get(k.px), 0))
					f.Set(k.yv, f.V128Load(f.Get(k.px), 16))
					for r := range rows {
						f.Set(k.wv, f.V128Load32Splat(f.Get(k.wStep), uint32(4*r)))
						f.Set(k.tileAcc[r], f.F32x4RelaxedMadd(f.Get(k.wv), f.Get(k.xv), f.Get(k.tileAcc[r])))
						f.Set(k.tileAcc2[r], f.F32x4RelaxedMadd(f.Get(k.wv), f.Get(k.yv), f.Get(k.tileAcc2[r])))
					}
					f.Set(k.px, f.I32Add(f.Get(k.px), f.Get(k.hwBytes)))
					f.Set(k.wStep, f.I32Add(f.Get(k.wStep), f.I32Const(int32(4*rows))))
					f.Set(k.steps, f.I32Sub(f.Get(k.steps), f.I32Const(1)))
					f.BrIf(nextInput, f.I32Ne(f.Get(k.steps), f.I32Const(0)))
				})
				k.rowAddresses(rows)
				for r := range rows {
					k.epilogue(ep, k.tileAcc[r], func() wasmenc.Expr { return f.Get(k.residual[r]) }, 0)
					k.epilogue(ep, k.tileAcc2[r], func() wasmenc.Expr { return f.Get(k.residual[r]) }, 16)
					f.V128Store(f.Get(k.rows[r]), 0, f.Get(k.tileAcc[r]))
					f.V128Store(f.Get(k.rows[r]), 16, f.Get(k.tileAcc2[r]))
				}
				f.Set(k.tile, f.I32Add(f.Get(k.tile), f.I32Const(32)))
				f.BrIf(nextTile, f.I32LtU(f.Get(k.tile), f.Get(tilesEnd)))
			})
		})
	})
	f.If(f.I32Ne(f.Get(tilesEnd), f.Get(k.pixelsBytes)), func() { // one vector left
		f.Set(k.tile, f.Get(tilesEnd))
		k.registerBlock(rows)
	})
}

// registerBlock computes one vector of rows outputs from o at the tile,
// the sums in registers, and moves w past the block's weights.
func (k *pwWriter) registerBlock(rows int) {
	f := k.f
	for r := range rows {
		f.Set(k.tileAcc[r], f.V128Load32Splat(f.I32Add(f.Get(k.bias), f.I32Shl(f.Get(k.o), f.I32Const(2))), uint32(4*r)))
	}
	f.Set(k.x, f.I32Add(f.Get(k.groupSrc), f.Get(k.tile)))
	f.Set(k.steps, f.Get(k.pairs))
	f.If(f.I32Ne(f.Get(k.steps), f.I32Const(0)), func() {
		f.Loop(func(next wasmenc.Label) {
			f.Set(k.xv, f.V128Load(f.Get(k.x), 0))
			f.Set(k.yv, f.V128Load(f.I32Add(f.Get(k.x), f.Get(k.hwBytes)), 0))
			for r := range rows {
				if k.fused {
					f.Set(k.tileAcc[r], f.F32x4RelaxedMadd(f.V128Load32Splat(f.Get(k.w), uint32(4*r)), f.Get(k.xv), f.Get(k.tileAcc[r])))
					f.Set(k.tileAcc[r], f.F32x4RelaxedMadd(f.V128Load32Splat(f.Get(k.w), uint32(4*(rows+r))), f.Get(k.yv), f.Get(k.tileAcc[r])))
					continue
				}
				f.Set(k.tileAcc[r], f.F32x4Add(f.Get(k.tileAcc[r]), f.F32x4Add(
					f.F32x4Mul(f.V128Load32Splat(f.Get(k.w), uint32(4*r)), f.Get(k.xv)),
					f.F32x4Mul(f.V128Load32Splat(f.Get(k.w), uint32(4*(rows+r))), f.Get(k.yv)))))
			}
			f.Set(k.x, f.I32Add(f.Get(k.x), f.I32Shl(f.Get(k.hwBytes), f.I32Const(1))))
			f.Set(k.w, f.I32Add(f.Get(k.w), f.I32Const(int32(8*rows))))
			f.Set(k.steps, f.I32Sub(f.Get(k.steps), f.I32Const(1)))
			f.BrIf(next, f.I32Ne(f.Get(k.steps), f.I32Const(0)))
		})
	})
	f.If(f.I32And(f.Get(k.inPer), f.I32Const(1)), func() { // an odd input channel left
		f.Set(k.xv, f.V128Load(f.Get(k.x), 0))
		for r := range rows {
			f.Set(k.tileAcc[r], mulAdd(f, k.fused,
				func() wasmenc.Expr { return f.Get(k.tileAcc[r]) },
				func() wasmenc.Expr { return f.V128Load32Splat(f.Get(k.w), uint32(4*r)) },
				func() wasmenc.Expr { return f.Get(k.xv) }))
		}
		f.Set(k.w, f.I32Add(f.Get(k.w), f.I32Const(int32(4*rows))))
	})
	k.rowAddresses(rows)
	for r := range rows {
		k.byEpilogue(func(ep abi.Epilogue) {
			k.epilogue(ep, k.tileAcc[r], func() wasmenc.Expr { return f.Get(k.residual[r]) }, 0)
		})
		f.V128Store(f.Get(k.rows[r]), 0, f.Get(k.tileAcc[r]))
	}
}
