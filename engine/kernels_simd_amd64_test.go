//go:build goexperiment.simd && amd64

package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The SIMD kernels must compute what the portable kernels compute, on
// every shape: channel counts that leave a partial block, maps whose size
// is not a multiple of the vector, odd widths, both strides, the compress
// conv's plane remapping. The room around every map is filled with NaN, so
// a lane that reads outside its map, or a store that writes outside it,
// shows up.

// eachKernelSet runs f once for every SIMD kernel set this CPU can run,
// whichever one New would choose, and says which ran: a set is left out
// only where the CPU lacks its instructions.
func eachKernelSet(t *testing.T, f func(t *testing.T, ks *simdKernels)) {
	ran := false
	for _, ks := range []*simdKernels{&avx512Kernels, &avx2Kernels} {
		if !ks.runsHere() {
			t.Logf("%s kernels not tested: this CPU lacks their instructions", ks.name)
			continue
		}
		t.Logf("%s kernels tested", ks.name)
		ran = true
		t.Run(ks.name, func(t *testing.T) { f(t, ks) })
	}
	if !ran {
		t.Skip("no SIMD kernels run on this CPU")
	}
}

// compareMaps fails if got and want differ by more than float32 rounding
// of sums of `terms` products in another order (and with fused
// multiply-adds), or if got's room was written.
func compareMaps(t *testing.T, got paddedMaps, want []float32, terms int) {
	t.Helper()
	tol := 1e-6 * float64(terms+1)
	for i, w := range want {
		g := got.maps[i]
		if !(math.Abs(float64(g-w)) <= tol*max(1, math.Abs(float64(w)))) {
			t.Fatalf("value %d: got %g, want %g", i, g, w)
		}
	}
	for i, v := range got.mem {
		if (i < got.pad || i >= got.pad+len(got.maps)) && !math.IsNaN(float64(v)) {
			t.Fatalf("room at %d written: %g", i-got.pad, v)
		}
	}
}

func TestPointwiseSIMDMatchesPortable(t *testing.T) {
	eachKernelSet(t, testPointwiseKernels)
}

func testPointwiseKernels(t *testing.T, ks *simdKernels) {
	for _, c := range pointwiseCases {
		t.Run(c.String(), func(t *testing.T) {
			const room = 64
			f := c.fixture(room)
			got := nanRoom(f.rng, c.out*c.hw, room)
			newPointwiseWith(ks, &f.layer).run(&f.layer, withRoom(got), withRoom(f.src), withRoom(f.residual))
			compareMaps(t, got, f.want, c.in/c.groups)
		})
	}
}

func TestConv3x3SIMDMatchesPortable(t *testing.T) {
	eachKernelSet(t, testConv3x3Kernels)
}

func testConv3x3Kernels(t *testing.T, ks *simdKernels) {
	for _, c := range conv3x3Cases {
		outSize := c.outSize()
		t.Run(c.String(), func(t *testing.T) {
			room := max(c.inSize, outSize) + 1 + 4*vectorLanes
			f := c.fixture(room)
			conv := f.layer
			conv.simd = ks.conv3x3(&conv)
			need := c.in * c.inSize * c.inSize
			if u, ok := conv.simd.(phaseUser); ok {
				need = u.phaseLen(&conv)
			}
			scratch := convScratch{phases: nanRoom(f.rng, need, room)}
			got := nanRoom(f.rng, c.out*outSize*outSize, room)
			conv.run(withRoom(got), f.src, &scratch)
			compareMaps(t, got, f.want, c.in/c.groups*9)
		})
	}
}

// The masks say, lane by lane, whether a tap's input pixel is in the map.
func TestConv3x3PlanMasks(t *testing.T) {
	for _, c := range []struct{ outSize, stride int }{{7, 1}, {5, 2}, {28, 1}, {1, 1}, {1, 2}} {
		plan := conv3x3Plan(c.outSize, c.stride, 1, tileVectors)
		hw := c.outSize * c.outSize
		for ti, tp := range plan.taps {
			dy, dx := ti/3-1, ti%3-1
			for v, mask := range tp.masks {
				for l := range vectorLanes {
					p := v*vectorLanes + l
					y, x := p/c.outSize*c.stride+dy, p%c.outSize*c.stride+dx
					inSize := c.outSize * c.stride
					want := p < hw && y >= 0 && y < inSize && x >= 0 && x < inSize
					if got := mask&(1<<l) != 0; got != want {
						t.Fatalf("size %d stride %d tap (%d,%d) pixel %d: mask %t, want %t", c.outSize, c.stride, dy, dx, p, got, want)
					}
				}
			}
		}
	}
}

