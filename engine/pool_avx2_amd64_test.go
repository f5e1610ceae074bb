//go:build goexperiment.simd && amd64

package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The AVX2 pools give what the portable pools give bit for bit, not only
// to within rounding as TestPoolSIMDMatchesPortable checks: on inputs that
// repeat, on zeros of both signs (windows of zeros alone, where the max
// pool must take +0 over -0), on negative averages that the ReLU clears,
// on averages that round to -0, and on NaNs of both signs (x86 makes
// negative ones), which must come through both pools.
func TestPoolAVX2IsPortable(t *testing.T) {
	if !avx2Kernels.runsHere() {
		t.Skip("this CPU lacks AVX2 and FMA")
	}
	minusNaN := math.Float32frombits(0xffc00000)
	inputs := []struct {
		name string
		draw func(rng *rand.Rand, prev float32) float32
	}{
		{"mixed", func(rng *rand.Rand, prev float32) float32 {
			switch rng.IntN(6) {
			case 0:
				return prev
			case 1:
				return float32(math.Copysign(0, rng.Float64()-0.5))
			}
			return float32(2*rng.Float64() - 1)
		}},
		{"zeros", func(rng *rand.Rand, _ float32) float32 {
			return [...]float32{0, float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1)), -1}[rng.IntN(4)]
		}},
		{"tiny", func(rng *rand.Rand, _ float32) float32 {
			// Sums of so few subnormals that a ninth of them rounds to
			// zero, or to -0, which the ReLU must make +0.
			return math.Float32frombits(uint32(rng.IntN(5))) * float32(rng.IntN(3)-1)
		}},
		{"nans", func(rng *rand.Rand, _ float32) float32 {
			switch rng.IntN(40) {
			case 0:
				return float32(math.NaN())
			case 1:
				return minusNaN
			}
			return float32(2*rng.Float64() - 1)
		}},
	}
	for _, c := range poolCases {
		for _, in := range inputs {
			t.Run(c.String()+"/"+in.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(c.channels), uint64(c.inSize)))
				os := c.inSize / 2
				room := c.inSize + 4*vectorLanes
				src := nanRoom(rng, c.channels*c.inSize*c.inSize, room)
				prev := float32(0)
				for i := range src.maps {
					src.maps[i] = in.draw(rng, prev)
					prev = src.maps[i]
				}
				p := pool3x3s2{channels: c.channels, inSize: c.inSize, average: c.average}
				want := make([]float32, c.channels*os*os)
				p.run(want, src.maps)
				p.simd = pool3x3s2AVX2{}
				got := nanRoom(rng, len(want), room)
				p.run(withRoom(got), withRoom(src))
				for i, w := range want {
					g := got.maps[i]
					if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
						t.Fatalf("value %d: got %g (%#08x), want %g (%#08x)", i, g, math.Float32bits(g), w, math.Float32bits(w))
					}
				}
				for i, v := range got.mem {
					if (i < got.pad || i >= got.pad+len(got.maps)) && !math.IsNaN(float64(v)) {
						t.Fatalf("room at %d written: %g", i-got.pad, v)
					}
				}
			})
		}
	}
}
