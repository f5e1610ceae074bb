package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The portable pointwise kernel, which pairs input channels and blocks
// output channels by four, computes the grouped 1x1 conv's definition on
// every shape: odd input counts (an unpaired channel), group widths that
// leave output channels outside a block of four, the compress conv's
// plane remapping and each epilogue.
func TestPointwiseMatchesDefinition(t *testing.T) {
	for _, c := range []struct {
		in, out, groups, hw int
		ep                  epilogue
		shuffled            bool
	}{
		{in: 24, out: 60, groups: 1, hw: 300, ep: relu},
		{in: 240, out: 60, groups: 3, hw: 49, ep: relu, shuffled: true},
		{in: 60, out: 240, groups: 3, hw: 196, ep: addReLU},
		{in: 9, out: 7, groups: 1, hw: 17, ep: linear},   // 9 inputs: 4 pairs and one
		{in: 15, out: 15, groups: 3, hw: 5, ep: addReLU}, // 5 in, 5 out per group
		{in: 1, out: 6, groups: 1, hw: 260, ep: relu},    // one input, over a pixel tile
		{in: 16, out: 40, groups: 8, hw: 33, ep: relu, shuffled: true},
	} {
		t.Run(fmt.Sprintf("%dto%d_g%d_hw%d_ep%d_shuffled%t", c.in, c.out, c.groups, c.hw, c.ep, c.shuffled), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.in), uint64(c.out)))
			inPer, outPer := c.in/c.groups, c.out/c.groups
			p := pointwise{in: c.in, out: c.out, groups: c.groups, hw: c.hw, ep: c.ep,
				weight: randomSlice(rng, c.out*inPer, -1, 1), bias: randomSlice(rng, c.out, -1, 1)}
			if c.shuffled {
				p.planes = compressPlanes(Architecture{Groups: c.groups, Shuffle: ShuffleStandard}, c.out)
			}
			src := randomSlice(rng, c.in*c.hw, -1, 1)
			residual := randomSlice(rng, c.out*c.hw, -1, 1)
			got := make([]float32, c.out*c.hw)
			p.runPortable(got, src, residual)
			for o := range c.out {
				g, plane := o/outPer, p.plane(o)
				for px := range c.hw {
					sum := float64(p.bias[o])
					for i := range inPer {
						sum += float64(p.weight[o*inPer+i]) * float64(src[(g*inPer+i)*c.hw+px])
					}
					switch c.ep {
					case relu:
						sum = max(sum, 0)
					case addReLU:
						sum = max(sum+float64(residual[plane*c.hw+px]), 0)
					}
					if g := got[plane*c.hw+px]; math.Abs(float64(g)-sum) > 1e-5*float64(inPer+1) {
						t.Fatalf("channel %d pixel %d: got %g, want %g", o, px, g, sum)
					}
				}
			}
		})
	}
}
