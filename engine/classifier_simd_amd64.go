//go:build goexperiment.simd && amd64

package engine

import "simd/archsimd"

// classifierTile is how many logits the SIMD classifiers accumulate at
// once, and the multiple the transposed rows are padded to: four AVX-512
// vectors, four independent chains of FMAs. The AVX2 kernel does a tile
// as two halves of four 8-lane vectors, each laid out on its own.
const classifierTile = 4 * vectorLanes

// classifierSIMD computes a tile of logits at a time from the classifier's
// weights transposed in New, input by input: each input is broadcast and
// multiplied into four vectors of weights, so no vector is ever summed
// across its lanes. Rows are padded to a whole number of tiles with zeros.
//
// Each tile's weights (each half tile's, on AVX2) are one run of memory,
// input after input, so that a tile streams through them. Transposed whole, [in][outputs], a tile
// read 256 bytes every 4 KB: a page each, which the hardware prefetchers
// do not cross, so in a forward pass, whose other layers had pushed the
// 3.8 MB of weights out of the caches, the classifier of Megvii g3 1.0x
// took about 1.5 ms on an AVX2 Zen 3 where it takes 0.2 ms from cache.
type classifierSIMD struct {
	isa    isa
	stride int       // outputs rounded up to a whole tile
	width  int       // outputs a kernel call computes: a tile, or half of one on AVX2
	weight []float32 // [stride/width][in][width]
	bias   []float32 // [stride]
}

func newClassifierWith(ks *simdKernels, c *classifier) *classifierSIMD {
	k := &classifierSIMD{isa: ks.isa, stride: roundUp(c.out, classifierTile), width: classifierTile}
	if ks.isa == isaAVX2 {
		k.width = classifierTile / 2
	}
	k.weight = make([]float32, c.in*k.stride)
	k.bias = make([]float32, k.stride)
	copy(k.bias, c.bias)
	for o := range c.out {
		for i, w := range c.weight[o*c.in : (o+1)*c.in] {
			k.weight[k.column(o, c.in)+i*k.width] = w
		}
	}
	return k
}

// column is where output o's weight for the first of in inputs is; its
// weight for input i is width*i floats further.
func (k *classifierSIMD) column(o, in int) int {
	return (o-o%k.width)*in + o%k.width
}

func (k *classifierSIMD) run(c *classifier, dst, src []float32) {
	src = src[:c.in]
	for o := 0; o < k.stride; o += classifierTile {
		switch k.isa {
		case isaAVX512:
			k.tileAVX512(dst, src, o, c.out)
		case isaAVX2:
			k.tileAVX2(dst, src, o, c.out)
			k.tileAVX2(dst, src, o+classifierTile/2, c.out)
		}
	}
}

// tileAVX512 computes logits o..o+63 (those below out).
func (k *classifierSIMD) tileAVX512(dst, src []float32, o, out int) {
	const n = vectorLanes
	b := k.bias[o : o+4*n]
	a0 := archsimd.LoadFloat32x16((*[n]float32)(b[0:n]))
	a1 := archsimd.LoadFloat32x16((*[n]float32)(b[n : 2*n]))
	a2 := archsimd.LoadFloat32x16((*[n]float32)(b[2*n : 3*n]))
	a3 := archsimd.LoadFloat32x16((*[n]float32)(b[3*n : 4*n]))
	at := k.column(o, len(src))
	for _, x := range src {
		w := k.weight[at : at+4*n]
		f := archsimd.BroadcastFloat32x16(x)
		a0 = f.MulAdd(archsimd.LoadFloat32x16((*[n]float32)(w[0:n])), a0)
		a1 = f.MulAdd(archsimd.LoadFloat32x16((*[n]float32)(w[n:2*n])), a1)
		a2 = f.MulAdd(archsimd.LoadFloat32x16((*[n]float32)(w[2*n:3*n])), a2)
		a3 = f.MulAdd(archsimd.LoadFloat32x16((*[n]float32)(w[3*n:4*n])), a3)
		at += k.width
	}
	d := dst[o : o+4*n]
	v := o / n
	a0.StoreMasked((*[n]float32)(d[0:n]), archsimd.Mask32x16FromBits(tailMask(out, v)))
	a1.StoreMasked((*[n]float32)(d[n:2*n]), archsimd.Mask32x16FromBits(tailMask(out, v+1)))
	a2.StoreMasked((*[n]float32)(d[2*n:3*n]), archsimd.Mask32x16FromBits(tailMask(out, v+2)))
	a3.StoreMasked((*[n]float32)(d[3*n:4*n]), archsimd.Mask32x16FromBits(tailMask(out, v+3)))
}

// tileAVX2 computes logits o..o+31 (those below out).
func (k *classifierSIMD) tileAVX2(dst, src []float32, o, out int) {
	const n = 8
	b := k.bias[o : o+4*n]
	a0 := archsimd.LoadFloat32x8((*[n]float32)(b[0:n]))
	a1 := archsimd.LoadFloat32x8((*[n]float32)(b[n : 2*n]))
	a2 := archsimd.LoadFloat32x8((*[n]float32)(b[2*n : 3*n]))
	a3 := archsimd.LoadFloat32x8((*[n]float32)(b[3*n : 4*n]))
	at := k.column(o, len(src))
	for _, x := range src {
		w := k.weight[at : at+4*n]
		f := archsimd.BroadcastFloat32x8(x)
		a0 = f.MulAdd(archsimd.LoadFloat32x8((*[n]float32)(w[0:n])), a0)
		a1 = f.MulAdd(archsimd.LoadFloat32x8((*[n]float32)(w[n:2*n])), a1)
		a2 = f.MulAdd(archsimd.LoadFloat32x8((*[n]float32)(w[2*n:3*n])), a2)
		a3 = f.MulAdd(archsimd.LoadFloat32x8((*[n]float32)(w[3*n:4*n])), a3)
		at += k.width
	}
	d := dst[o : o+4*n]
	lo, hi := tailMask(out, o/vectorLanes), tailMask(out, o/vectorLanes+1)
	m0, m1 := ymmMasks(lo)
	m2, m3 := ymmMasks(hi)
	storeYMM(a0, d[0:n], m0, lo == 0xffff)
	storeYMM(a1, d[n:2*n], m1, lo == 0xffff)
	storeYMM(a2, d[2*n:3*n], m2, hi == 0xffff)
	storeYMM(a3, d[3*n:4*n], m3, hi == 0xffff)
}
