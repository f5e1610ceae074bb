//go:build goexperiment.simd && amd64

package engine

import "simd/archsimd"

// With GOEXPERIMENT=simd on amd64, layers run AVX-512 kernels when the CPU
// has AVX-512 (decided once, at start-up); otherwise the portable ones.
var haveAVX512 = archsimd.X86.AVX512()

func newPointwiseSIMD(p *pointwise) pointwiseKernel {
	if !haveAVX512 {
		return nil
	}
	return newPointwiseAVX512(p)
}

func newConv3x3SIMD(c *conv3x3) conv3x3Kernel {
	if !haveAVX512 {
		return nil
	}
	if c.groups == c.in && c.in == c.out {
		return newDepthwiseAVX512(c)
	}
	return newConv3x3AVX512(c)
}

func newPoolSIMD(*pool3x3s2) poolKernel {
	if !haveAVX512 {
		return nil
	}
	return pool3x3s2AVX512{}
}

func newClassifierSIMD(c *classifier) classifierKernel {
	if !haveAVX512 {
		return nil
	}
	return newClassifierAVX512(c)
}
