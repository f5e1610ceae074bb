//go:build goexperiment.simd && amd64

package engine

// newPointwiseWith returns p's kernel in the instruction set of ks: the
// assembly tile of pointwiseTiled.
func newPointwiseWith(ks *simdKernels, p *pointwise) pointwiseKernel {
	return newPointwiseTiled(ks, p)
}
