//go:build js && wasm && !nosimd128

package engine

import (
	"sync"
	"unsafe"
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
// order, so the results are the same (see kernels_simd128_wasm_test.go).
// Where the host has no kernels (a browser without SIMD128), every layer
// runs its portable kernel.

// instantiateSIMD128 asks the host to instantiate the kernels; it answers
// 1 when they are ready to call.
//
//go:wasmimport simd128 instantiate
func instantiateSIMD128() int32

// simd128Ready reports whether the SIMD128 kernels run here. It asks the
// host on the first call, once; contexts that never build a network (the
// page's controller) never do.
var simd128Ready = sync.OnceValue(func() bool { return instantiateSIMD128() == 1 })

// SIMD128 reports whether the layers run the SIMD128 kernels here (else
// their portable kernels).
func SIMD128() bool { return simd128Ready() }

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

func newClassifierSIMD(c *classifier) classifierKernel {
	if !simd128Ready() {
		return nil
	}
	return newClassifierSIMD128(c)
}

// address is where a slice's first element is, for a kernel (nil for an
// empty slice). Go's heap objects never move, and these buffers and
// weights belong to the network, which outlives every call.
func address[T any](s []T) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }
