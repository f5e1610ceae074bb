//go:build js && wasm && !nosimd128

package engine

// poolSIMD128 runs pool3x3s2 with the SIMD128 kernel (see internal/simd128/pool.go).
type poolSIMD128 struct{}

func (poolSIMD128) run(p *pool3x3s2, dst, src []float32) {
	os := p.inSize / 2
	_, _ = src[p.channels*p.inSize*p.inSize-1], dst[p.channels*os*os-1] // the kernel trusts these sizes
	average := int32(0)
	if p.average {
		average = 1
	}
	simd128Pool(address(dst), address(src), int32(p.channels), int32(p.inSize), average)
}

// newPoolSIMD128 returns the kernel for p, or nil for maps whose outputs
// make less than a vector a row.
func newPoolSIMD128(p *pool3x3s2) poolKernel {
	if p.inSize < 8 {
		return nil
	}
	return poolSIMD128{}
}
