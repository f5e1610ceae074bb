//go:build goexperiment.simd && amd64

package engine

import "simd/archsimd"

// convBlockAVX512 computes one block of output channels over a whole map:
//
//	dst[r][p] = epilogue(bias[r] + sum over taps t and inputs i of
//	            w[t][i][r] * src[origin + i*planeStride + p + offset_t])
//
// reading only the lanes the taps' masks allow. src, dst and residual must
// have room for a tile past their ends (see mapRoom).
func convBlockAVX512(out *blockOut, w []float32, bias *[blockRows]float32, src []float32, origin int, plan *tapPlan) {
	perTap := len(w) / len(plan.taps)
	stride := plan.planeStride
	for v := 0; v < plan.vectors; v += tileVectors {
		b0 := archsimd.BroadcastFloat32x16(bias[0])
		b1 := archsimd.BroadcastFloat32x16(bias[1])
		b2 := archsimd.BroadcastFloat32x16(bias[2])
		a00, a01, a10, a11, a20, a21 := b0, b0, b1, b1, b2, b2
		for t := range plan.taps {
			tp := &plan.taps[t]
			m0 := archsimd.Mask32x16FromBits(tp.masks[v])
			m1 := archsimd.Mask32x16FromBits(tp.masks[v+1])
			at := origin + tp.offset + v*vectorLanes
			wt := w[t*perTap : (t+1)*perTap]
			for k := 0; k+blockRows <= len(wt); k += blockRows {
				x0 := archsimd.LoadMaskedFloat32x16((*[vectorLanes]float32)(src[at:at+vectorLanes]), m0)
				x1 := archsimd.LoadMaskedFloat32x16((*[vectorLanes]float32)(src[at+vectorLanes:at+2*vectorLanes]), m1)
				at += stride
				wk := (*[blockRows]float32)(wt[k : k+blockRows])
				c := archsimd.BroadcastFloat32x16(wk[0])
				a00 = c.MulAdd(x0, a00)
				a01 = c.MulAdd(x1, a01)
				c = archsimd.BroadcastFloat32x16(wk[1])
				a10 = c.MulAdd(x0, a10)
				a11 = c.MulAdd(x1, a11)
				c = archsimd.BroadcastFloat32x16(wk[2])
				a20 = c.MulAdd(x0, a20)
				a21 = c.MulAdd(x1, a21)
			}
		}
		out.storeAVX512(0, v, plan.hw, a00, a01)
		out.storeAVX512(1, v, plan.hw, a10, a11)
		out.storeAVX512(2, v, plan.hw, a20, a21)
	}
}

// storeAVX512 finishes row r's tile at vector v (vectors v and v+1 of a map of
// hw pixels): adds the residual, applies the ReLU, writes what exists.
func (o *blockOut) storeAVX512(r, v, hw int, a0, a1 archsimd.Float32x16) {
	dst := o.dst[r]
	if dst == nil {
		return
	}
	m0 := archsimd.Mask32x16FromBits(tailMask(hw, v))
	m1 := archsimd.Mask32x16FromBits(tailMask(hw, v+1))
	at := v * vectorLanes
	if res := o.residual[r]; res != nil {
		a0 = a0.Add(archsimd.LoadMaskedFloat32x16((*[vectorLanes]float32)(res[at:at+vectorLanes]), m0))
		a1 = a1.Add(archsimd.LoadMaskedFloat32x16((*[vectorLanes]float32)(res[at+vectorLanes:at+2*vectorLanes]), m1))
	}
	if o.relu {
		var zero archsimd.Float32x16
		a0, a1 = a0.Max(zero), a1.Max(zero)
	}
	a0.StoreMasked((*[vectorLanes]float32)(dst[at:at+vectorLanes]), m0)
	a1.StoreMasked((*[vectorLanes]float32)(dst[at+vectorLanes:at+2*vectorLanes]), m1)
}

