//go:build js && wasm && !nosimd128

package engine

import (
	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
)

// conv3x3SIMD128 runs a conv3x3 with the SIMD128 kernels (see
// simd128/conv3x3.go): it pads the input into the phase scratch, then runs
// the conv kernel, or where it applies the fused build's Winograd
// transforms (winograd_simd128_wasm.go), the grouped kernel
// (grouped_simd128_wasm.go) or the fused build's stem kernel.
type conv3x3SIMD128 struct {
	winograd *winogradSIMD128 // the fused build's, for the seed's stride-1 grouped convs
	grouped  *groupedSIMD128  // the seed's grouped convs otherwise
	stem     bool             // the fused build's stem kernel runs c
}

// newConv3x3SIMD128 returns the kernel for c, or nil for maps too narrow
// for a vector (fewer than 4 outputs a row, or 8 inputs at stride 2).
func newConv3x3SIMD128(c *conv3x3) conv3x3Kernel {
	if c.outSize < 4 || c.inSize%c.stride != 0 {
		return nil
	}
	if w := newWinogradSIMD128(c); w != nil {
		return &conv3x3SIMD128{winograd: w}
	}
	return &conv3x3SIMD128{grouped: newGroupedSIMD128(c), stem: stemKernelFits(c)}
}

// stemKernelFits reports whether the fused build's stem kernel (abi.Stem)
// runs c: it is the build here and c has the stem's shape at 224x224.
func stemKernelFits(c *conv3x3) bool {
	return simd128Build() == abi.Fused && c.in == 3 && c.groups == 1 && c.stride == 2 &&
		c.outSize == abi.StemSize && c.out%2 == 0
}

// paddedSize is the floats per channel of c's padded input: (S+2)^2 at
// stride 1, and at stride 2, S+1 rows (a padding row first) of S+1 floats
// (a padding column, the S/2 odd columns, the S/2 even ones).
func paddedSize(c *conv3x3) int {
	if c.stride == 1 {
		return (c.inSize + 2) * (c.inSize + 2)
	}
	return (c.inSize + 1) * (c.inSize + 1)
}

// phaseLen is the padded input's size, and the Winograd or grouped
// kernel's scratch after it.
func (k *conv3x3SIMD128) phaseLen(c *conv3x3) int {
	if k.winograd != nil {
		return c.in*paddedSize(c) + k.winograd.scratchLen(c)
	}
	if k.grouped != nil {
		return c.in*paddedSize(c) + k.grouped.scratchLen(c)
	}
	return c.in * paddedSize(c)
}

func (k *conv3x3SIMD128) run(c *conv3x3, dst []float32, src paddedMaps, s *convScratch) {
	padded := s.phases.maps[:c.in*paddedSize(c)]
	_, _ = src.maps[c.in*c.inSize*c.inSize-1], dst[c.out*c.outSize*c.outSize-1] // the kernels trust these sizes
	_ = c.weight[c.out*(c.in/c.groups)*9-1]
	reLU := int32(0)
	if c.ep == relu {
		reLU = 1
	}
	if c.stride == 1 {
		simd128Pad1(address(padded), address(src.maps), int32(c.in), int32(c.inSize))
	} else {
		simd128Pad2(address(padded), address(src.maps), int32(c.in), int32(c.inSize))
	}
	switch {
	case k.winograd != nil:
		k.winograd.run(c, dst, padded, s.phases.maps[len(padded):])
		return
	case k.grouped != nil:
		k.grouped.run(c, dst, padded, s.phases.maps[len(padded):])
		return
	case k.stem:
		simd128Stem(address(dst), address(padded), address(c.weight), address(c.bias), int32(c.out), reLU)
		return
	}
	simd128Conv3x3(abi.ConvVariants.Of(c.stride, c.outSize), address(dst), address(padded), address(c.weight), address(c.bias),
		int32(c.out), int32(c.in/c.groups), int32(c.out/c.groups), int32(c.outSize), reLU)
}
