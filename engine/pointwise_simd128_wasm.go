//go:build js && wasm && !nosimd128

package engine

import (
	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
)

// pointwiseSIMD128 runs a pointwise conv with the SIMD128 kernel (see
// internal/simd128/pointwise.go); it holds its weights as the kernel reads them.
type pointwiseSIMD128 struct {
	weights []float32 // [group][block of abi.PointwiseBlock outputs][in/groups][row in block]
	planes  []int32   // byte offset of output channel o's plane: plane(o)*hw*4
}

// newPointwiseSIMD128 lays out p's weights for the kernel, or returns nil
// for a map smaller than one vector.
func newPointwiseSIMD128(p *pointwise) *pointwiseSIMD128 {
	if p.hw < 4 {
		return nil
	}
	inPer, outPer := p.in/p.groups, p.out/p.groups
	k := &pointwiseSIMD128{weights: make([]float32, len(p.weight)), planes: make([]int32, p.out)}
	block := abi.PointwiseBlock(simd128Build() == abi.Fused)
	at := 0 // where the next block of rows goes in k.weights
	for g := range p.groups {
		for first := 0; first < outPer; first += block {
			o := g*outPer + first
			rows := min(block, outPer-first) // fewer in the group's last block
			block := k.weights[at : at+rows*inPer]
			at += len(block)
			for i := range inPer {
				for r := range rows {
					block[i*rows+r] = p.weight[(o+r)*inPer+i]
				}
			}
		}
	}
	for o := range p.out {
		k.planes[o] = int32(p.plane(o) * p.hw * 4)
	}
	return k
}

func (k *pointwiseSIMD128) run(p *pointwise, dst, src, residual []float32) {
	n := p.out * p.hw
	_, _ = dst[n-1], src[p.in*p.hw-1] // the kernel trusts these sizes
	if p.ep == addReLU {
		_ = residual[n-1]
	}
	simd128Pointwise(address(dst), address(src), address(residual), address(k.weights), address(p.bias), address(k.planes),
		int32(p.hw), int32(p.in/p.groups), int32(p.out/p.groups), int32(p.groups), int32(p.ep))
}