// depthwiseMapAVX512 computes one channel: dst[p] = epilogue(bias + sum over taps
// t of w[t] * src[at + p + offset_t]), four vectors at a time.
func depthwiseMapAVX512(dst []float32, w *[9]float32, bias float32, reLU bool, src []float32, at int, plan *tapPlan) {
	const n = vectorLanes
	var zero archsimd.Float32x16
	for v := 0; v < plan.vectors; v += depthwiseTileVectors {
		a0 := archsimd.BroadcastFloat32x16(bias)
		a1, a2, a3 := a0, a0, a0
		for t := range plan.taps {
			tp := &plan.taps[t]
			masks := tp.masks[v : v+4]
			i := at + tp.offset + v*n
			x := src[i : i+4*n]
			c := archsimd.BroadcastFloat32x16(w[t])
			a0 = archsimd.LoadMaskedFloat32x16((*[n]float32)(x[0:n]), archsimd.Mask32x16FromBits(masks[0])).MulAdd(c, a0)
			a1 = archsimd.LoadMaskedFloat32x16((*[n]float32)(x[n:2*n]), archsimd.Mask32x16FromBits(masks[1])).MulAdd(c, a1)
			a2 = archsimd.LoadMaskedFloat32x16((*[n]float32)(x[2*n:3*n]), archsimd.Mask32x16FromBits(masks[2])).MulAdd(c, a2)
			a3 = archsimd.LoadMaskedFloat32x16((*[n]float32)(x[3*n:4*n]), archsimd.Mask32x16FromBits(masks[3])).MulAdd(c, a3)
		}
		if reLU {
			a0, a1, a2, a3 = a0.Max(zero), a1.Max(zero), a2.Max(zero), a3.Max(zero)
		}
		out := dst[v*n : (v+4)*n]
		a0.StoreMasked((*[n]float32)(out[0:n]), archsimd.Mask32x16FromBits(tailMask(plan.hw, v)))
		a1.StoreMasked((*[n]float32)(out[n:2*n]), archsimd.Mask32x16FromBits(tailMask(plan.hw, v+1)))
		a2.StoreMasked((*[n]float32)(out[2*n:3*n]), archsimd.Mask32x16FromBits(tailMask(plan.hw, v+2)))
		a3.StoreMasked((*[n]float32)(out[3*n:4*n]), archsimd.Mask32x16FromBits(tailMask(plan.hw, v+3)))
	}
}

// splitPhasesAVX512 writes the four phases of each of channels inSize x inSize
// maps of src into dst: phase 2*(y odd) + (x odd) of channel c is the
// (inSize/2)^2 map dst[(phase*channels+c)*hw:], as conv3x3Plan reads it.
// It splits 32 columns of a row at a time into 16 even and 16 odd ones
// (see columnSplit), so src needs room for two vectors after its end
// unless inSize is a multiple of 32, as the network's input is; dst needs
// room for one.
func splitPhasesAVX512(dst, src []float32, channels, inSize int) {
	const n = vectorLanes
	os := inSize / 2
	hw := os * os
	even, odd, _ := columnSplit()
	for c := range channels {
		in := src[c*inSize*inSize:]
		for y := range inSize {
			row := in[y*inSize:]
			evenAt := (2*(y&1)*channels+c)*hw + (y/2)*os
			oddAt := evenAt + channels*hw
			for x := 0; x < os; x += n {
				col := 2 * x
				v0 := archsimd.LoadMaskedFloat32x16((*[n]float32)(row[col:col+n]), archsimd.Mask32x16FromBits(tailMask(inSize, col/n)))
				v1 := archsimd.LoadMaskedFloat32x16((*[n]float32)(row[col+n:col+2*n]), archsimd.Mask32x16FromBits(tailMask(inSize, col/n+1)))
				store := archsimd.Mask32x16FromBits(tailMask(os, x/n))
				v0.ConcatPermute(v1, even).StoreMasked((*[n]float32)(dst[evenAt+x:evenAt+x+n]), store)
				v0.ConcatPermute(v1, odd).StoreMasked((*[n]float32)(dst[oddAt+x:oddAt+x+n]), store)
			}
		}
	}
}
