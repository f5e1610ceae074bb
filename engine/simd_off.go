package engine

// No fast kernels yet: every layer runs its portable kernel.

func newPointwiseSIMD(*pointwise) pointwiseKernel { return nil }

func newConv3x3SIMD(*conv3x3) conv3x3Kernel { return nil }
