// Package head is a softmax classifier of the user's own classes on top of
// a frozen ShuffleNet: it reads the network's pooled features (the global
// average of the last stage, engine.Network.Features) instead of the
// ImageNet classifier's output, and is trained here, in Go, so that the
// browser's worker and the CLI teach the same head from the same examples.
//
// A Head is just a linear layer, Weight·features + Bias, with softmax on
// top: whatever scaling Train used is folded into Weight and Bias, so a
// head file needs nothing else to be applied.
package head

import (
	"errors"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/shufflenet-go/shufflenet/engine/classify"
)

const (
	// MaxClasses is the most classes a head may have. The page offers 2 to
	// 10; the CLI allows more, up to this, which keeps a head file and
	// Train's buffers small (see Train and weights.MaxHeadSize).
	MaxClasses = 100
	// MaxFeatures is the widest input a head may take. The widest
	// ShuffleNet V1 published has 3072 pooled features (Megvii g8 2x);
	// pytorchcv's widths reach 6144.
	MaxFeatures = 8192
	// MaxNameBytes is the longest class name, in bytes of UTF-8.
	MaxNameBytes = 100
)

// Head is a softmax classifier over a frozen network's pooled features.
type Head struct {
	Classes  []string  // class names, in output order
	Features int       // input width: the base network's FeatureChannels
	Weight   []float32 // len(Classes) x Features, row-major
	Bias     []float32 // len(Classes)
}

// Check reports whether h is a head that can be applied and saved: 2 to
// MaxClasses classes with unique names (each non-empty, at most
// MaxNameBytes of valid UTF-8, with no control characters, which would
// break a line of the CLI's output or a label on the page), 1 to
// MaxFeatures features, Weight and Bias of the matching sizes, and only
// finite numbers.
func (h *Head) Check() error {
	if err := checkClasses(h.Classes); err != nil {
		return fmt.Errorf("head: %w", err)
	}
	if h.Features < 1 || h.Features > MaxFeatures {
		return fmt.Errorf("head: %d features, want 1 to %d", h.Features, MaxFeatures)
	}
	if err := h.checkSizes(); err != nil {
		return err
	}
	for i, v := range h.Weight {
		if !finite(v) {
			return fmt.Errorf("head: weight of class %q, feature %d, is %g", h.Classes[i/h.Features], i%h.Features, v)
		}
	}
	for i, v := range h.Bias {
		if !finite(v) {
			return fmt.Errorf("head: bias of class %q is %g", h.Classes[i], v)
		}
	}
	return nil
}

// checkSizes checks that Weight and Bias fit the classes and features.
func (h *Head) checkSizes() error {
	if want := len(h.Classes) * h.Features; len(h.Weight) != want {
		return fmt.Errorf("head: %d weights, want %d (%d classes x %d features)", len(h.Weight), want, len(h.Classes), h.Features)
	}
	if len(h.Bias) != len(h.Classes) {
		return fmt.Errorf("head: %d biases for %d classes", len(h.Bias), len(h.Classes))
	}
	return nil
}

// checkClasses checks a list of class names (see Check).
func checkClasses(classes []string) error {
	if len(classes) < 2 || len(classes) > MaxClasses {
		return fmt.Errorf("%d classes, want 2 to %d", len(classes), MaxClasses)
	}
	seen := make(map[string]int, len(classes))
	for i, name := range classes {
		if err := CheckName(name); err != nil {
			return fmt.Errorf("class %d: %w", i, err)
		}
		if j, ok := seen[name]; ok {
			return fmt.Errorf("classes %d and %d are both named %q", j, i, name)
		}
		seen[name] = i
	}
	return nil
}

// CheckName reports whether name can name a class: non-empty, at most
// MaxNameBytes of valid UTF-8, and without control characters.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case len(name) > MaxNameBytes:
		return fmt.Errorf("name of %d bytes, the limit is %d", len(name), MaxNameBytes)
	case !utf8.ValidString(name):
		return fmt.Errorf("name %q is not valid UTF-8", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("name %q has a control character (%U)", name, r)
		}
	}
	return nil
}

// Logits writes into dst (len(Classes) values) the head's logits for
// features (Features values): Weight·features + Bias.
func (h *Head) Logits(dst, features []float32) error {
	if err := h.checkSizes(); err != nil {
		return err
	}
	if len(features) != h.Features {
		return fmt.Errorf("head: %d features, want %d", len(features), h.Features)
	}
	if len(dst) != len(h.Classes) {
		return fmt.Errorf("head: room for %d logits, want %d", len(dst), len(h.Classes))
	}
	for c := range dst {
		dst[c] = h.Bias[c] + dot(h.Weight[c*h.Features:(c+1)*h.Features], features)
	}
	return nil
}

// Top returns the k most probable classes for features, most probable
// first, with their softmax probabilities and the head's class names.
func (h *Head) Top(features []float32, k int) ([]classify.Prediction, error) {
	logits := make([]float32, len(h.Classes))
	if err := h.Logits(logits, features); err != nil {
		return nil, err
	}
	top := classify.Top(logits, k)
	for i := range top {
		top[i].Label = h.Classes[top[i].Index]
	}
	return top, nil
}

// dot is the dot product of a and b (at least as long as a), with four
// partial sums so that four multiply-adds are in flight at once.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func finite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
