//go:build js && wasm && !nosimd128

package engine

import (
	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
)

// groupedSIMD128 runs the seed's grouped 3x3 convs with the SIMD128
// kernel that vectorises over output channels (see internal/simd128/grouped.go); it
// holds their weights as the kernel reads them.
type groupedSIMD128 struct {
	weights []float32 // [block of 4 outputs][input of the group][tap][output in block]
}

// newGroupedSIMD128 lays out c's weights for the kernel, or returns nil
// where it does not apply: depthwise and dense convs, groups of outputs
// that are not a multiple of 4, a ReLU, other sizes.
func newGroupedSIMD128(c *conv3x3) *groupedSIMD128 {
	inPer, outPer := c.in/c.groups, c.out/c.groups
	if c.groups == 1 || inPer == 1 || outPer%4 != 0 || c.ep != linear || groupedVariantOf(c) < 0 {
		return nil
	}
	k := &groupedSIMD128{weights: make([]float32, len(c.weight))}
	for o := range c.out {
		block, lane := o/4, o%4
		for i := range inPer {
			for t := range 9 {
				k.weights[((block*inPer+i)*9+t)*4+lane] = c.weight[(o*inPer+i)*9+t]
			}
		}
	}
	return k
}

// groupedVariantOf is the index of c's variant in abi.GroupedVariants, or
// -1 where the kernel has none.
func groupedVariantOf(c *conv3x3) int32 { return abi.GroupedVariants.Of(c.stride, c.outSize) }

// scratchLen is the floats of the kernel's sums: a map of 4 channels.
func (*groupedSIMD128) scratchLen(c *conv3x3) int { return 4 * c.outSize * c.outSize }

func (k *groupedSIMD128) run(c *conv3x3, dst, padded, scratch []float32) {
	_ = scratch[k.scratchLen(c)-1]
	simd128Grouped(groupedVariantOf(c), address(dst), address(padded), address(k.weights), address(c.bias), address(scratch),
		int32(c.out), int32(c.in/c.groups), int32(c.out/c.groups))
}
