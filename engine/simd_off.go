//go:build !(goexperiment.simd && amd64) && !(js && wasm && !nosimd128)

package engine

// Without GOEXPERIMENT=simd on amd64, and outside the browser build (see
// simd128_wasm.go), there are no SIMD kernels, and every layer runs its
// portable kernel. The tag nosimd128 builds WebAssembly without the
// SIMD128 kernels' imports, for hosts that cannot supply them (the
// Cloudflare Worker: Workers compile no WebAssembly at run time).

// Kernels names the kernels the layers run here: always "portable".
func Kernels() string { return "portable" }

func newPointwiseSIMD(*pointwise) pointwiseKernel { return nil }

func newConv3x3SIMD(*conv3x3) conv3x3Kernel { return nil }

func newPoolSIMD(*pool3x3s2) poolKernel { return nil }

func newGlobalPoolSIMD(*globalPool) globalPoolKernel { return nil }

func newClassifierSIMD(*classifier) classifierKernel { return nil }
