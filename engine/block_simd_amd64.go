//go:build goexperiment.simd && amd64

package engine

import "simd/archsimd"

// The conv kernel computes a block of blockRows output channels over a
// tile of tileVectors pixel vectors, 3 x 32 pixels, in 6 accumulator
// registers, for every tap and input channel of the block's group: per
// pair of input vectors it issues 6 FMAs for 2 loads and 3 broadcasts. The
// tile is that small because the Go compiler gives SIMD code 15 vector
// registers and hoists every broadcast above the FMAs: a tile of 8
// accumulators already spills one to the stack in the inner loop.
// Measured in L1 on Zen 4: 3x2 and 2x3 tiles run at 36-42 GMAC/s (the
// FMA peak), 4x1 at 33, while 4x2, 2x4 and 3x3, which spill, run at 12-13.
// Of the two fast tiles 3x2 wastes less on 7x7 maps (4 vectors for 49
// pixels, where 2x3 needs 6) and loses at most one row in 21 to padding.
const (
	blockRows   = 3
	tileVectors = 2
)

// blockedWeights are a conv's weights laid out for convBlock: output
// channels in blocks of blockRows, and within a block, tap by tap and input
// channel by input channel, the blockRows weights that multiply the same
// input vector side by side, so the kernel reads them in order. Rows past
// a group's last output channel are zero.
type blockedWeights struct {
	weight              []float32 // [group][block][tap][in/groups][blockRows]
	bias                []float32 // [group][block][blockRows]
	blocks              int       // blocks per group
	inPer, outPer, taps int
}

// newBlockedWeights re-lays weight, stored [out][in/groups][taps].
func newBlockedWeights(weight, bias []float32, groups, inPer, outPer, taps int) blockedWeights {
	b := blockedWeights{blocks: ceilDiv(outPer, blockRows), inPer: inPer, outPer: outPer, taps: taps}
	b.weight = make([]float32, groups*b.blocks*taps*inPer*blockRows)
	b.bias = make([]float32, groups*b.blocks*blockRows)
	for g := range groups {
		for o := range outPer {
			blk, r := o/blockRows, o%blockRows
			block := g*b.blocks + blk
			b.bias[block*blockRows+r] = bias[g*outPer+o]
			for i := range inPer {
				for t := range taps {
					b.weight[((block*taps+t)*inPer+i)*blockRows+r] = weight[((g*outPer+o)*inPer+i)*taps+t]
				}
			}
		}
	}
	return b
}

// block returns the weights and biases of block blk of group g.
func (b *blockedWeights) block(g, blk int) ([]float32, *[blockRows]float32) {
	block := g*b.blocks + blk
	n := b.taps * b.inPer * blockRows
	return b.weight[block*n : (block+1)*n], (*[blockRows]float32)(b.bias[block*blockRows:])
}

// blockOut is where a block's rows go and what happens on the way.
type blockOut struct {
	dst      [blockRows][]float32 // output planes; nil past the group's last channel
	residual [blockRows][]float32 // added before the ReLU where not nil
	relu     bool
}

// convBlock computes one block of output channels over a whole map:
//
//	dst[r][p] = epilogue(bias[r] + sum over taps t and inputs i of
//	            w[t][i][r] * src[origin + i*planeStride + p + offset_t])
//
// reading only the lanes the taps' masks allow. src, dst and residual must
// have room for a tile past their ends (see mapRoom).
func convBlock(out *blockOut, w []float32, bias *[blockRows]float32, src []float32, origin int, plan *tapPlan) {
	perTap := len(w) / len(plan.taps)
	stride := plan.planeStride
	for v := 0; v < plan.vectors; v += tileVectors {
		b0 := archsimd.BroadcastFloat32x16(bias[0])
		b1 := archsimd.BroadcastFloat32x16(bias[1])
		b2 := archsimd.BroadcastFloat32x16(bias[2])
		a00, a01, a10, a11, a20, a21 := b0, b0, b1, b1, b2, b2
		for t := range plan.taps {
			tp := &plan.taps[t]
			m0 := archsimd.Mask32x16FromBits(tp.masks[v])
			m1 := archsimd.Mask32x16FromBits(tp.masks[v+1])
			at := origin + tp.offset + v*vectorLanes
			wt := w[t*perTap : (t+1)*perTap]
			for k := 0; k+blockRows <= len(wt); k += blockRows {
				x0 := archsimd.LoadMaskedFloat32x16((*[vectorLanes]float32)(src[at:at+vectorLanes]), m0)
				x1 := archsimd.LoadMaskedFloat32x16((*[vectorLanes]float32)(src[at+vectorLanes:at+2*vectorLanes]), m1)
				at += stride
				wk := (*[blockRows]float32)(wt[k : k+blockRows])
				c := archsimd.BroadcastFloat32x16(wk[0])
				a00 = c.MulAdd(x0, a00)
				a01 = c.MulAdd(x1, a01)
				c = archsimd.BroadcastFloat32x16(wk[1])
				a10 = c.MulAdd(x0, a10)
				a11 = c.MulAdd(x1, a11)
				c = archsimd.BroadcastFloat32x16(wk[2])
				a20 = c.MulAdd(x0, a20)
				a21 = c.MulAdd(x1, a21)
			}
		}
		out.store(0, v, plan.hw, a00, a01)
		out.store(1, v, plan.hw, a10, a11)
		out.store(2, v, plan.hw, a20, a21)
	}
}

// store finishes row r's tile at vector v (vectors v and v+1 of a map of
// hw pixels): adds the residual, applies the ReLU, writes what exists.
func (o *blockOut) store(r, v, hw int, a0, a1 archsimd.Float32x16) {
	dst := o.dst[r]
	if dst == nil {
		return
	}
	m0 := archsimd.Mask32x16FromBits(tailMask(hw, v))
	m1 := archsimd.Mask32x16FromBits(tailMask(hw, v+1))
	at := v * vectorLanes
	if res := o.residual[r]; res != nil {
		a0 = a0.Add(archsimd.LoadMaskedFloat32x16((*[vectorLanes]float32)(res[at:at+vectorLanes]), m0))
		a1 = a1.Add(archsimd.LoadMaskedFloat32x16((*[vectorLanes]float32)(res[at+vectorLanes:at+2*vectorLanes]), m1))
	}
	if o.relu {
		var zero archsimd.Float32x16
		a0, a1 = a0.Max(zero), a1.Max(zero)
	}
	a0.StoreMasked((*[vectorLanes]float32)(dst[at:at+vectorLanes]), m0)
	a1.StoreMasked((*[vectorLanes]float32)(dst[at+vectorLanes:at+2*vectorLanes]), m1)
}
