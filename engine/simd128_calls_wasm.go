//go:build js && wasm

package engine

import "unsafe"

// The SIMD128 kernels, as Go calls them: each is an export of the module
// simd128Module generates, reached through a trampoline of the host
// (web/static/simd128.js). Addresses are byte addresses in Go's memory;
// every other parameter is a count.

// simd128Pointwise runs pointwise.runPortable's computation; see
// writePointwise.
//
//go:wasmimport simd128 pointwise
func simd128Pointwise(dst, src, residual, weights, bias, planes unsafe.Pointer, hw, inPer, outPer, groups, ep int32)
