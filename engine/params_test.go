package engine

import (
	"math"
	"testing"
)

func TestNonFinite(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	finite := []float32{0, -0, 1, -1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-40}
	for _, c := range []struct {
		name string
		n    int // values, all finite but bad
		bad  float32
		at   int // -1: none
	}{
		{"empty", 0, 0, -1},
		{"all finite", 21, 0, -1},
		{"NaN first", 21, nan, 0},
		{"+Inf in the first 8", 21, inf, 5},
		{"-Inf in the second 8", 21, -inf, 12},
		{"NaN in the tail", 21, nan, 19},
		{"NaN last of 16", 16, nan, 15},
		{"short", 3, -inf, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := make([]float32, c.n)
			for i := range v {
				v[i] = finite[i%len(finite)]
			}
			if c.at >= 0 {
				v[c.at] = c.bad
				v[len(v)-1] = nan // only the first one counts
				if c.at == len(v)-1 {
					v[c.at] = c.bad
				}
			}
			if got := NonFinite(v); got != c.at {
				t.Errorf("NonFinite = %d, want %d", got, c.at)
			}
		})
	}
}
