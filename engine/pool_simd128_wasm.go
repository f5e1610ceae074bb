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

// globalPoolSIMD128 runs globalPool with the SIMD128 kernel (see
// writeGlobalPool in internal/simd128/pool.go) over the maps in fours, and
// globalAveragePool over the rest.
type globalPoolSIMD128 struct{}

func (globalPoolSIMD128) run(p *globalPool, dst, src []float32) {
	fours := p.channels &^ 3
	_, _ = src[fours*p.hw-1], dst[fours-1] // the kernel trusts these sizes
	simd128GlobalPool(address(dst), address(src), int32(fours), int32(p.hw))
	globalAveragePool(dst[fours:], src[fours*p.hw:], p.channels-fours, p.hw)
}

// newGlobalPoolSIMD128 returns the kernel for p, or nil for fewer than 4
// maps.
func newGlobalPoolSIMD128(p *globalPool) globalPoolKernel {
	if p.channels < 4 {
		return nil
	}
	return globalPoolSIMD128{}
}
