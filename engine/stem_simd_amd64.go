//go:build goexperiment.simd && amd64

package engine

import "unsafe"

// stemTiled runs a dense 3x3 conv of stride 2 (the stem, and the seed
// g1's stride-2 3x3 convs) as a pointwise conv over its taps. For a band
// of output rows at a time, the input's phases (splitPhases) are copied
// into one plane per input channel and tap, shifted as that tap reads
// them (im2col: 27 planes for the stem's 3 channels), and the pointwise
// tile (pointwiseTiled) multiplies them by the conv's weights, whose
// layout [out][in][3][3] is already [out][in*9].
//
// Why: the stem has 3 input channels, so the block kernel (conv3x3SIMD)
// gets 27 products per output from 27 shifted reads of a 6-row block,
// about 25 GMAC/s on AVX-512; the tile keeps 16 sums in registers and
// runs at about 50, copies included. On AVX2 it is the 6-sum tile against
// the 12-sum one. The band keeps the copies in L2: all 27 planes of
// the whole map are 1.4 MB, and writing them pushed the next layers'
// maps out of the cache.
//
// The kernel holds only what Clone's networks share: the phases and the
// tap planes go in the network's phase scratch (see phaseLen).
type stemTiled struct {
	kernels *simdKernels
	kernel  *pointwiseTiled // the conv over its tap planes, for its weights
	inputs  int             // tap planes: 9 per input channel
	band    int             // output rows per band
	plans   [2]tapPlan      // a whole band's masks, and the last band's
}

// stemBandBytes bounds one band's tap planes, to stay in L2.
const stemBandBytes = 256 << 10

func newStemTiled(ks *simdKernels, c *conv3x3) *stemTiled {
	os, inputs := c.outSize, 9*c.in
	band := max(1, min(os, stemBandBytes/(4*inputs*os)))
	return &stemTiled{
		kernels: ks,
		kernel:  newPointwiseTiled(ks, &pointwise{in: inputs, out: c.out, groups: 1, weight: c.weight, bias: c.bias}),
		inputs:  inputs,
		band:    band,
		plans:   [2]tapPlan{pointwisePlan(band*os, pwTileVectors), pointwisePlan((os-(ceilDiv(os, band)-1)*band)*os, pwTileVectors)},
	}
}

// phaseLen is the input's four phases, then one band's tap planes.
func (k *stemTiled) phaseLen(c *conv3x3) int {
	return c.in*c.inSize*c.inSize + k.inputs*k.band*c.outSize
}

func (k *stemTiled) run(c *conv3x3, dst []float32, src paddedMaps, s *convScratch) {
	phases := s.phases.maps[:c.in*c.inSize*c.inSize]
	os := c.outSize
	bandPixels := k.band * os
	columns := s.phases.maps[len(phases):][:k.inputs*bandPixels] // [in][3][3][bandPixels]
	k.kernels.splitPhases(s.phases.maps, src.maps, c.in, c.inSize)
	a := pointwiseTiles{stride: uintptr(4 * bandPixels), inputs: uintptr(k.inputs), src: unsafe.Pointer(&columns[0])}
	if c.ep == relu {
		a.relu = 1
	}
	for y0 := 0; y0 < os; y0 += k.band {
		rows := min(k.band, os-y0)
		k.copyTaps(columns, c, phases, y0, rows)
		plan := &k.plans[0]
		if rows < k.band {
			plan = &k.plans[1]
		}
		a.vectors, a.masks = uintptr(plan.vectors), unsafe.Pointer(&plan.taps[0].masks[0])
		a.pixels = uintptr(rows * os)
		for blk := range k.kernel.blocks {
			k.kernel.setBlock(&a, 0, blk, k.inputs, c.out)
			for r := range int(a.rows) {
				a.dst[r] = unsafe.Pointer(&dst[(blk*pwRows+r)*os*os+y0*os])
			}
			k.kernel.tiles(&a)
		}
	}
}

// copyTaps writes the tap planes of output rows y0 to y0+rows to columns
// from the input's phases: tap (ky, kx) of output (y, x) reads input (2y+ky-1,
// 2x+kx-1), which is phase ((ky+1)%2, (kx+1)%2) at (y, x), moved down or
// right by one where the tap is above or left of the centre, zeros coming
// in from the edge.
func (k *stemTiled) copyTaps(columns []float32, c *conv3x3, phases []float32, y0, rows int) {
	os := c.outSize
	hw, bandPixels := os*os, k.band*os
	for ci := range c.in {
		for ky := range 3 {
			for kx := range 3 {
				dy, dx := ky-1, kx-1
				phase := phases[(2*(dy&1)+(dx&1))*c.in*hw+ci*hw:][:hw]
				plane := columns[((ci*3+ky)*3+kx)*bandPixels:][:rows*os]
				for y := range rows {
					out := plane[y*os : (y+1)*os]
					from := y0 + y + min(dy, 0)
					if from < 0 {
						clear(out)
						continue
					}
					in := phase[from*os : (from+1)*os]
					if dx < 0 {
						out[0] = 0
						copy(out[1:], in)
					} else {
						copy(out, in)
					}
				}
			}
		}
	}
}
