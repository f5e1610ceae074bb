package engine

import (
	"math"
	"slices"
)

// Softmax writes the probabilities of logits into dst (same length).
func Softmax(dst, logits []float32) {
	peak := slices.Max(logits)
	var sum float64
	for i, v := range logits {
		e := math.Exp(float64(v - peak))
		dst[i] = float32(e)
		sum += e
	}
	for i := range dst[:len(logits)] {
		dst[i] = float32(float64(dst[i]) / sum)
	}
}

// TopK returns the indices of the k largest values, largest first; equal
// values keep index order. k is clamped to len(v).
func TopK(v []float32, k int) []int {
	k = max(0, min(k, len(v)))
	top := make([]int, 0, k+1)
	for i, x := range v {
		if len(top) == k && (k == 0 || x <= v[top[k-1]]) {
			continue
		}
		at, _ := slices.BinarySearchFunc(top, x, func(j int, x float32) int {
			if v[j] >= x {
				return -1
			}
			return 1
		})
		top = slices.Insert(top, at, i)
		if len(top) > k {
			top = top[:k]
		}
	}
	return top
}
