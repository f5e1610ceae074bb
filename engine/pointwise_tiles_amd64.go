//go:build goexperiment.simd && amd64

package engine

import "unsafe"

// pointwiseTiled runs a pointwise conv with an assembly tile of pwRows
// output channels: on AVX-512 (pointwise_avx512_amd64.s) 4 channels x 64
// pixels, 16 sums in registers; on AVX2 (pointwise_avx2_amd64.s) 4
// channels x 24 pixels, 12 sums. Both keep one broadcast weight per
// channel and input and the input vectors in registers.
//
// Why assembly: Go's compiler gives SIMD code 15 vector registers, where
// the 6-sum tile of the block kernels (convBlockAVX512, convBlockAVX2) is
// the most that does not spill, and on AVX2 it spends more instructions
// on moving registers, reloading its arguments and checking bounds than
// on multiplying (about 8 GMAC/s on Zen 3). AVX-512 has 32 registers, so
// the assembly issues 16 FMAs per 8 loads; AVX2 has 16 and issues 12 per
// 7 loads.
//
// Each sum is the bias plus the inputs' products added in order with one
// rounding each (an FMA), as the block kernels add them, so the results
// are the same.
type pointwiseTiled struct {
	isa     isa
	weights []float32 // [group][block][input][pwRows]; rows past a group's last are 0
	bias    []float32 // [group][block][pwRows]
	blocks  int       // blocks per group
	plan    tapPlan   // AVX-512: the masks of a plane's vectors, in tiles of pwTileVectors
}

const (
	pwRows        = 4 // output channels per tile
	pwTileVectors = 4 // AVX-512: vectors of 16 pixels per tile
	pwTilePixels  = 24
)

// pointwiseTiles are the assembly tiles' arguments, for one block of
// pwRows output channels over a whole map or a chunk of it. The assembly
// reads them at fixed offsets: every field is 8 bytes, in this order.
type pointwiseTiles struct {
	src      unsafe.Pointer         // the block's group's first input plane
	stride   uintptr                // bytes from one input plane to the next
	inputs   uintptr                // input channels
	w        unsafe.Pointer         // the block's weights, [input][pwRows]
	bias     unsafe.Pointer         // the block's biases, [pwRows]
	dst      [pwRows]unsafe.Pointer // the first rows ones are set
	residual [pwRows]unsafe.Pointer // the same rows', or all nil
	relu     uintptr                // 1: max(0, sum)
	vectors  uintptr                // AVX-512: vectors per plane, a multiple of pwTileVectors
	masks    unsafe.Pointer         // AVX-512: each vector's lanes in the map, [vectors]uint16
	rows     uintptr                // the block's output channels, 1 to pwRows: the rest are computed, never stored
	pixels   uintptr                // AVX2: pixels per plane; the last tile stores only what exists
	tail     unsafe.Pointer         // AVX2: &ymmTailMasks, which tiles sets
}

// ymmTailMasks gives the AVX2 tile the store masks of its last, partial
// tile of n pixels: its three vectors' masks are the 24 lanes from
// element 24-n on. Past the map, the tile computes on whatever follows
// its inputs (the buffers have room, see mapRoom) and stores none of it.
var ymmTailMasks = [2 * pwTilePixels]int32{
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
}

// pointwiseTilesAVX512 computes one block (see pointwiseTiles).
//
//go:noescape
func pointwiseTilesAVX512(a *pointwiseTiles)

// pointwiseTilesAVX2 computes one block (see pointwiseTiles).
//
//go:noescape
func pointwiseTilesAVX2(a *pointwiseTiles)

func newPointwiseTiled(ks *simdKernels, p *pointwise) *pointwiseTiled {
	inPer, outPer := p.in/p.groups, p.out/p.groups
	k := &pointwiseTiled{isa: ks.isa, blocks: ceilDiv(outPer, pwRows), plan: pointwisePlan(p.hw, pwTileVectors)}
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
// inputs stay in cache while every block of the group reads them, rather
// than the whole group's inputs (a megabyte at 56x56) streaming from L2 or
// beyond once per block. On AVX-512 (tuned on Zen 4 and 5) the chunk
// stays in L1. On AVX2 (tuned on a Zen 3 with 512 KB of L2) a chunk in L2
// made Megvii g3 1.0x's forward pass 2-7% faster than one in L1, in 6 of
// 6 alternating runs: each input row is then read in runs of a few KB,
// which the prefetchers follow, rather than of a few hundred bytes.
const (
	pwChunkBytes     = 16 << 10
	pwChunkBytesAVX2 = 192 << 10
)

func (k *pointwiseTiled) run(p *pointwise, dst, src, residual []float32) {
	hw, inPer, outPer := p.hw, p.in/p.groups, p.out/p.groups
	a := pointwiseTiles{stride: uintptr(4 * hw), inputs: uintptr(inPer)}
	if p.ep != linear {
		a.relu = 1
	}
	tile, chunkBytes := k.tilePixels(), pwChunkBytes
	if k.isa == isaAVX2 {
		chunkBytes = pwChunkBytesAVX2
	}
	chunk := tile * max(1, chunkBytes/(inPer*tile*4)) // pixels
	masks := k.plan.taps[0].masks
	for first := 0; first < hw; first += chunk {
		a.pixels = uintptr(min(chunk, hw-first))
		v0 := first / vectorLanes
		a.vectors = uintptr(min(chunk/vectorLanes, k.plan.vectors-v0))
		a.masks = unsafe.Pointer(&masks[v0])
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
				k.tiles(&a)
			}
		}
	}
}

// tilePixels is the pixels of one tile: the chunks are made of whole ones.
func (k *pointwiseTiled) tilePixels() int {
	if k.isa == isaAVX512 {
		return pwTileVectors * vectorLanes
	}
	return pwTilePixels
}

// tiles runs this instruction set's tile over a block.
func (k *pointwiseTiled) tiles(a *pointwiseTiles) {
	switch k.isa {
	case isaAVX512:
		pointwiseTilesAVX512(a)
	case isaAVX2:
		a.tail = unsafe.Pointer(&ymmTailMasks)
		pointwiseTilesAVX2(a)
	}
}

// setBlock points a at block blk of group g (inPer inputs and outPer
// outputs a group): its weights, its biases and how many of its rows are
// output channels. The rest have zero weights: computed, never stored.
func (k *pointwiseTiled) setBlock(a *pointwiseTiles, g, blk, inPer, outPer int) {
	block := g*k.blocks + blk
	a.w = unsafe.Pointer(&k.weights[block*inPer*pwRows])
	a.bias = unsafe.Pointer(&k.bias[block*pwRows])
	a.rows = uintptr(min(pwRows, outPer-blk*pwRows))
}
