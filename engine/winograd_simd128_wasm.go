//go:build js && wasm && !nosimd128

package engine

import (
	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
)

// winogradSIMD128 runs a stride-1 grouped 3x3 conv (the seed's) in the
// fused build as Winograd's F(2x2, 3x3) (see internal/simd128/winograd.go):
// the input transform kernel, then the 16 positions' products as one
// pointwise conv over the tiles with 16 times the groups, then the output
// transform kernel. Its outputs differ from the direct conv's by rounding
// (the fused build's tolerance); per input channel a 2x2 tile of outputs
// takes 16 multiply-adds instead of 36.
type winogradSIMD128 struct {
	tiles    int       // T x T tiles of 2x2 outputs
	products pointwise // [position][out] from [position][in], over the tiles
}

// newWinogradSIMD128 returns the Winograd kernel for c, or nil where it does
// not apply: another build, stride 2, dense or depthwise convs, a ReLU,
// maps under 7x7.
func newWinogradSIMD128(c *conv3x3) *winogradSIMD128 {
	inPer := c.in / c.groups
	if simd128Build() != abi.Fused || c.stride != 1 || c.groups == 1 || inPer == 1 || c.ep != linear || c.outSize < 7 {
		return nil
	}
	t := (c.outSize + 1) / 2
	k := &winogradSIMD128{tiles: t * t}
	// The weights, U = G g Gt for each output and input channel, as the
	// pointwise conv of position p's output o (channel p*out + o) from its
	// group's input i holds them.
	w := make([]float32, 16*c.out*inPer)
	for o := range c.out {
		for i := range inPer {
			u := winogradWeights((*[9]float32)(c.weight[(o*inPer+i)*9:]))
			for p := range 16 {
				w[(p*c.out+o)*inPer+i] = u[p]
			}
		}
	}
	k.products = pointwise{in: 16 * c.in, out: 16 * c.out, groups: 16 * c.groups, hw: k.tiles,
		weight: w, bias: make([]float32, 16*c.out), ep: linear}
	k.products.simd = newPointwiseSIMD(&k.products)
	// The kernel has the weights in its own layout (a map of 16 tiles or
	// more is wide enough for it): the portable layout would only take
	// memory, 16/9 of the conv's weights.
	k.products.weight = nil
	return k
}

// winogradWeights is G g Gt for a 3x3 kernel g, computed in float64.
func winogradWeights(g *[9]float32) [16]float32 {
	G := [4][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	var gG [3][4]float64 // g Gt
	for r := range 3 {
		for j := range 4 {
			for c := range 3 {
				gG[r][j] += float64(g[3*r+c]) * G[j][c]
			}
		}
	}
	var u [16]float32
	for i := range 4 {
		for j := range 4 {
			var sum float64
			for r := range 3 {
				sum += G[i][r] * gG[r][j]
			}
			u[4*i+j] = float32(sum)
		}
	}
	return u
}

// gap is the floats after the padded input that the input transform
// reads (abi.WinogradInput). They are zeroed although only outputs that
// are not stored depend on them: a NaN another layer left there would be
// a trap for whoever changes the transforms.
func (k *winogradSIMD128) gap(c *conv3x3) int { return 2 * (c.inSize + 2) }

// scratchLen is the floats the kernel needs after the padded input: the
// gap, the transformed input and the products.
func (k *winogradSIMD128) scratchLen(c *conv3x3) int {
	return k.gap(c) + 16*c.in*k.tiles + 16*c.out*k.tiles
}

func (k *winogradSIMD128) run(c *conv3x3, dst, padded, scratch []float32) {
	gap := k.gap(c)
	fill(scratch[:gap], 0)
	v := scratch[gap : gap+16*c.in*k.tiles]
	m := scratch[gap+len(v) : gap+len(v)+16*c.out*k.tiles]
	simd128WinogradInput(address(v), address(padded), int32(c.in), int32(c.outSize))
	k.products.run(m, v, nil)
	simd128WinogradOutput(address(dst), address(m), address(c.bias), int32(c.out), int32(c.outSize))
}
