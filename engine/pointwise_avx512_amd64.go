//go:build goexperiment.simd && amd64

package engine

import "unsafe"

// pointwiseAVX512 runs a pointwise conv on AVX-512 with an assembly tile
// (pointwise_avx512_amd64.s): 4 output channels x 64 pixels, 16 sums in
// registers, one broadcast weight per channel and input. Go's compiler
// gives SIMD code 15 vector registers, where the 6-sum tile of
// convBlockAVX512 is the most that does not spill; AVX-512 has 32, so the
// assembly keeps 16 sums, 4 inputs and 4 weights in registers and issues
// 16 FMAs per 8 loads. Each sum is the bias plus the inputs' products
// added in order with one rounding each (an FMA), as convBlockAVX512 adds
// them, so the results are the same.
type pointwiseAVX512 struct {
	weights []float32 // [group][block][input][pwRows]; rows past a group's last are 0
	bias    []float32 // [group][block][pwRows]
	blocks  int       // blocks per group
	plan    tapPlan   // masks of a plane's vectors, in tiles of pwTileVectors
}

const (
	pwRows        = 4 // output channels per tile
	pwTileVectors = 4 // vectors of 16 pixels per tile
)

// pointwiseTiles are pointwiseTilesAVX512's arguments, for one block of
// pwRows output channels over a whole map. The assembly reads them at
// fixed offsets: every field is 8 bytes, in this order.
type pointwiseTiles struct {
	src      unsafe.Pointer         // the block's group's first input plane
	stride   uintptr                // bytes from one input plane to the next
	inputs   uintptr                // input channels
	w        unsafe.Pointer         // the block's weights, [input][pwRows]
	bias     unsafe.Pointer         // the block's biases, [pwRows]
	dst      [pwRows]unsafe.Pointer // the first rows ones are set
	residual [pwRows]unsafe.Pointer // the same rows', or all nil
	relu     uintptr                // 1: max(0, sum)
	vectors  uintptr                // vectors per plane, a multiple of pwTileVectors
	masks    unsafe.Pointer         // each vector's lanes in the map, [vectors]uint16
	rows     uintptr                // the block's output channels, 1 to pwRows: the rest are computed, never stored
}

// pointwiseTilesAVX512 computes one block (see pointwiseTiles).
//
//go:noescape
func pointwiseTilesAVX512(a *pointwiseTiles)

func newPointwiseAVX512(p *pointwise) *pointwiseAVX512 {
	inPer, outPer := p.in/p.groups, p.out/p.groups
	k := &pointwiseAVX512{blocks: ceilDiv(outPer, pwRows), plan: pointwisePlan(p.hw, pwTileVectors)}
	k.weights = make([]float32, p.groups*k.blocks*inPer*pwRows)
	k.bias = make([]float32, p.groups*k.blocks*pwRows)
	for g := range p.groups {
		for o := range outPer {
			block, r := g*k.blocks+o/pwRows, o%pwRows
			k.bias[block*pwRows+r] = p.bias[g*outPer+o]
			for i := range inPer {
				k.weights[(block*inPer+i)*pwRows+r] = p.weight[(g*outPer+o)*inPer+i]
			}
		}
	}
	return k
}

// pwChunkBytes is how much of a group's inputs one pass over its blocks
// reads: the map is cut into chunks of whole tiles so that each chunk's
// inputs stay in L1 while every block of the group reads them, rather
// than the whole group's inputs (a megabyte at 56x56) streaming from L2
// once per block.
const pwChunkBytes = 16 << 10

func (k *pointwiseAVX512) run(p *pointwise, dst, src, residual []float32) {
	hw, inPer, outPer := p.hw, p.in/p.groups, p.out/p.groups
	a := pointwiseTiles{stride: uintptr(4 * hw), inputs: uintptr(inPer)}
	if p.ep != linear {
		a.relu = 1
	}
	tileBytes := pwTileVectors * vectorLanes * 4
	chunk := pwTileVectors * max(1, pwChunkBytes/(inPer*tileBytes)) // vectors
	masks := k.plan.taps[0].masks
	for v0 := 0; v0 < k.plan.vectors; v0 += chunk {
		a.vectors = uintptr(min(chunk, k.plan.vectors-v0))
		a.masks = unsafe.Pointer(&masks[v0])
		first := v0 * vectorLanes // the chunk's first pixel
		for g := range p.groups {
			a.src = unsafe.Pointer(&src[g*inPer*hw+first])
			for blk := range k.blocks {
				k.setBlock(&a, g, blk, inPer, outPer)
				for r := range int(a.rows) {
					at := p.plane(g*outPer+blk*pwRows+r)*hw + first
					a.dst[r] = unsafe.Pointer(&dst[at])
					if p.ep == addReLU {
						a.residual[r] = unsafe.Pointer(&residual[at])
					}
				}
				pointwiseTilesAVX512(&a)
			}
		}
	}
}

// setBlock points a at block blk of group g (inPer inputs and outPer
// outputs a group): its weights, its biases and how many of its rows are
// output channels. The rest have zero weights: computed, never stored.
func (k *pointwiseAVX512) setBlock(a *pointwiseTiles, g, blk, inPer, outPer int) {
	block := g*k.blocks + blk
	a.w = unsafe.Pointer(&k.weights[block*inPer*pwRows])
	a.bias = unsafe.Pointer(&k.bias[block*pwRows])
	a.rows = uintptr(min(pwRows, outPer-blk*pwRows))
}
