package engine

// conv3x3 is a 3x3 conv with padding 1 and stride 1 or 2 over NCHW maps:
// the stem conv (dense), a depthwise conv (one input channel per group) or
// the seed's grouped conv. It accumulates one input channel's nine taps into
// a whole output row at a time, so the output row stays in L1.
type conv3x3 struct {
	in, out, groups int
	stride          int
	inSize, outSize int
	weight          []float32 // [out][in/groups][3][3]
	bias            []float32
	ep              epilogue      // linear or relu
	simd            conv3x3Kernel // nil: run the portable kernel
}

// convScratch is what the 3x3 convs use besides their input and output.
type convScratch struct {
	zeros  []float32  // a row of at least inSize zeros: the portable kernel's padding rows
	phases paddedMaps // a stride-2 input split into its four phases (SIMD kernels)
}

// run computes dst = epilogue(conv(src) + bias).
func (c *conv3x3) run(dst []float32, src paddedMaps, s *convScratch) {
	if c.simd != nil {
		c.simd.run(c, dst, src, s)
		return
	}
	c.runPortable(dst, src.maps, s.zeros)
}

// runPortable is the portable kernel. zeros is a row of at least inSize
// zeros that stands in for the padding rows above and below the map.
func (c *conv3x3) runPortable(dst, src, zeros []float32) {
	inPer, outPer := c.in/c.groups, c.out/c.groups
	is, os := c.inSize, c.outSize
	zeros = zeros[:is]
	for o := range c.out {
		plane := dst[o*os*os : (o+1)*os*os]
		fill(plane, c.bias[o])
		g := o / outPer
		for i := range inPer {
			in := src[(g*inPer+i)*is*is : (g*inPer+i+1)*is*is]
			w := (*[9]float32)(c.weight[(o*inPer+i)*9:])
			for y := range os {
				top := y*c.stride - 1 // input row under the kernel's first row
				rows := [3][]float32{zeros, zeros, zeros}
				for k := range 3 {
					if r := top + k; r >= 0 && r < is {
						rows[k] = in[r*is : (r+1)*is]
					}
				}
				accumulateRow3x3(plane[y*os:(y+1)*os], rows[0], rows[1], rows[2], w, c.stride)
			}
		}
		if c.ep == relu {
			reluInPlace(plane)
		}
	}
}

// accumulateRow3x3 adds one input channel's contribution to one output row:
// dst[x] += sum over ky, kx of w[3*ky+kx] * r_ky[stride*x-1+kx], where the
// column left of the map (and, for stride 1, right of it) is padding.
// With stride 2 the map width is even, so the rightmost tap is always inside.
func accumulateRow3x3(dst, r0, r1, r2 []float32, w *[9]float32, stride int) {
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
	n := len(dst)
	dst[0] += w1*r0[0] + w2*r0[1] + w4*r1[0] + w5*r1[1] + w7*r2[0] + w8*r2[1]
	if stride == 2 {
		for x := 1; x < n; x++ {
			i := 2*x - 1
			a, b, c := r0[i:i+3], r1[i:i+3], r2[i:i+3]
			dst[x] += w0*a[0] + w1*a[1] + w2*a[2] + w3*b[0] + w4*b[1] + w5*b[2] + w6*c[0] + w7*c[1] + w8*c[2]
		}
		return
	}
	if n < 2 {
		return
	}
	// Interior: three shifted views of each row, all the length of d, so
	// the loop runs without bounds checks.
	d := dst[1 : n-1]
	l0, c0, q0 := r0[0:len(d)], r0[1:len(d)+1], r0[2:len(d)+2]
	l1, c1, q1 := r1[0:len(d)], r1[1:len(d)+1], r1[2:len(d)+2]
	l2, c2, q2 := r2[0:len(d)], r2[1:len(d)+1], r2[2:len(d)+2]
	for x := range d {
		d[x] += w0*l0[x] + w1*c0[x] + w2*q0[x] + w3*l1[x] + w4*c1[x] + w5*q1[x] + w6*l2[x] + w7*c2[x] + w8*q2[x]
	}
	x := n - 1
	dst[x] += w0*r0[x-1] + w1*r0[x] + w3*r1[x-1] + w4*r1[x] + w6*r2[x-1] + w7*r2[x]
}
