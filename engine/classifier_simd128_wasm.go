//go:build js && wasm && !nosimd128

package engine

// classifierSIMD128 runs the classifier with the SIMD128 kernel (see
// internal/simd128/classifier.go); it holds its weights as the kernel reads them.
type classifierSIMD128 struct {
	weights []float32 // [block of 4 outputs][input][output in block], zero past the last output
}

func newClassifierSIMD128(c *classifier) *classifierSIMD128 {
	blocks := (c.out + 3) / 4
	k := &classifierSIMD128{weights: make([]float32, blocks*4*c.in)}
	zero := make([]float32, c.in) // the rows past the last output
	for b := range blocks {
		var rows [4][]float32
		for r := range rows {
			if o := 4*b + r; o < c.out {
				rows[r] = c.weight[o*c.in : (o+1)*c.in]
			} else {
				rows[r] = zero
			}
		}
		interleave4(k.weights[4*b*c.in:4*(b+1)*c.in], rows)
	}
	return k
}

func (k *classifierSIMD128) run(c *classifier, dst, src []float32) {
	_, _ = dst[c.out-1], src[c.in-1] // the kernel trusts these sizes
	simd128Classifier(address(dst), address(src), address(k.weights), address(c.bias), int32(c.in), int32(c.out))
}
