package engine

import (
	"math"
	"math/rand/v2"
)

// This file is a deliberately naive ShuffleNet V1, written straight from
// the definitions on the trained (unfolded) layers: batch norms applied
// separately, channel shuffles done as data movement, concats built by
// copying. Tests compare Forward, with all its folding and fused kernels,
// against it on random weights for every family.

type tensor struct {
	c, h, w int
	v       []float32
}

func newTensor(c, h, w int) tensor { return tensor{c, h, w, make([]float32, c*h*w)} }

func (t tensor) at(c, y, x int) float32 {
	if y < 0 || y >= t.h || x < 0 || x >= t.w {
		return 0
	}
	return t.v[(c*t.h+y)*t.w+x]
}

func naiveConv(in tensor, l Layer, s ConvShape) tensor {
	k, pad := s.Kernel, s.Kernel/2
	out := newTensor(s.Out, s.OutSize, s.OutSize)
	inPer, outPer := s.In/s.Groups, s.Out/s.Groups
	for o := range s.Out {
		g := o / outPer
		for y := range out.h {
			for x := range out.w {
				var sum float64
				if l.Bias != nil {
					sum = float64(l.Bias[o])
				}
				for i := range inPer {
					for ky := range k {
						for kx := range k {
							w := l.Weight[((o*inPer+i)*k+ky)*k+kx]
							sum += float64(w) * float64(in.at(g*inPer+i, y*s.Stride-pad+ky, x*s.Stride-pad+kx))
						}
					}
				}
				out.v[(o*out.h+y)*out.w+x] = float32(sum)
			}
		}
	}
	if n := l.Norm; n != nil {
		for c := range out.c {
			scale := float64(n.Weight[c]) / math.Sqrt(float64(n.Var[c])+float64(n.Eps))
			for i := c * out.h * out.w; i < (c+1)*out.h*out.w; i++ {
				out.v[i] = float32((float64(out.v[i])-float64(n.Mean[c]))*scale + float64(n.Bias[c]))
			}
		}
	}
	return out
}

func naiveReLU(t tensor) tensor {
	for i, v := range t.v {
		t.v[i] = max(v, 0)
	}
	return t
}

func naiveShuffle(t tensor, kind Shuffle, groups int) tensor {
	out := newTensor(t.c, t.h, t.w)
	hw := t.h * t.w
	for j, from := range shufflePermutation(kind, t.c, groups) {
		copy(out.v[j*hw:(j+1)*hw], t.v[from*hw:(from+1)*hw])
	}
	return out
}

// naivePool3x3s2 pools with padding 1; max ignores padding, avg divides by 9.
func naivePool3x3s2(t tensor, isMax bool) tensor {
	out := newTensor(t.c, t.h/2, t.w/2)
	for c := range t.c {
		for y := range out.h {
			for x := range out.w {
				acc := float32(0)
				if isMax {
					acc = float32(math.Inf(-1))
				}
				for ky := -1; ky <= 1; ky++ {
					for kx := -1; kx <= 1; kx++ {
						iy, ix := 2*y+ky, 2*x+kx
						if iy < 0 || iy >= t.h || ix < 0 || ix >= t.w {
							continue
						}
						if isMax {
							acc = max(acc, t.at(c, iy, ix))
						} else {
							acc += t.at(c, iy, ix)
						}
					}
				}
				if !isMax {
					acc /= 9
				}
				out.v[(c*out.h+y)*out.w+x] = acc
			}
		}
	}
	return out
}

func naiveForward(a Architecture, tr Trained, input []float32) []float32 {
	x := tensor{3, a.Input.Crop, a.Input.Crop, input}
	x = naiveConv(x, tr.Stem, a.StemConv())
	if a.StemReLU {
		x = naiveReLU(x)
	}
	x = naivePool3x3s2(x, true)
	for i, u := range a.Units() {
		l := tr.Units[i]
		y := naiveReLU(naiveConv(x, l.Compress, u.Compress()))
		if a.Shuffle != ShuffleNone && a.ShufflePosition == AfterCompress {
			y = naiveShuffle(y, a.Shuffle, a.Groups)
		}
		y = naiveConv(y, l.Spatial, u.Spatial())
		if a.Shuffle != ShuffleNone && a.ShufflePosition == AfterSpatial {
			y = naiveShuffle(y, a.Shuffle, a.Groups)
		}
		y = naiveConv(y, l.Expand, u.Expand())
		if u.Stride == 1 {
			for k := range y.v {
				y.v[k] += x.v[k]
			}
			x = naiveReLU(y)
			continue
		}
		pool := naivePool3x3s2(x, false)
		first, second := pool, y
		if !a.PoolFirst {
			first, second = y, pool
		}
		cat := tensor{first.c + second.c, y.h, y.w, append(append([]float32{}, first.v...), second.v...)}
		x = naiveReLU(cat)
	}
	features := make([]float32, x.c)
	for c := range x.c {
		var s float64
		for _, v := range x.v[c*x.h*x.w : (c+1)*x.h*x.w] {
			s += float64(v)
		}
		features[c] = float32(s / float64(x.h*x.w))
	}
	fc := naiveConv(tensor{x.c, 1, 1, features}, tr.Classifier, a.Classifier())
	return fc.v
}

// randomTrained draws weights with unit-scale activations, and batch norms
// with non-trivial statistics, for every layer a has.
func randomTrained(a Architecture, rng *rand.Rand) Trained {
	layer := func(s ConvShape, bias, norm bool) Layer {
		fanIn := float64(s.In / s.Groups * s.Kernel * s.Kernel)
		l := Layer{Weight: make([]float32, s.WeightLen())}
		for i := range l.Weight {
			l.Weight[i] = float32(rng.NormFloat64() * math.Sqrt(2/fanIn))
		}
		if bias {
			l.Bias = randomSlice(rng, s.Out, -0.1, 0.1)
		}
		if norm {
			l.Norm = &BatchNorm{
				Weight: randomSlice(rng, s.Out, 0.5, 1.5), Bias: randomSlice(rng, s.Out, -0.2, 0.2),
				Mean: randomSlice(rng, s.Out, -0.3, 0.3), Var: randomSlice(rng, s.Out, 0.5, 2), Eps: 1e-5,
			}
		}
		return l
	}
	t := Trained{Stem: layer(a.StemConv(), a.ConvBias, a.StemBatchNorm)}
	for _, u := range a.Units() {
		t.Units = append(t.Units, TrainedUnit{
			Compress: layer(u.Compress(), a.ConvBias, true),
			Spatial:  layer(u.Spatial(), a.ConvBias, true),
			Expand:   layer(u.Expand(), a.ConvBias, true),
		})
	}
	t.Classifier = layer(a.Classifier(), a.ClassifierBias, false)
	return t
}

func randomSlice(rng *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return v
}
