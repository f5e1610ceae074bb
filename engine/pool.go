package engine

// pool3x3s2 is a 3x3 pool with stride 2 and padding 1 over channels maps
// of inSize x inSize, inSize even: the max pool after the stem, or the
// average pool (and ReLU) of a stride-2 unit's shortcut.
type pool3x3s2 struct {
	channels, inSize int
	average          bool       // avgPool3x3s2ReLU, else maxPool3x3s2
	simd             poolKernel // nil: run the portable kernel
}

func newPool3x3s2(channels, inSize int, average bool) pool3x3s2 {
	p := pool3x3s2{channels: channels, inSize: inSize, average: average}
	p.simd = newPoolSIMD(&p)
	return p
}

func (p *pool3x3s2) run(dst, src []float32) {
	switch {
	case p.simd != nil:
		p.simd.run(p, dst, src)
	case p.average:
		avgPool3x3s2ReLU(dst, src, p.channels, p.inSize)
	default:
		maxPool3x3s2(dst, src, p.channels, p.inSize)
	}
}

// The pools below take maps of inSize x inSize with inSize even, so a 3x3
// window with stride 2 and padding 1 only ever overhangs on the top and left:
// output row/column 0 covers input rows/columns 0 and 1, and output x > 0
// covers 2x-1, 2x and 2x+1.

// maxPool3x3s2 is nn.MaxPool2d(3, stride=2, padding=1). Padding never wins
// a max, so only the taps inside the map count.
func maxPool3x3s2(dst, src []float32, channels, inSize int) {
	is, os := inSize, inSize/2
	for c := range channels {
		in := src[c*is*is : (c+1)*is*is]
		out := dst[c*os*os : (c+1)*os*os]
		for y := range os {
			row := out[y*os : (y+1)*os]
			first := max(2*y-1, 0)
			r := in[first*is : (first+1)*is]
			row[0] = max(r[0], r[1])
			for x := 1; x < os; x++ {
				row[x] = max(r[2*x-1], r[2*x], r[2*x+1])
			}
			for k := first + 1; k <= 2*y+1; k++ {
				r := in[k*is : (k+1)*is]
				row[0] = max(row[0], r[0], r[1])
				for x := 1; x < os; x++ {
					row[x] = max(row[x], r[2*x-1], r[2*x], r[2*x+1])
				}
			}
		}
	}
}

// avgPool3x3s2ReLU is nn.AvgPool2d(3, stride=2, padding=1), which divides by
// 9 even where the window covers padding (count_include_pad), followed by a
// ReLU. The ReLU matters only for the seed, whose first unit's input comes
// from a max pool of a conv without ReLU and so can be negative: the seed
// computes relu(cat(pool, main)). Everywhere else the pooled input is >= 0.
func avgPool3x3s2ReLU(dst, src []float32, channels, inSize int) {
	is, os := inSize, inSize/2
	for c := range channels {
		in := src[c*is*is : (c+1)*is*is]
		out := dst[c*os*os : (c+1)*os*os]
		for y := range os {
			row := out[y*os : (y+1)*os]
			fill(row, 0)
			for k := max(2*y-1, 0); k <= 2*y+1; k++ {
				r := in[k*is : (k+1)*is]
				row[0] += r[0] + r[1]
				for x := 1; x < os; x++ {
					row[x] += r[2*x-1] + r[2*x] + r[2*x+1]
				}
			}
			for x, v := range row {
				row[x] = max(v/9, 0)
			}
		}
	}
}

// globalPool is the global average pool before the classifier, over
// channels maps of hw pixels.
type globalPool struct {
	channels, hw int
	simd         globalPoolKernel // nil: run globalAveragePool
}

func newGlobalPool(channels, hw int) globalPool {
	p := globalPool{channels: channels, hw: hw}
	p.simd = newGlobalPoolSIMD(&p)
	return p
}

func (p *globalPool) run(dst, src []float32) {
	if p.simd != nil {
		p.simd.run(p, dst, src)
		return
	}
	globalAveragePool(dst, src, p.channels, p.hw)
}

// globalAveragePool writes the mean of each of channels maps of hw pixels.
func globalAveragePool(dst, src []float32, channels, hw int) {
	for c := range channels {
		var sum float32
		for _, v := range src[c*hw : (c+1)*hw] {
			sum += v
		}
		dst[c] = sum / float32(hw)
	}
}
