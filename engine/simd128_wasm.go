//go:build js && wasm

package engine

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/shufflenet-go/shufflenet/engine/internal/wasmenc"
)

// In the browser, the layers run WebAssembly SIMD128 kernels. Go's wasm
// backend emits no vector instructions, so the engine writes the kernels
// itself: simd128Module generates a small module of them (with
// internal/wasmenc), and the JavaScript host (web/static/simd128.js)
// compiles it with Go's own memory as its memory, so that the kernels read
// and write Go's buffers in place. Each layer then calls its kernel once
// through a go:wasmimport function (declared in simd128_calls_wasm.go),
// with the addresses of its buffers and its sizes.
//
// The kernels compute what the portable kernels compute, in the same
// order, so the results are equal (see kernels_simd128_wasm_test.go).
// Where the host cannot compile them (no SIMD128), every layer runs its
// portable kernel.

// instantiateSIMD128 hands the host the kernel module's bytes; it answers
// 1 when the kernels are ready to call.
//
//go:wasmimport simd128 instantiate
func instantiateSIMD128(module unsafe.Pointer, size int32) int32

// simd128Ready reports whether the SIMD128 kernels run here. The module is
// generated and instantiated on the first call, once; contexts that never
// build a network (the page's controller) never pay for it.
var simd128Ready = sync.OnceValue(func() bool {
	code := simd128Module()
	return instantiateSIMD128(unsafe.Pointer(&code[0]), int32(len(code))) == 1
})

// simd128Module encodes the kernel module. Its exports are the functions
// of simd128_calls_wasm.go, with the same parameters.
func simd128Module() []byte {
	m := wasmenc.NewModule("go", "mem")
	writePointwise(m)
	writePad1(m)
	writePad2(m)
	writeConv3x3(m)
	writeGrouped(m)
	writePool(m)
	writeClassifier(m)
	code, err := m.Encode()
	if err != nil {
		panic(fmt.Sprintf("engine: the SIMD128 kernels do not encode: %v", err))
	}
	return code
}

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
