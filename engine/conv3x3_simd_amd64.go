//go:build goexperiment.simd && amd64

package engine

import "simd/archsimd"

// conv3x3AVX512 runs a dense or grouped 3x3 conv (the stem, the seed's
// spatial convs) as convBlock calls over the nine taps of conv3x3Plan.
type conv3x3AVX512 struct {
	weights blockedWeights
	plan    tapPlan
}

func newConv3x3AVX512(c *conv3x3) *conv3x3AVX512 {
	inPer, outPer := c.in/c.groups, c.out/c.groups
	return &conv3x3AVX512{
		weights: newBlockedWeights(c.weight, c.bias, c.groups, inPer, outPer, 9),
		plan:    conv3x3Plan(c.outSize, c.stride, c.in, tileVectors),
	}
}

func (k *conv3x3AVX512) run(c *conv3x3, dst []float32, src paddedMaps, s *convScratch) {
	mem, origin := readable(c, src, s)
	hw, inPer, outPer := k.plan.hw, k.weights.inPer, k.weights.outPer
	for g := range c.groups {
		for blk := range k.weights.blocks {
			out := blockOut{relu: c.ep == relu}
			for r := range min(blockRows, outPer-blk*blockRows) {
				at := (g*outPer + blk*blockRows + r) * hw
				out.dst[r] = dst[at : at+hw]
			}
			w, bias := k.weights.block(g, blk)
			convBlock(&out, w, bias, mem, origin+g*inPer*k.plan.planeStride, &k.plan)
		}
	}
}

// readable returns the memory a conv's taps read and where its first
// input plane starts there: the input itself at stride 1, its phases
// (split into the scratch buffer now) at stride 2.
func readable(c *conv3x3, src paddedMaps, s *convScratch) ([]float32, int) {
	if c.stride == 1 {
		return src.mem, src.pad
	}
	splitPhases(s.phases.maps, src.maps, c.in, c.inSize)
	return s.phases.mem, s.phases.pad
}

// depthwiseTileVectors is the depthwise kernel's tile: four vectors, so
// four independent chains of nine FMAs hide the FMA latency.
const depthwiseTileVectors = 4

// depthwiseAVX512 runs a depthwise 3x3 conv one channel at a time.
type depthwiseAVX512 struct {
	plan tapPlan
}

func newDepthwiseAVX512(c *conv3x3) *depthwiseAVX512 {
	return &depthwiseAVX512{plan: conv3x3Plan(c.outSize, c.stride, c.in, depthwiseTileVectors)}
}

func (k *depthwiseAVX512) run(c *conv3x3, dst []float32, src paddedMaps, s *convScratch) {
	mem, origin := readable(c, src, s)
	hw := k.plan.hw
	for ch := range c.out {
		depthwiseMap(dst[ch*hw:(ch+1)*hw], (*[9]float32)(c.weight[ch*9:]), c.bias[ch], c.ep == relu,
			mem, origin+ch*k.plan.planeStride, &k.plan)
	}
}

// depthwiseMap computes one channel: dst[p] = epilogue(bias + sum over taps
// t of w[t] * src[at + p + offset_t]), four vectors at a time.
func depthwiseMap(dst []float32, w *[9]float32, bias float32, reLU bool, src []float32, at int, plan *tapPlan) {
	const n = vectorLanes
	var zero archsimd.Float32x16
	for v := 0; v < plan.vectors; v += depthwiseTileVectors {
		a0 := archsimd.BroadcastFloat32x16(bias)
		a1, a2, a3 := a0, a0, a0
		for t := range plan.taps {
			tp := &plan.taps[t]
			masks := tp.masks[v : v+4]
			i := at + tp.offset + v*n
			x := src[i : i+4*n]
			c := archsimd.BroadcastFloat32x16(w[t])
			a0 = archsimd.LoadMaskedFloat32x16((*[n]float32)(x[0:n]), archsimd.Mask32x16FromBits(masks[0])).MulAdd(c, a0)
			a1 = archsimd.LoadMaskedFloat32x16((*[n]float32)(x[n:2*n]), archsimd.Mask32x16FromBits(masks[1])).MulAdd(c, a1)
			a2 = archsimd.LoadMaskedFloat32x16((*[n]float32)(x[2*n:3*n]), archsimd.Mask32x16FromBits(masks[2])).MulAdd(c, a2)
			a3 = archsimd.LoadMaskedFloat32x16((*[n]float32)(x[3*n:4*n]), archsimd.Mask32x16FromBits(masks[3])).MulAdd(c, a3)
		}
		if reLU {
			a0, a1, a2, a3 = a0.Max(zero), a1.Max(zero), a2.Max(zero), a3.Max(zero)
		}
		out := dst[v*n : (v+4)*n]
		a0.StoreMasked((*[n]float32)(out[0:n]), archsimd.Mask32x16FromBits(tailMask(plan.hw, v)))
		a1.StoreMasked((*[n]float32)(out[n:2*n]), archsimd.Mask32x16FromBits(tailMask(plan.hw, v+1)))
		a2.StoreMasked((*[n]float32)(out[2*n:3*n]), archsimd.Mask32x16FromBits(tailMask(plan.hw, v+2)))
		a3.StoreMasked((*[n]float32)(out[3*n:4*n]), archsimd.Mask32x16FromBits(tailMask(plan.hw, v+3)))
	}
}
