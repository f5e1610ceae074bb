package engine

// Every layer has a portable Go kernel, which is the reference and runs
// everywhere (WebAssembly included). New gives a layer a faster kernel
// when the build and the CPU have one: with GOEXPERIMENT=simd on amd64,
// the AVX-512 kernels (*_avx512_amd64.go) or, without AVX-512, the AVX2
// ones (*_avx2_amd64.go), driven by the runners of *_simd_amd64.go (see
// simdKernels); in the browser (js/wasm), the WebAssembly SIMD128
// kernels of internal/simd128, driven by the runners of *_simd128_wasm.go
// (see simd128_wasm.go), where the host links them in. Tests compare each
// fast kernel with the portable one on the same layer.

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

// globalPoolKernel runs the global average pool; see globalPool.run.
type globalPoolKernel interface {
	run(p *globalPool, dst, src []float32)
}

// conv3x3Kernel runs a 3x3 conv; see conv3x3.run.
type conv3x3Kernel interface {
	run(c *conv3x3, dst []float32, src paddedMaps, s *convScratch)
}

// phaseUser is a 3x3 conv kernel that says how many floats of the phase
// scratch buffer (convScratch.phases) it uses for c: the SIMD128 kernels
// copy their input there, padded.
type phaseUser interface {
	phaseLen(c *conv3x3) int
}

// phaseLen is the size of the phase scratch buffer the 3x3 convs' kernels
// need: what each phaseUser says, and a stride-2 input's size for the
// other SIMD kernels, which split such an input into its four phases.
func (n *Network) phaseLen() int {
	need := 0
	convs := []*conv3x3{&n.stem}
	for _, stage := range n.stages {
		for i := range stage {
			convs = append(convs, &stage[i].spatial)
		}
	}
	for _, c := range convs {
		switch k := c.simd.(type) {
		case nil:
		case phaseUser:
			need = max(need, k.phaseLen(c))
		default:
			if c.stride == 2 {
				need = max(need, c.in*c.inSize*c.inSize)
			}
		}
	}
	return need
}
