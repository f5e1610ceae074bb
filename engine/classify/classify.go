// Package classify turns a network's logits into labelled predictions, the
// form every front end (CLI, HTTP API, browser) reports.
package classify

import (
	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/engine/labels"
)

// Prediction is one class with its softmax probability.
type Prediction struct {
	Index int     `json:"index"`
	Label string  `json:"label"`
	Prob  float64 `json:"prob"`
}

// Top returns the k most probable classes of logits, most probable first.
func Top(logits []float32, k int) []Prediction {
	probs := make([]float32, len(logits))
	engine.Softmax(probs, logits)
	top := engine.TopK(probs, k)
	out := make([]Prediction, len(top))
	for i, c := range top {
		out[i] = Prediction{Index: c, Label: labels.Name(c), Prob: float64(probs[c])}
	}
	return out
}
