package engine

import "github.com/shufflenet-go/shufflenet/internal/simd128/abi"

// epilogue is what a pointwise conv does to each sum before storing it,
// fused into the conv so every output is written once. It is the SIMD128
// kernels' type (abi.Epilogue), so a layer passes its code to them as it
// is and the codes are defined once.
type epilogue = abi.Epilogue

const (
	linear  = abi.Linear  // y = Wx + b
	relu    = abi.ReLU    // y = max(Wx + b, 0)
	addReLU = abi.AddReLU // y = max(Wx + b + residual, 0): a stride-1 unit's end
)

// pointwise is a grouped 1x1 conv over NCHW maps of hw pixels.
type pointwise struct {
	in, out, groups, hw int
	weight              []float32 // [out][in/groups]
	bias                []float32 // [out]
	// planes[o] is the output plane channel o is written to; nil means o.
	// A unit's compress conv uses it to write its output already shuffled.
	planes []int
	ep     epilogue
	simd   pointwiseKernel // nil: run the portable kernel
}

// pointwiseTile is how many pixels of four output rows are accumulated
// at once: 4 rows x 256 floats stay in L1 while every input row streams by.
const pointwiseTile = 256

// run computes dst = epilogue(W*src + b). residual is read only by addReLU
// and has dst's layout.
func (p *pointwise) run(dst, src, residual []float32) {
	if p.simd != nil {
		p.simd.run(p, dst, src, residual)
		return
	}
	p.runPortable(dst, src, residual)
}

// runPortable is the portable kernel: it keeps four output rows of a tile
// of pixels in L1 while the input rows stream by.
func (p *pointwise) runPortable(dst, src, residual []float32) {
	inPer, outPer, hw := p.in/p.groups, p.out/p.groups, p.hw
	for g := range p.groups {
		groupSrc := src[g*inPer*hw : (g+1)*inPer*hw]
		first, end := g*outPer, (g+1)*outPer
		for p0 := 0; p0 < hw; p0 += pointwiseTile {
			n := min(pointwiseTile, hw-p0)
			o := first
			for ; o+4 <= end; o += 4 {
				p.rows4(dst, groupSrc, residual, o, p0, n)
			}
			for ; o < end; o++ {
				p.rows1(dst, groupSrc, residual, o, p0, n)
			}
		}
	}
}

func (p *pointwise) plane(o int) int {
	if p.planes == nil {
		return o
	}
	return p.planes[o]
}

// rows4 accumulates output channels o..o+3 over pixels p0..p0+n. Each
// pass over the four accumulator rows adds two input channels, eight
// multiply-adds per pixel for one load and one store of each row rather
// than four: the loads and stores bound this loop, and pairing the inputs
// took it from 2.7 to 5 GMAC/s on one core (scalar registers are too few,
// and Go keeps too few of them, to hold a tile of sums across all inputs).
func (p *pointwise) rows4(dst, src, residual []float32, o, p0, n int) {
	hw, inPer := p.hw, p.in/p.groups
	a0 := dst[p.plane(o)*hw+p0:][:n]
	a1 := dst[p.plane(o+1)*hw+p0:][:n]
	a2 := dst[p.plane(o+2)*hw+p0:][:n]
	a3 := dst[p.plane(o+3)*hw+p0:][:n]
	fill(a0, p.bias[o])
	fill(a1, p.bias[o+1])
	fill(a2, p.bias[o+2])
	fill(a3, p.bias[o+3])
	w := p.weight[o*inPer : (o+4)*inPer]
	i := 0
	for ; i+2 <= inPer; i += 2 {
		x, y := src[i*hw+p0:][:n], src[(i+1)*hw+p0:][:n]
		x0, x1, x2, x3 := w[i], w[inPer+i], w[2*inPer+i], w[3*inPer+i]
		y0, y1, y2, y3 := w[i+1], w[inPer+i+1], w[2*inPer+i+1], w[3*inPer+i+1]
		y = y[:len(x)]
		a0, a1, a2, a3 := a0[:len(x)], a1[:len(x)], a2[:len(x)], a3[:len(x)]
		for k, u := range x {
			v := y[k]
			a0[k] += x0*u + y0*v
			a1[k] += x1*u + y1*v
			a2[k] += x2*u + y2*v
			a3[k] += x3*u + y3*v
		}
	}
	if i < inPer { // an odd input channel left
		x := src[i*hw+p0:][:n]
		w0, w1, w2, w3 := w[i], w[inPer+i], w[2*inPer+i], w[3*inPer+i]
		a0, a1, a2, a3 := a0[:len(x)], a1[:len(x)], a2[:len(x)], a3[:len(x)]
		for k, u := range x {
			a0[k] += w0 * u
			a1[k] += w1 * u
			a2[k] += w2 * u
			a3[k] += w3 * u
		}
	}
	for j, a := range [4][]float32{a0, a1, a2, a3} {
		p.finish(a, residual, o+j, p0)
	}
}

// rows1 is rows4 for a single output channel (group widths not divisible
// by 4), with the same pairing of input channels.
func (p *pointwise) rows1(dst, src, residual []float32, o, p0, n int) {
	hw, inPer := p.hw, p.in/p.groups
	a := dst[p.plane(o)*hw+p0:][:n]
	fill(a, p.bias[o])
	w := p.weight[o*inPer : (o+1)*inPer]
	i := 0
	for ; i+2 <= inPer; i += 2 {
		x, y := src[i*hw+p0:][:n], src[(i+1)*hw+p0:][:n]
		wx, wy := w[i], w[i+1]
		y = y[:len(x)]
		a := a[:len(x)]
		for k, u := range x {
			a[k] += wx*u + wy*y[k]
		}
	}
	if i < inPer {
		x := src[i*hw+p0:][:n]
		wx := w[i]
		a := a[:len(x)]
		for k, u := range x {
			a[k] += wx * u
		}
	}
	p.finish(a, residual, o, p0)
}

// finish applies the epilogue to one accumulated row of output channel o.
func (p *pointwise) finish(a, residual []float32, o, p0 int) {
	switch p.ep {
	case relu:
		reluInPlace(a)
	case addReLU:
		r := residual[p.plane(o)*p.hw+p0:][:len(a)]
		for k, v := range r {
			a[k] = max(a[k]+v, 0)
		}
	}
}

func fill(a []float32, v float32) {
	for k := range a {
		a[k] = v
	}
}

func reluInPlace(a []float32) {
	for k, v := range a {
		a[k] = max(v, 0)
	}
}
