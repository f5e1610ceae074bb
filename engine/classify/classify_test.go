package classify_test

import (
	"math"
	"slices"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine/classify"
)

// Top's probabilities are the softmax, checked against values worked out
// by hand, and its order is the probabilities' with ties in index order.
func TestTop(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	third := 1.0 / 3
	// softmax(1, 2, 3) = e^k / (e + e^2 + e^3).
	e1, e2, e3 := math.E, math.E*math.E, math.E*math.E*math.E
	sum := e1 + e2 + e3
	for _, c := range []struct {
		name   string
		logits []float32
		k      int
		index  []int
		prob   []float64
	}{
		{"1, 2, 3", []float32{1, 2, 3}, 3, []int{2, 1, 0}, []float64{e3 / sum, e2 / sum, e1 / sum}},
		{"shifted by 10,000", []float32{10001, 10002, 10003}, 3, []int{2, 1, 0}, []float64{e3 / sum, e2 / sum, e1 / sum}},
		{"ln 3 apart", []float32{0, float32(math.Log(3))}, 2, []int{1, 0}, []float64{0.75, 0.25}},
		{"equal", []float32{4, 4, 4}, 2, []int{0, 1}, []float64{third, third}},
		{"one huge", []float32{0, 1e4, 0, 0}, 2, []int{1, 0}, []float64{1, 0}},
		{"a thousand equal", make([]float32, 1000), 1, []int{0}, []float64{0.001}},
		{"k over the classes", []float32{0, 1}, 5, []int{1, 0}, []float64{math.E / (1 + math.E), 1 / (1 + math.E)}},
		{"+Inf takes it all", []float32{0, inf, 3}, 3, []int{1, 0, 2}, []float64{1, 0, 0}},
		{"two +Inf share it", []float32{inf, 0, inf}, 3, []int{0, 2, 1}, []float64{0.5, 0.5, 0}},
		{"-Inf has none", []float32{float32(math.Inf(-1)), 0}, 2, []int{1, 0}, []float64{1, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := classify.Top(c.logits, c.k)
			var index []int
			for i, p := range got {
				index = append(index, p.Index)
				if math.Abs(p.Prob-c.prob[i]) > 1e-6 {
					t.Errorf("class %d: probability %.7f, want %.7f", p.Index, p.Prob, c.prob[i])
				}
			}
			if !slices.Equal(index, c.index) {
				t.Errorf("classes %v, want %v", index, c.index)
			}
		})
	}
	// A NaN logit leaves nothing to say: every probability is NaN.
	for _, p := range classify.Top([]float32{1, nan, 2}, 3) {
		if !math.IsNaN(p.Prob) {
			t.Errorf("with a NaN logit, class %d has probability %g", p.Index, p.Prob)
		}
	}
	// The labels are ImageNet's.
	if got := classify.Top(slices.Concat(make([]float32, 285), []float32{9}, make([]float32, 714)), 1)[0]; got.Label != "Egyptian cat" || got.Index != 285 {
		t.Errorf("class 285 is %+v", got)
	}
}
