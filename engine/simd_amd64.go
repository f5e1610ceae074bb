//go:build goexperiment.simd && amd64

package engine

import "simd/archsimd"

// simdKernels are one instruction set's vector kernels. The block runner
// (conv3x3SIMD) loops over groups and blocks and calls them through the
// methods below, which call each kernel directly: through a function
// value, the compiler could not see that the block it passes stays on its
// stack.
type simdKernels struct {
	name     string
	isa      isa
	runsHere func() bool // whether this CPU has the instructions
}

// isa is an instruction set the SIMD kernels are written for.
type isa int

const (
	isaAVX512 isa = iota
	isaAVX2
)

var (
	avx512Kernels = simdKernels{name: "avx512", isa: isaAVX512, runsHere: archsimd.X86.AVX512}
	avx2Kernels   = simdKernels{name: "avx2", isa: isaAVX2, runsHere: func() bool { return archsimd.X86.AVX2() && archsimd.X86.FMA() }}
)

// convBlock computes a block of blockRows output channels of a conv over
// a whole map (see convBlockAVX512).
func (ks *simdKernels) convBlock(out *blockOut, w []float32, bias *[blockRows]float32, src []float32, origin int, plan *tapPlan) {
	switch ks.isa {
	case isaAVX512:
		convBlockAVX512(out, w, bias, src, origin, plan)
	case isaAVX2:
		convBlockAVX2(out, w, bias, src, origin, plan)
	}
}

// splitPhases splits stride-2 inputs into their phases.
func (ks *simdKernels) splitPhases(dst, src []float32, channels, inSize int) {
	switch ks.isa {
	case isaAVX512:
		splitPhasesAVX512(dst, src, channels, inSize)
	case isaAVX2:
		splitPhasesAVX2(dst, src, channels, inSize)
	}
}

// conv3x3 returns c's kernel: the depthwise one, the stem's for a dense
// conv of stride 2, or the block one.
func (ks *simdKernels) conv3x3(c *conv3x3) conv3x3Kernel {
	switch {
	case c.groups == c.in && c.in == c.out && ks.isa == isaAVX2:
		return newDepthwiseAVX2(ks, c)
	case c.groups == c.in && c.in == c.out:
		return newDepthwiseWith(ks, c)
	case c.groups == 1 && c.stride == 2:
		return newStemTiled(ks, c)
	}
	return newConv3x3With(ks, c)
}

// pool returns the pools' kernel; nil: the portable pools.
func (ks *simdKernels) pool() poolKernel {
	switch ks.isa {
	case isaAVX512:
		return pool3x3s2AVX512{}
	case isaAVX2:
		return pool3x3s2AVX2{}
	}
	return nil
}

// classifier returns c's kernel.
func (ks *simdKernels) classifier(c *classifier) classifierKernel {
	return newClassifierWith(ks, c)
}

// cpuKernels are the kernels for this CPU, chosen once at start-up: AVX-512
// where the CPU has it, else AVX2 with FMA, else none (the portable ones).
var cpuKernels = chooseKernels()

// Kernels names the kernels the layers run on this machine: "avx512",
// "avx2" or "portable".
func Kernels() string {
	if cpuKernels == nil {
		return "portable"
	}
	return cpuKernels.name
}

func chooseKernels() *simdKernels {
	for _, ks := range []*simdKernels{&avx512Kernels, &avx2Kernels} {
		if ks.runsHere() {
			return ks
		}
	}
	return nil
}

func newPointwiseSIMD(p *pointwise) pointwiseKernel {
	if cpuKernels == nil {
		return nil
	}
	return newPointwiseWith(cpuKernels, p)
}

func newConv3x3SIMD(c *conv3x3) conv3x3Kernel {
	if cpuKernels == nil {
		return nil
	}
	return cpuKernels.conv3x3(c)
}

func newPoolSIMD(*pool3x3s2) poolKernel {
	if cpuKernels == nil {
		return nil
	}
	return cpuKernels.pool()
}

// newGlobalPoolSIMD returns nil: compiled Go pools Megvii g3 1.0x's last
// maps in 0.016 ms, a quarter of the classifier after it and 0.6% of the
// pass, which a kernel could not save much of.
func newGlobalPoolSIMD(*globalPool) globalPoolKernel { return nil }

func newClassifierSIMD(c *classifier) classifierKernel {
	if cpuKernels == nil {
		return nil
	}
	return cpuKernels.classifier(c)
}
