//go:build goexperiment.simd && amd64

package engine

// pointwiseSIMD runs a pointwise conv as block kernel calls, one per
// block of blockRows output channels, each over the whole map of its
// group's inputs.
type pointwiseSIMD struct {
	kernels *simdKernels
	weights blockedWeights
	plan    tapPlan
}

// newPointwiseWith returns p's kernel in the instruction set of ks: on
// AVX-512, the assembly tile of pointwiseAVX512.
func newPointwiseWith(ks *simdKernels, p *pointwise) pointwiseKernel {
	if ks.isa == isaAVX512 {
		return newPointwiseAVX512(p)
	}
	inPer, outPer := p.in/p.groups, p.out/p.groups
	return &pointwiseSIMD{
		kernels: ks,
		weights: newBlockedWeights(p.weight, p.bias, p.groups, inPer, outPer, 1),
		plan:    pointwisePlan(p.hw, tileVectors),
	}
}

func (k *pointwiseSIMD) run(p *pointwise, dst, src, residual []float32) {
	hw, inPer, outPer := p.hw, k.weights.inPer, k.weights.outPer
	for g := range p.groups {
		for blk := range k.weights.blocks {
			out := blockOut{relu: p.ep != linear}
			for r := range min(blockRows, outPer-blk*blockRows) {
				at := p.plane(g*outPer+blk*blockRows+r) * hw
				out.dst[r] = dst[at : at+hw]
				if p.ep == addReLU {
					out.residual[r] = residual[at : at+hw]
				}
			}
			w, bias := k.weights.block(g, blk)
			k.kernels.convBlock(&out, w, bias, src, g*inPer*hw, &k.plan)
		}
	}
}
