//go:build js && wasm && !nosimd128

package engine

import (
	"sync"
	"unsafe"

	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
)

// In the browser, the layers run WebAssembly SIMD128 kernels: a small
// module that internal/simd128 writes (make wasm puts it next to the
// engine) and the JavaScript host (web/static/simd128.js) instantiates
// with Go's own memory as its memory, so that the kernels read and write
// Go's buffers in place. Each layer calls its kernel once, through a
// function imported with a wasmimport directive (simd128_calls_wasm.go),
// with the addresses of its buffers and its sizes.
//
// The kernels compute what the portable kernels compute, in the same
// order, so the results are the same (see kernels_simd128_wasm_test.go),
// except in the module's fused build, whose convs use fused
// multiply-adds: the host gives that build to browsers with relaxed SIMD.
// Where the host has no kernels (a browser without SIMD128), every layer
// runs its portable kernel.

// instantiateSIMD128 asks the host to instantiate the kernels; it answers
// which build runs: abi.Plain, abi.Fused, or abi.Unavailable.
//
//go:wasmimport simd128 instantiate
func instantiateSIMD128() int32

// simd128Build is the build of the SIMD128 kernels that runs here. It asks
// the host on the first call, once; contexts that never build a network
// (the page's controller) never do.
var simd128Build = sync.OnceValue(instantiateSIMD128)

// simd128Ready reports whether the SIMD128 kernels run here.
func simd128Ready() bool { return simd128Build() != abi.Unavailable }

// SIMD128 reports whether the layers run the SIMD128 kernels here (else
// their portable kernels).
func SIMD128() bool { return simd128Ready() }

// Kernels names the kernels the layers run here: "simd128-fma" (the fused
// build), "simd128" or "portable".
func Kernels() string {
	switch simd128Build() {
	case abi.Fused:
		return "simd128-fma"
	case abi.Plain:
		return "simd128"
	}
	return "portable"
}

func newPointwiseSIMD(p *pointwise) pointwiseKernel {
	if !simd128Ready() {
		return nil
	}
	return newPointwiseSIMD128(p)
}

func newConv3x3SIMD(c *conv3x3) conv3x3Kernel {
	if !simd128Ready() {
		return nil
	}
	return newConv3x3SIMD128(c)
}

func newPoolSIMD(p *pool3x3s2) poolKernel {
	if !simd128Ready() {
		return nil
	}
	return newPoolSIMD128(p)
}

func newGlobalPoolSIMD(p *globalPool) globalPoolKernel {
	if !simd128Ready() {
		return nil
	}
	return newGlobalPoolSIMD128(p)
}

func newClassifierSIMD(c *classifier) classifierKernel {
	if !simd128Ready() {
		return nil
	}
	return newClassifierSIMD128(c)
}

// interleave4 lays out 4 rows of weights (output channels) input by
// input, as the kernels read a block of outputs: dst[4*i+r] = rows[r][i].
// It moves a whole input's 4 weights per step, with no index arithmetic
// per weight: a model's first load runs this before V8 optimizes
// anything, and there each step of a Go loop costs a jump table. (In
// Liftoff-only Node the 1000x480 classifier took 5.3 ms weight by
// weight, 3.5 ms this way.)
func interleave4(dst []float32, rows [4][]float32) {
	n := len(dst) / 4
	r0, r1, r2, r3 := rows[0][:n], rows[1][:n], rows[2][:n], rows[3][:n]
	for i := range n {
		d := (*[4]float32)(dst[4*i:])
		d[0], d[1], d[2], d[3] = r0[i], r1[i], r2[i], r3[i]
	}
}

// address is where a slice's first element is, for a kernel (nil for an
// empty slice). Go's heap objects never move, and these buffers and
// weights belong to the network, which outlives every call.
func address[T any](s []T) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }
