package head_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine/head"
)

// tiny is a head worked out by hand: features (2, 1) give logits
// (2, 1.5, 2).
func tiny() *head.Head {
	return &head.Head{
		Classes:  []string{"cat", "dog", "teapot"},
		Features: 2,
		Weight:   []float32{1, 0, 0, 1, 1, 1},
		Bias:     []float32{0, 0.5, -1},
	}
}

func TestLogitsAndTop(t *testing.T) {
	h := tiny()
	logits := make([]float32, 3)
	if err := h.Logits(logits, []float32{2, 1}); err != nil {
		t.Fatal(err)
	}
	if want := []float32{2, 1.5, 2}; !slices.Equal(logits, want) {
		t.Errorf("logits %v, want %v", logits, want)
	}
	// softmax(2, 1.5, 2): e^2 / (2 e^2 + e^1.5) for the two tied classes,
	// which keep their order.
	sum := 2*math.Exp(2) + math.Exp(1.5)
	top, err := h.Top([]float32{2, 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		index int
		label string
		prob  float64
	}{{0, "cat", math.Exp(2) / sum}, {2, "teapot", math.Exp(2) / sum}, {1, "dog", math.Exp(1.5) / sum}}
	if len(top) != len(want) {
		t.Fatalf("%d predictions, want %d", len(top), len(want))
	}
	for i, p := range top {
		if p.Index != want[i].index || p.Label != want[i].label || math.Abs(p.Prob-want[i].prob) > 1e-6 {
			t.Errorf("prediction %d is %+v, want %+v", i, p, want[i])
		}
	}
	if top, _ := h.Top([]float32{2, 1}, 1); len(top) != 1 || top[0].Label != "cat" {
		t.Errorf("top 1 is %+v", top)
	}

	for _, c := range []struct {
		name          string
		dst, features []float32
		want          string
		weight, bias  []float32
	}{
		{name: "short features", dst: make([]float32, 3), features: []float32{1}, want: "1 features, want 2"},
		{name: "long features", dst: make([]float32, 3), features: []float32{1, 2, 3}, want: "3 features, want 2"},
		{name: "short dst", dst: make([]float32, 2), features: []float32{1, 2}, want: "room for 2 logits, want 3"},
		{name: "short weight", dst: make([]float32, 3), features: []float32{1, 2}, weight: []float32{1}, want: "1 weights, want 6"},
		{name: "short bias", dst: make([]float32, 3), features: []float32{1, 2}, bias: []float32{1}, want: "1 biases for 3 classes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := tiny()
			if c.weight != nil {
				h.Weight = c.weight
			}
			if c.bias != nil {
				h.Bias = c.bias
			}
			err := h.Logits(c.dst, c.features)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
			if _, err := h.Top(c.features, 1); err == nil && (len(c.features) != 2 || c.weight != nil || c.bias != nil) {
				t.Error("Top accepted it")
			}
		})
	}
}

func TestCheck(t *testing.T) {
	if err := tiny().Check(); err != nil {
		t.Fatalf("the tiny head: %v", err)
	}
	many := make([]string, head.MaxClasses+1)
	for i := range many {
		many[i] = fmt.Sprintf("class %d", i)
	}
	for _, c := range []struct {
		name   string
		change func(h *head.Head)
		want   string
	}{
		{"one class", func(h *head.Head) { h.Classes, h.Weight, h.Bias = h.Classes[:1], h.Weight[:2], h.Bias[:1] }, "1 classes, want 2 to 100"},
		{"no classes", func(h *head.Head) { h.Classes, h.Weight, h.Bias = nil, nil, nil }, "0 classes"},
		{"too many classes", func(h *head.Head) { h.Classes = many }, "101 classes"},
		{"empty name", func(h *head.Head) { h.Classes[1] = "" }, "class 1: empty name"},
		{"duplicate", func(h *head.Head) { h.Classes[2] = "cat" }, `classes 0 and 2 are both named "cat"`},
		{"long name", func(h *head.Head) { h.Classes[0] = strings.Repeat("é", 51) }, "name of 102 bytes, the limit is 100"},
		{"not UTF-8", func(h *head.Head) { h.Classes[0] = "ca\xfft" }, "not valid UTF-8"},
		{"newline", func(h *head.Head) { h.Classes[0] = "ca\nt" }, "control character (U+000A)"},
		{"no features", func(h *head.Head) { h.Features, h.Weight = 0, nil }, "0 features, want 1 to 8192"},
		{"too many features", func(h *head.Head) { h.Features = head.MaxFeatures + 1 }, "8193 features"},
		{"weights for other features", func(h *head.Head) { h.Features = 3 }, "6 weights, want 9 (3 classes x 3 features)"},
		{"long weight", func(h *head.Head) { h.Weight = append(h.Weight, 1) }, "7 weights, want 6"},
		{"short bias", func(h *head.Head) { h.Bias = h.Bias[:2] }, "2 biases for 3 classes"},
		{"NaN weight", func(h *head.Head) { h.Weight[3] = float32(math.NaN()) }, `weight of class "dog", feature 1, is NaN`},
		{"infinite weight", func(h *head.Head) { h.Weight[4] = float32(math.Inf(-1)) }, `weight of class "teapot", feature 0, is -Inf`},
		{"infinite bias", func(h *head.Head) { h.Bias[1] = float32(math.Inf(1)) }, `bias of class "dog" is +Inf`},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := tiny()
			c.change(h)
			err := h.Check()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}
