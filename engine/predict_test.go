package engine

import (
	"math"
	"strings"
	"testing"
)

// Softmax against values worked out by hand, infinite and NaN logits
// included.
func TestSoftmax(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	e := math.E
	for _, c := range []struct {
		name   string
		logits []float32
		want   []float64
	}{
		{"0, 1", []float32{0, 1}, []float64{1 / (1 + e), e / (1 + e)}},
		{"shifted by 1e4", []float32{1e4, 1e4 + 1}, []float64{1 / (1 + e), e / (1 + e)}},
		{"ln 3 apart", []float32{float32(math.Log(3)), 0}, []float64{0.75, 0.25}},
		{"equal", []float32{-7, -7, -7, -7}, []float64{0.25, 0.25, 0.25, 0.25}},
		{"one huge", []float32{0, 1e4}, []float64{0, 1}},
		{"+Inf", []float32{5, inf, 1e30}, []float64{0, 1, 0}},
		{"two +Inf", []float32{inf, inf, 0}, []float64{0.5, 0.5, 0}},
		{"-Inf", []float32{float32(math.Inf(-1)), 0, 0}, []float64{0, 0.5, 0.5}},
		{"all -Inf", []float32{float32(math.Inf(-1)), float32(math.Inf(-1))}, []float64{0.5, 0.5}},
		{"NaN", []float32{0, nan, 1}, []float64{math.NaN(), math.NaN(), math.NaN()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := make([]float32, len(c.logits)+1)
			got[len(c.logits)] = 42 // past the logits: left alone
			Softmax(got, c.logits)
			for i, w := range c.want {
				if g := float64(got[i]); !(math.Abs(g-w) <= 1e-6) && !(math.IsNaN(w) && math.IsNaN(g)) {
					t.Errorf("probability %d: %g, want %g", i, g, w)
				}
			}
			if got[len(c.logits)] != 42 {
				t.Errorf("wrote past the logits")
			}
		})
	}
}

// CheckFinite names the first NaN or infinity by channel, row and column.
func TestCheckFinite(t *testing.T) {
	x := make([]float32, 3*4*4)
	if err := CheckFinite(x, 4); err != nil {
		t.Fatalf("zeros: %v", err)
	}
	x[1*16+2*4+3] = float32(math.Inf(-1))
	x[2*16] = float32(math.NaN())
	err := CheckFinite(x, 4)
	if err == nil || !strings.Contains(err.Error(), "value -Inf at channel 1, row 2, column 3") {
		t.Errorf("error %v, want one naming the -Inf at channel 1, row 2, column 3", err)
	}
	x[1*16+2*4+3] = math.MaxFloat32 // large but finite
	if err := CheckFinite(x, 4); err == nil || !strings.Contains(err.Error(), "NaN at channel 2, row 0, column 0") {
		t.Errorf("error %v, want the NaN at channel 2", err)
	}
}
