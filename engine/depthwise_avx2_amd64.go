//go:build goexperiment.simd && amd64

package engine

import "simd/archsimd"

// depthwiseAVX2 runs a depthwise 3x3 conv with AVX2, a whole layer per
// call, eight pixels to a register.
//
// It walks the taps of conv3x3Plan, but AVX2 has no mask registers, and
// turning the plan's 16-bit lane masks into vector masks in the loop costs
// more than the nine FMAs they guard. So the masks are laid out as vectors
// once, here, and the kernel loads its inputs whole and ands the masks in
// (which zeroes the lanes a masked load would, so the sums are the same).
// Most vectors need only two masks: away from the map's first and last
// rows a tap's mask depends only on its column, and the middle column's is
// all set. Those vectors, the middle run, load the outer columns' masks
// and apply them to six of the nine taps; the few others, the edges, load
// a mask for each tap.
type depthwiseAVX2 struct {
	ks          *simdKernels
	hw          int // output pixels per channel
	planeStride int // see tapPlan
	// firstOffset is the smallest tap offset and offsets[t] are the taps'
	// offsets from it: output pixel p of a channel reads, for tap t, the
	// source index plane + firstOffset + offsets[t] + p.
	firstOffset int
	offsets     [9]int
	// reach is how many floats a channel's taps read from plane +
	// firstOffset.
	reach int
	// The middle run is the vectors starting at midStart, midStart+8, ...
	// before midEnd. left[p] and right[p] are the masks of the left and
	// right columns' taps at pixel p: -1 (every bit set) where the tap's
	// input is inside the map, 0 where it is not.
	midStart, midEnd int
	left, right      []int32
	edges            []depthwiseEdge
}

// depthwiseEdge is a vector outside the middle run: where it starts, and
// each tap's lane masks there.
type depthwiseEdge struct {
	start int
	masks [9][ymmLanes]int32
}

// ymmLanes is the number of float32 lanes of an AVX2 register.
const ymmLanes = 8

func newDepthwiseAVX2(ks *simdKernels, c *conv3x3) *depthwiseAVX2 {
	const n = ymmLanes
	plan := conv3x3Plan(c.outSize, c.stride, c.in, 1)
	hw := plan.hw
	k := &depthwiseAVX2{ks: ks, hw: hw, planeStride: plan.planeStride}
	k.firstOffset = plan.taps[0].offset
	lastOffset := plan.taps[0].offset
	for _, tp := range plan.taps {
		k.firstOffset = min(k.firstOffset, tp.offset)
		lastOffset = max(lastOffset, tp.offset)
	}
	for t, tp := range plan.taps {
		k.offsets[t] = tp.offset - k.firstOffset
	}
	k.reach = lastOffset - k.firstOffset + max(hw, n)

	// mask is tap t's mask at pixel p, 0 past the map.
	mask := func(t, p int) int32 {
		if p < hw && plan.taps[t].masks[p/vectorLanes]&(1<<(p%vectorLanes)) != 0 {
			return -1
		}
		return 0
	}
	k.left, k.right = make([]int32, hw), make([]int32, hw)
	for p := range hw {
		k.left[p], k.right[p] = mask(3, p), mask(5, p)
	}
	// middle says whether the vector at s can be in the middle run: each
	// tap's mask there is its column's: left, all set, right.
	middle := func(s int) bool {
		for t := range 9 {
			for p := s; p < s+n; p++ {
				want := [3]int32{k.left[p], -1, k.right[p]}[t%3]
				if mask(t, p) != want {
					return false
				}
			}
		}
		return true
	}
	s := 0
	for s+n <= hw && !middle(s) {
		s += n
	}
	k.midStart = s
	for s+n <= hw && middle(s) {
		s += n
	}
	k.midEnd = s

	// The edges: every other vector, the last one ending where the map
	// does (over the one before it, so that no store runs past the map)
	// unless the map is smaller than a vector.
	last := max(hw-n, 0)
	for s := 0; s < last+n; s += n {
		s = min(s, last)
		if s%n == 0 && s >= k.midStart && s < k.midEnd {
			continue
		}
		e := depthwiseEdge{start: s}
		for t := range 9 {
			for l := range n {
				e.masks[t][l] = mask(t, s+l)
			}
		}
		k.edges = append(k.edges, e)
	}
	return k
}

