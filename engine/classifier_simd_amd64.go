//go:build goexperiment.simd && amd64

package engine

import "simd/archsimd"

// classifierTile is how many logits classifierAVX512 accumulates at once:
// four vectors, four independent chains of FMAs.
const classifierTile = 4 * vectorLanes

// classifierAVX512 computes 64 logits at a time from the classifier's
// weights transposed in New, input by input: each input is broadcast and
// multiplied into four vectors of weights, so no vector is ever summed
// across its lanes. Rows are padded to a whole number of tiles with zeros.
type classifierAVX512 struct {
	stride int       // outputs rounded up to a whole tile
	weight []float32 // [in][stride]
	bias   []float32 // [stride]
}

func newClassifierAVX512(c *classifier) *classifierAVX512 {
	k := &classifierAVX512{stride: roundUp(c.out, classifierTile)}
	k.weight = make([]float32, c.in*k.stride)
	k.bias = make([]float32, k.stride)
	copy(k.bias, c.bias)
	for o := range c.out {
		for i, w := range c.weight[o*c.in : (o+1)*c.in] {
			k.weight[i*k.stride+o] = w
		}
	}
	return k
}

func (k *classifierAVX512) run(c *classifier, dst, src []float32) {
	const n = vectorLanes
	src = src[:c.in]
	for o := 0; o < k.stride; o += classifierTile {
		b := k.bias[o : o+classifierTile]
		a0 := archsimd.LoadFloat32x16((*[n]float32)(b[0:n]))
		a1 := archsimd.LoadFloat32x16((*[n]float32)(b[n : 2*n]))
		a2 := archsimd.LoadFloat32x16((*[n]float32)(b[2*n : 3*n]))
		a3 := archsimd.LoadFloat32x16((*[n]float32)(b[3*n : 4*n]))
		at := o
		for _, x := range src {
			w := k.weight[at : at+classifierTile]
			f := archsimd.BroadcastFloat32x16(x)
			a0 = f.MulAdd(archsimd.LoadFloat32x16((*[n]float32)(w[0:n])), a0)
			a1 = f.MulAdd(archsimd.LoadFloat32x16((*[n]float32)(w[n:2*n])), a1)
			a2 = f.MulAdd(archsimd.LoadFloat32x16((*[n]float32)(w[2*n:3*n])), a2)
			a3 = f.MulAdd(archsimd.LoadFloat32x16((*[n]float32)(w[3*n:4*n])), a3)
			at += k.stride
		}
		out := dst[o : o+classifierTile]
		v := o / n
		a0.StoreMasked((*[n]float32)(out[0:n]), archsimd.Mask32x16FromBits(tailMask(c.out, v)))
		a1.StoreMasked((*[n]float32)(out[n:2*n]), archsimd.Mask32x16FromBits(tailMask(c.out, v+1)))
		a2.StoreMasked((*[n]float32)(out[2*n:3*n]), archsimd.Mask32x16FromBits(tailMask(c.out, v+2)))
		a3.StoreMasked((*[n]float32)(out[3*n:4*n]), archsimd.Mask32x16FromBits(tailMask(c.out, v+3)))
	}
}
