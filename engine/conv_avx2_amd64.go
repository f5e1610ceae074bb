//go:build goexperiment.simd && amd64

package engine

import "simd/archsimd"

// The AVX2 kernels are the AVX-512 ones at half the width, for CPUs
// without AVX-512: each of the plans' 16-pixel vectors is two 8-lane
// registers here. AVX2 has no mask registers, so a 16-bit lane mask
// becomes two vector masks (see ymmMasks), and a masked store, slow on
// AMD's cores, is only issued for a map's last, partial vector.

// ymmLaneBits is a constant table: 1<<l in lane l.
var ymmLaneBits = [8]int32{1, 2, 4, 8, 16, 32, 64, 128}

// ymmMasks returns the vector masks of the low and high eight bits of
// bits: lane l of each is set where bit l of its byte is. It loads the
// lane bits each time rather than keep them in one of the 15 registers
// the conv kernel needs all of (it would spill a broadcast), and from a
// table rather than the stack, where the eight stores just made would
// stall the load.
func ymmMasks(bits uint16) (lo, hi archsimd.Mask32x8) {
	lanes := archsimd.LoadInt32x8(&ymmLaneBits)
	lo = archsimd.BroadcastInt32x8(int32(bits)).And(lanes).Equal(lanes)
	hi = archsimd.BroadcastInt32x8(int32(bits >> 8)).And(lanes).Equal(lanes)
	return lo, hi
}

// storeYMM stores x to dst[0:8], only the lanes of mask unless all are set.
func storeYMM(x archsimd.Float32x8, dst []float32, mask archsimd.Mask32x8, all bool) {
	if all {
		x.Store((*[8]float32)(dst[:8]))
		return
	}
	x.StoreMasked((*[8]float32)(dst[:8]), mask)
}

// convBlockAVX2 is convBlockAVX512 with a tile of 3 rows x 16 pixels.
func convBlockAVX2(out *blockOut, w []float32, bias *[blockRows]float32, src []float32, origin int, plan *tapPlan) {
	const n = 8
	perTap := len(w) / len(plan.taps)
	stride := plan.planeStride
	for v := range ceilDiv(plan.hw, vectorLanes) {
		b0 := archsimd.BroadcastFloat32x8(bias[0])
		b1 := archsimd.BroadcastFloat32x8(bias[1])
		b2 := archsimd.BroadcastFloat32x8(bias[2])
		a00, a01, a10, a11, a20, a21 := b0, b0, b1, b1, b2, b2
		for t := range plan.taps {
			tp := &plan.taps[t]
			m0, m1 := ymmMasks(tp.masks[v])
			at := origin + tp.offset + v*vectorLanes
			wt := w[t*perTap : (t+1)*perTap]
			for k := 0; k+blockRows <= len(wt); k += blockRows {
				x0 := archsimd.LoadMaskedFloat32x8((*[n]float32)(src[at:at+n]), m0)
				x1 := archsimd.LoadMaskedFloat32x8((*[n]float32)(src[at+n:at+2*n]), m1)
				at += stride
				wk := (*[blockRows]float32)(wt[k : k+blockRows])
				c := archsimd.BroadcastFloat32x8(wk[0])
				a00 = c.MulAdd(x0, a00)
				a01 = c.MulAdd(x1, a01)
				c = archsimd.BroadcastFloat32x8(wk[1])
				a10 = c.MulAdd(x0, a10)
				a11 = c.MulAdd(x1, a11)
				c = archsimd.BroadcastFloat32x8(wk[2])
				a20 = c.MulAdd(x0, a20)
				a21 = c.MulAdd(x1, a21)
			}
		}
		out.storeAVX2(0, v, plan.hw, a00, a01)
		out.storeAVX2(1, v, plan.hw, a10, a11)
		out.storeAVX2(2, v, plan.hw, a20, a21)
	}
}

// storeAVX2 finishes row r's 16 pixels at vector v of a map of hw pixels:
// adds the residual, applies the ReLU, writes what exists.
func (o *blockOut) storeAVX2(r, v, hw int, a0, a1 archsimd.Float32x8) {
	const n = 8
	dst := o.dst[r]
	if dst == nil {
		return
	}
	bits := tailMask(hw, v)
	m0, m1 := ymmMasks(bits)
	at := v * vectorLanes
	if res := o.residual[r]; res != nil {
		a0 = a0.Add(archsimd.LoadMaskedFloat32x8((*[n]float32)(res[at:at+n]), m0))
		a1 = a1.Add(archsimd.LoadMaskedFloat32x8((*[n]float32)(res[at+n:at+2*n]), m1))
	}
	if o.relu {
		var zero archsimd.Float32x8
		a0, a1 = a0.Max(zero), a1.Max(zero)
	}
	storeYMM(a0, dst[at:at+n], m0, bits == 0xffff)
	storeYMM(a1, dst[at+n:at+2*n], m1, bits == 0xffff)
}

// splitPhasesAVX2 is splitPhasesAVX512 16 columns at a time: each 8-lane
// half is permuted to its four even then four odd columns, and the
// halves' even and odd 128-bit parts are paired up.
//
// A row's last vector may run past the row's end. It is loaded whole (its
// slice reaches into the next row, or the room after the maps), and the
// lanes past the end are stored past the phase row's end, over the later
// rows of the phase's planes (the same channel's next rows, the next
// channels'), which are written after it. Only where that would run past
// the last channel's plane, over a phase already written, is the vector
// stored masked: masked stores are slow on AMD's cores.
func splitPhasesAVX2(dst, src []float32, channels, inSize int) {
	const n = 8
	os := inSize / 2
	hw := os * os
	var order [n]uint32
	var lane [n]int32
	for l := range uint32(n / 2) {
		order[l], order[l+n/2] = 2*l, 2*l+1
	}
	for l := range n {
		lane[l] = int32(l)
	}
	evensFirst := archsimd.LoadUint32x8(&order)
	lanes := archsimd.LoadInt32x8(&lane)
	for c := range channels {
		in := src[c*inSize*inSize:]
		for y := range inSize {
			row := in[y*inSize:]
			evenAt := (2*(y&1)*channels+c)*hw + (y/2)*os
			oddAt := evenAt + channels*hw
			evenEnd := (2*(y&1) + 1) * channels * hw // where the even phase's planes end
			for x := 0; x < os; x += n {
				col := 2 * x
				v0 := archsimd.LoadFloat32x8((*[n]float32)(row[col : col+n])).Permute(evensFirst)
				v1 := archsimd.LoadFloat32x8((*[n]float32)(row[col+n : col+2*n])).Permute(evensFirst)
				even, odd := v0.Select128FromPair(0, 2, v1), v0.Select128FromPair(1, 3, v1)
				if evenAt+x+n <= evenEnd {
					even.Store((*[n]float32)(dst[evenAt+x : evenAt+x+n]))
					odd.Store((*[n]float32)(dst[oddAt+x : oddAt+x+n]))
					continue
				}
				store := archsimd.BroadcastInt32x8(int32(os - x)).Greater(lanes)
				even.StoreMasked((*[n]float32)(dst[evenAt+x:evenAt+x+n]), store)
				odd.StoreMasked((*[n]float32)(dst[oddAt+x:oddAt+x+n]), store)
			}
		}
	}
}