// run computes the conv. A map of fewer than 8 pixels needs dst to have
// room for a vector past its end (see mapRoom).
func (k *depthwiseAVX2) run(c *conv3x3, dst []float32, src paddedMaps, s *convScratch) {
	mem, origin := k.ks.readable(c, src, s)
	depthwiseLayerAVX2(dst, c.weight, c.bias, c.ep == relu, mem, origin, k)
}

// depthwiseLayerAVX2 computes every channel: channel ch's output pixel p
// is epilogue(bias[ch] + sum over taps t of weight[9ch+t] * src[origin +
// ch*planeStride + offset_t + p]), the taps added in order, each with one
// rounding (an FMA).
//
// It runs no scalar float32 code, which the compiler writes in SSE
// instructions: on some x86 machines (the Zen 3 it was tuned on among
// them), switching from 256-bit AVX instructions to SSE ones, and back,
// while the upper halves of the vector registers are in use costs
// hundreds of cycles each way, and a runner that loaded each channel's
// bias between kernel calls paid that twice a channel. For the same
// reason it clears the upper halves before it returns.
func depthwiseLayerAVX2(dst, weight, bias []float32, reLU bool, src []float32, origin int, k *depthwiseAVX2) {
	hw := k.hw
	for ch := range bias {
		at := origin + ch*k.planeStride + k.firstOffset
		in := src[at : at+k.reach]
		out := dst[ch*hw : (ch+1)*hw]
		w := (*[9]float32)(weight[ch*9 : ch*9+9])
		depthwiseMiddleAVX2(out, w, &bias[ch], reLU, in, k)
		depthwiseEdgesAVX2(out, w, &bias[ch], reLU, in, k)
	}
	archsimd.ClearAVXUpperBits()
}

// loadMaskedYMM returns x with the lanes where mask is 0 zeroed.
func loadMaskedYMM(x *[ymmLanes]float32, mask archsimd.Int32x8) archsimd.Float32x8 {
	return archsimd.LoadFloat32x8(x).AsInt32x8().And(mask).AsFloat32x8()
}

// broadcastTapsAVX2 returns a channel's bias and its nine weights, each
// in every lane. They are results rather than a struct so that the
// kernels keep them in registers.
func broadcastTapsAVX2(w *[9]float32, bias *float32) (b, w0, w1, w2, w3, w4, w5, w6, w7, w8 archsimd.Float32x8) {
	return archsimd.BroadcastFloat32x8(*bias),
		archsimd.BroadcastFloat32x8(w[0]), archsimd.BroadcastFloat32x8(w[1]), archsimd.BroadcastFloat32x8(w[2]),
		archsimd.BroadcastFloat32x8(w[3]), archsimd.BroadcastFloat32x8(w[4]), archsimd.BroadcastFloat32x8(w[5]),
		archsimd.BroadcastFloat32x8(w[6]), archsimd.BroadcastFloat32x8(w[7]), archsimd.BroadcastFloat32x8(w[8])
}

