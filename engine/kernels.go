package engine

// Every layer has a portable Go kernel, which is the reference and runs
// everywhere (WebAssembly included). New gives a layer a faster kernel
// when the build and the CPU have one: with GOEXPERIMENT=simd on amd64,
// the AVX-512 kernels (*_avx512_amd64.go) or, without AVX-512, the AVX2
// ones (*_avx2_amd64.go), driven by the runners of *_simd_amd64.go (see
// simdKernels). Tests compare each fast kernel with the portable one on
// the same layer.

// pointwiseKernel runs a pointwise conv; see pointwise.run.
type pointwiseKernel interface {
	run(p *pointwise, dst, src, residual []float32)
}

// classifierKernel runs the classifier; see classifier.run.
type classifierKernel interface {
	run(c *classifier, dst, src []float32)
}

// poolKernel runs a 3x3 stride-2 pool; see pool3x3s2.run.
type poolKernel interface {
	run(p *pool3x3s2, dst, src []float32)
}

// conv3x3Kernel runs a 3x3 conv; see conv3x3.run.
type conv3x3Kernel interface {
	run(c *conv3x3, dst []float32, src paddedMaps, s *convScratch)
}

// usesPhases reports whether some 3x3 conv's kernel needs the phase
// scratch buffer (the SIMD kernels split a stride-2 input into phases).
func (n *Network) usesPhases() bool {
	if n.stem.simd != nil {
		return true
	}
	for _, stage := range n.stages {
		for _, u := range stage {
			if u.spatial.simd != nil && u.spatial.stride == 2 {
				return true
			}
		}
	}
	return false
}
