//go:build js && wasm && !nosimd128

package engine

import "unsafe"

// The SIMD128 kernels, as Go calls them: each is an export of the module
// internal/simd128 writes, reached through a trampoline of the host
// (web/static/simd128.js). Addresses are byte addresses in Go's memory;
// every other parameter is a count or a code. The names and parameters
// are those internal/simd128/abi defines for the exports, which the
// generator writes from: a directive cannot take them from there, so
// TestSIMD128ImportsMatchABI checks these declarations against abi.

// simd128Pointwise runs pointwise.runPortable's computation; see
// writePointwise.
//
//go:wasmimport simd128 pointwise
func simd128Pointwise(dst, src, residual, weights, bias, planes unsafe.Pointer, hw, inPer, outPer, groups, ep int32)

// simd128Pad1 copies channels size x size planes from src into dst with a
// border of zeros; see writePad1.
//
//go:wasmimport simd128 pad1
func simd128Pad1(dst, src unsafe.Pointer, channels, size int32)

// simd128Pad2 copies channels size x size planes from src into dst padded
// and split into odd and even columns for a stride-2 conv; see writePad2.
//
//go:wasmimport simd128 pad2
func simd128Pad2(dst, src unsafe.Pointer, channels, size int32)

// simd128Conv3x3 runs conv3x3.runPortable's computation on the padded
// input, with a variant of the kernel (an index in abi.ConvVariants); see
// writeConv3x3.
//
//go:wasmimport simd128 conv3x3
func simd128Conv3x3(variant int32, dst, padded, weights, bias unsafe.Pointer, out, inPer, outPer, outSize, relu int32)

// simd128Pool runs maxPool3x3s2's computation (or avgPool3x3s2ReLU's,
// average != 0); see writePool.
//
//go:wasmimport simd128 pool
func simd128Pool(dst, src unsafe.Pointer, channels, inSize, average int32)

// simd128GlobalPool runs globalAveragePool's computation over channels
// (a multiple of 4) maps; see writeGlobalPool.
//
//go:wasmimport simd128 globalPool
func simd128GlobalPool(dst, src unsafe.Pointer, channels, hw int32)

// simd128Classifier runs the portable classifier's computation; see
// writeClassifier.
//
//go:wasmimport simd128 classifier
func simd128Classifier(dst, src, weights, bias unsafe.Pointer, in, out int32)

// simd128Grouped runs conv3x3.runPortable's computation on the padded
// input of a grouped conv, 4 output channels per vector, with the variant
// for its stride and size (an index in abi.GroupedVariants; see
// writeGrouped).
//
//go:wasmimport simd128 grouped
func simd128Grouped(variant int32, dst, padded, weights, bias, sums unsafe.Pointer, out, inPer, outPer int32)

// simd128Stem runs the stem conv (3 input channels, abi.StemSize outputs a
// side, stride 2) on the padded input; only the fused build has it (see
// writeStem).
//
//go:wasmimport simd128 stem
func simd128Stem(dst, padded, weights, bias unsafe.Pointer, out, relu int32)

// simd128WinogradInput transforms a stride-1 grouped conv's padded input
// for the fused build's Winograd conv (see winogradSIMD128).
//
//go:wasmimport simd128 winogradInput
func simd128WinogradInput(dst, padded unsafe.Pointer, channels, size int32)

// simd128WinogradOutput transforms the Winograd conv's summed products
// into its output maps, adding the bias.
//
//go:wasmimport simd128 winogradOutput
func simd128WinogradOutput(dst, products, bias unsafe.Pointer, out, size int32)