// depthwiseMiddleAVX2 computes one channel's middle run. Every slice is
// cut to the run's length, so that the compiler sees the loop's indexes in
// range and checks none.
func depthwiseMiddleAVX2(out []float32, w *[9]float32, bias *float32, reLU bool, in []float32, k *depthwiseAVX2) {
	const n = ymmLanes
	var zero archsimd.Float32x8
	b, w0, w1, w2, w3, w4, w5, w6, w7, w8 := broadcastTapsAVX2(w, bias)
	lo, m := k.midStart, k.midEnd-k.midStart
	o := &k.offsets
	x0, x1, x2 := in[o[0]+lo:][:m:m], in[o[1]+lo:][:m:m], in[o[2]+lo:][:m:m]
	x3, x4, x5 := in[o[3]+lo:][:m:m], in[o[4]+lo:][:m:m], in[o[5]+lo:][:m:m]
	x6, x7, x8 := in[o[6]+lo:][:m:m], in[o[7]+lo:][:m:m], in[o[8]+lo:][:m:m]
	left, right := k.left[lo:][:m:m], k.right[lo:][:m:m]
	out = out[lo:][:m:m]
	for i := 0; i+n <= m; i += n {
		l := archsimd.LoadInt32x8((*[n]int32)(left[i : i+n]))
		r := archsimd.LoadInt32x8((*[n]int32)(right[i : i+n]))
		a := loadMaskedYMM((*[n]float32)(x0[i:i+n]), l).MulAdd(w0, b)
		a = archsimd.LoadFloat32x8((*[n]float32)(x1[i:i+n])).MulAdd(w1, a)
		a = loadMaskedYMM((*[n]float32)(x2[i:i+n]), r).MulAdd(w2, a)
		a = loadMaskedYMM((*[n]float32)(x3[i:i+n]), l).MulAdd(w3, a)
		a = archsimd.LoadFloat32x8((*[n]float32)(x4[i:i+n])).MulAdd(w4, a)
		a = loadMaskedYMM((*[n]float32)(x5[i:i+n]), r).MulAdd(w5, a)
		a = loadMaskedYMM((*[n]float32)(x6[i:i+n]), l).MulAdd(w6, a)
		a = archsimd.LoadFloat32x8((*[n]float32)(x7[i:i+n])).MulAdd(w7, a)
		a = loadMaskedYMM((*[n]float32)(x8[i:i+n]), r).MulAdd(w8, a)
		if reLU {
			a = a.Max(zero)
		}
		a.Store((*[n]float32)(out[i : i+n]))
	}
}

// depthwiseEdgesAVX2 computes one channel's edge vectors. The tap slices
// all have the same length, so that the compiler checks an edge's start
// against it once for the nine loads. A map smaller than a vector is
// stored masked, into out's spare capacity.
func depthwiseEdgesAVX2(out []float32, w *[9]float32, bias *float32, reLU bool, in []float32, k *depthwiseAVX2) {
	const n = ymmLanes
	var zero archsimd.Float32x8
	b, w0, w1, w2, w3, w4, w5, w6, w7, w8 := broadcastTapsAVX2(w, bias)
	m := max(len(out), n)
	o := &k.offsets
	x0, x1, x2 := in[o[0]:][:m:m], in[o[1]:][:m:m], in[o[2]:][:m:m]
	x3, x4, x5 := in[o[3]:][:m:m], in[o[4]:][:m:m], in[o[5]:][:m:m]
	x6, x7, x8 := in[o[6]:][:m:m], in[o[7]:][:m:m], in[o[8]:][:m:m]
	for e := range k.edges {
		edge := &k.edges[e]
		i, masks := edge.start, &edge.masks
		a := loadMaskedYMM((*[n]float32)(x0[i:i+n]), archsimd.LoadInt32x8(&masks[0])).MulAdd(w0, b)
		a = loadMaskedYMM((*[n]float32)(x1[i:i+n]), archsimd.LoadInt32x8(&masks[1])).MulAdd(w1, a)
		a = loadMaskedYMM((*[n]float32)(x2[i:i+n]), archsimd.LoadInt32x8(&masks[2])).MulAdd(w2, a)
		a = loadMaskedYMM((*[n]float32)(x3[i:i+n]), archsimd.LoadInt32x8(&masks[3])).MulAdd(w3, a)
		a = loadMaskedYMM((*[n]float32)(x4[i:i+n]), archsimd.LoadInt32x8(&masks[4])).MulAdd(w4, a)
		a = loadMaskedYMM((*[n]float32)(x5[i:i+n]), archsimd.LoadInt32x8(&masks[5])).MulAdd(w5, a)
		a = loadMaskedYMM((*[n]float32)(x6[i:i+n]), archsimd.LoadInt32x8(&masks[6])).MulAdd(w6, a)
		a = loadMaskedYMM((*[n]float32)(x7[i:i+n]), archsimd.LoadInt32x8(&masks[7])).MulAdd(w7, a)
		a = loadMaskedYMM((*[n]float32)(x8[i:i+n]), archsimd.LoadInt32x8(&masks[8])).MulAdd(w8, a)
		if reLU {
			a = a.Max(zero)
		}
		if len(out) < n {
			// The middle tap's mask is the pixels that exist.
			a.StoreMasked((*[n]float32)(out[:n]), archsimd.LoadInt32x8(&masks[4]).ToMask())
			return
		}
		a.Store((*[n]float32)(out[i : i+n]))
	}
}
