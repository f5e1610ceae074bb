package engine

import (
	"math"
	"slices"
)

// Softmax writes the softmax of logits into dst, which is at least as
// long. Infinite logits have their limits: +Inf takes all the probability
// (shared among equal ones) and -Inf none; a NaN logit makes every
// probability NaN, since nothing can be said.
func Softmax(dst, logits []float32) {
	dst = dst[:len(logits)]
	peak := float32(math.Inf(-1))
	for _, v := range logits {
		if v != v {
			fill(dst, float32(math.NaN()))
			return
		}
		peak = max(peak, v)
	}
	if math.IsInf(float64(peak), 0) { // +Inf logits, or every logit -Inf
		n := 0
		for _, v := range logits {
			if v == peak {
				n++
			}
		}
		for i, v := range logits {
			dst[i] = 0
			if v == peak {
				dst[i] = 1 / float32(n)
			}
		}
		return
	}
	var sum float64
	for i, v := range logits {
		e := math.Exp(float64(v - peak))
		dst[i] = float32(e)
		sum += e
	}
	for i := range dst {
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