func TestPoolSIMDMatchesPortable(t *testing.T) {
	eachKernelSet(t, testPoolKernels)
}

func testPoolKernels(t *testing.T, ks *simdKernels) {
	if ks.pool() == nil {
		t.Skip("the portable pools run")
	}
	for _, c := range poolCases {
		t.Run(c.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.channels), uint64(c.inSize)))
			os := c.inSize / 2
			room := c.inSize + 4*vectorLanes
			src := nanRoom(rng, c.channels*c.inSize*c.inSize, room)
			p := pool3x3s2{channels: c.channels, inSize: c.inSize, average: c.average, simd: ks.pool()}
			want := make([]float32, c.channels*os*os)
			if c.average {
				avgPool3x3s2ReLU(want, src.maps, c.channels, c.inSize)
			} else {
				maxPool3x3s2(want, src.maps, c.channels, c.inSize)
			}
			got := nanRoom(rng, c.channels*os*os, room)
			p.run(withRoom(got), withRoom(src))
			compareMaps(t, got, want, 9)
		})
	}
}

func TestClassifierSIMDMatchesPortable(t *testing.T) {
	eachKernelSet(t, testClassifierKernels)
}

func testClassifierKernels(t *testing.T, ks *simdKernels) {
	for _, c := range classifierCases {
		t.Run(c.String(), func(t *testing.T) {
			f := c.fixture()
			cl := f.layer
			cl.simd = ks.classifier(&cl)
			got := nanRoom(f.rng, c.out, classifierTile)
			cl.run(withRoom(got), f.src)
			compareMaps(t, got, f.want, c.in)
		})
	}
}

// withKernels makes every layer of n run ks's kernels (or the portable
// ones where ks has none), whatever New chose for this CPU.
func withKernels(n *Network, ks *simdKernels) {
	n.stem.simd = ks.conv3x3(&n.stem)
	n.stemPool.simd = ks.pool()
	for _, stage := range n.stages {
		for i := range stage {
			u := &stage[i]
			u.compress.simd = newPointwiseWith(ks, &u.compress)
			u.spatial.simd = ks.conv3x3(&u.spatial)
			u.expand.simd = newPointwiseWith(ks, &u.expand)
			u.shortcut.simd = ks.pool()
		}
	}
	n.classifier.simd = ks.classifier(&n.classifier)
	n.buf = newBuffers(n.arch, n.phaseLen())
}

// Every kernel set, not only the one New picks here, computes Forward.
func TestForwardKernelSetsMatchNaiveReference(t *testing.T) {
	eachKernelSet(t, func(t *testing.T, ks *simdKernels) {
		for _, a := range testArchitectures(t) {
			a.Input.Crop = 64
			t.Run(a.Name(), func(t *testing.T) {
				checkAgainstNaive(t, a, func(n *Network) { withKernels(n, ks) })
			})
		}
	})
}

// BenchmarkForwardKernels times Forward with each kernel set this CPU
// runs, so that narrower kernel sets can be measured on a wider machine.
func BenchmarkForwardKernels(b *testing.B) {
	for _, ks := range []*simdKernels{&avx512Kernels, &avx2Kernels} {
		if !ks.runsHere() {
			continue
		}
		for _, m := range benchModels {
			b.Run(ks.name+"/"+m.name, func(b *testing.B) {
				n, input := m.network(b, 7)
				withKernels(n, ks)
				benchmarkForward(b, n, input)
			})
		}
	}
}

// withRoom returns the maps of m with their room after them in capacity,
// as newMaps lays them out.
func withRoom(m paddedMaps) []float32 { return m.mem[m.pad:len(m.mem):len(m.mem)] }

// BenchmarkClassifierFromMemory times Megvii g3 1.0x's classifier (960
// inputs, 1000 logits) with its weights out of the caches, as a forward
// pass leaves them: the layers before it read more than the caches hold.
func BenchmarkClassifierFromMemory(b *testing.B) {
	if cpuKernels == nil {
		b.Skip("this CPU has neither AVX-512 nor AVX2 with FMA")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	c := newClassifier(960, 1000, randomSlice(rng, 960*1000, -1, 1), randomSlice(rng, 1000, -1, 1))
	c.simd = cpuKernels.classifier(&c)
	src := randomSlice(rng, c.in, -1, 1)
	dst := make([]float32, c.out, c.out+classifierTile)
	evict := make([]float32, 16<<20) // 64 MB, twice the L3 of the machines it was tuned on
	for b.Loop() {
		b.StopTimer()
		for i := range evict {
			evict[i]++
		}
		b.StartTimer()
		c.run(dst, src)
	}
}
