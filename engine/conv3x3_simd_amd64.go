//go:build goexperiment.simd && amd64

package engine

// conv3x3SIMD runs a dense or grouped 3x3 conv (the seed's spatial convs,
// and on AVX2 the stem) as block kernel calls over the nine taps of
// conv3x3Plan.
type conv3x3SIMD struct {
	kernels *simdKernels
	weights blockedWeights
	plan    tapPlan
}

func newConv3x3With(ks *simdKernels, c *conv3x3) *conv3x3SIMD {
	inPer, outPer := c.in/c.groups, c.out/c.groups
	return &conv3x3SIMD{
		kernels: ks,
		weights: newBlockedWeights(c.weight, c.bias, c.groups, inPer, outPer, 9),
		plan:    conv3x3Plan(c.outSize, c.stride, c.in, tileVectors),
	}
}

func (k *conv3x3SIMD) run(c *conv3x3, dst []float32, src paddedMaps, s *convScratch) {
	mem, origin := k.kernels.readable(c, src, s)
	hw, inPer, outPer := k.plan.hw, k.weights.inPer, k.weights.outPer
	for g := range c.groups {
		for blk := range k.weights.blocks {
			out := blockOut{relu: c.ep == relu}
			for r := range min(blockRows, outPer-blk*blockRows) {
				at := (g*outPer + blk*blockRows + r) * hw
				out.dst[r] = dst[at : at+hw]
			}
			w, bias := k.weights.block(g, blk)
			k.kernels.convBlock(&out, w, bias, mem, origin+g*inPer*k.plan.planeStride, &k.plan)
		}
	}
}

// depthwiseSIMD runs a depthwise 3x3 conv one channel at a time, with the
// AVX-512 kernel (the AVX2 one is depthwiseAVX2).
type depthwiseSIMD struct {
	kernels *simdKernels
	plan    tapPlan
}

func newDepthwiseWith(ks *simdKernels, c *conv3x3) *depthwiseSIMD {
	return &depthwiseSIMD{kernels: ks, plan: conv3x3Plan(c.outSize, c.stride, c.in, depthwiseTileVectors)}
}

func (k *depthwiseSIMD) run(c *conv3x3, dst []float32, src paddedMaps, s *convScratch) {
	mem, origin := k.kernels.readable(c, src, s)
	hw := k.plan.hw
	for ch := range c.out {
		depthwiseMapAVX512(dst[ch*hw:(ch+1)*hw], (*[9]float32)(c.weight[ch*9:]), c.bias[ch], c.ep == relu,
			mem, origin+ch*k.plan.planeStride, &k.plan)
	}
}

// depthwiseTileVectors is the AVX-512 depthwise kernel's tile: four
// vectors, independent chains of nine FMAs that hide the FMA latency.
const depthwiseTileVectors = 4

// readable returns the memory a conv's taps read and where its first
// input plane starts there: the input itself at stride 1, its phases
// (split into the scratch buffer now) at stride 2.
func (ks *simdKernels) readable(c *conv3x3, src paddedMaps, s *convScratch) ([]float32, int) {
	if c.stride == 1 {
		return src.mem, src.pad
	}
	ks.splitPhases(s.phases.maps, src.maps, c.in, c.inSize)
	return s.phases.mem, s.phases.pad
}
