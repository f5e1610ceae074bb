//go:build goexperiment.simd && amd64

package engine

// The conv kernels compute a block of blockRows output channels over a
// tile of pixels in 6 accumulator registers, for every tap and input
// channel of the block's group: per step they issue 6 FMAs for 2 loads and
// 3 broadcasts. The tile is that small because the Go compiler gives SIMD
// code 15 vector registers and hoists every broadcast above the FMAs: a
// tile of 8 accumulators already spills one to the stack in the inner
// loop. Measured in L1 on Zen 4 with AVX-512: 3x2 and 2x3 tiles run at
// 36-42 GMAC/s (the FMA peak), 4x1 at 33, while 4x2, 2x4 and 3x3, which
// spill, run at 12-13. Of the two fast tiles 3x2 wastes less on 7x7 maps
// (4 vectors for 49 pixels, where 2x3 needs 6) and loses at most one row
// in 21 to padding. The AVX-512 tile is 3 x 32 pixels (tileVectors of 16
// lanes), the AVX2 one 3 x 16.
const (
	blockRows   = 3
	tileVectors = 2
)

// blockedWeights are a conv's weights laid out for the block kernels: output
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
