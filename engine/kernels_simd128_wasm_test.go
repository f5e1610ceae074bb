//go:build js && wasm && !nosimd128

package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
)

// The SIMD128 kernels must compute exactly what the portable kernels
// compute, on every shape the networks have and on awkward ones; in the
// fused build (SHUFFLENET_SIMD128 unset: the fused build is the one
// Chromium and Firefox run), the convs, and so whole networks, within
// fusedTolerance of it instead. SHUFFLENET_SIMD128=plain runs the plain
// build, which must match exactly. These
// tests run under Node.js with the kernels linked in:
//
//	PATH=$PWD/internal/wasmexec:$PATH GOOS=js GOARCH=wasm go test ./engine
//
// (make test does). With SHUFFLENET_SIMD128=off they skip, and the rest of
// the package's tests run the portable kernels alone.

func needSIMD128(t testing.TB) {
	if os.Getenv("SHUFFLENET_SIMD128") == "off" {
		t.Skip("SHUFFLENET_SIMD128=off: the portable kernels run")
	}
	if !simd128Ready() {
		t.Fatal("the SIMD128 kernels did not start (see the host's warning above)")
	}
}

// sameMaps fails unless got's maps equal want value for value, and the
// room around them (NaN, see nanRoom) is untouched.
func sameMaps(t *testing.T, got paddedMaps, want []float32) {
	t.Helper()
	for i, w := range want {
		if g := got.maps[i]; g != w {
			t.Fatalf("value %d: got %g, want %g (differ by %g)", i, g, w, g-w)
		}
	}
	untouchedRoom(t, got)
}

// matchMaps is sameMaps for the plain build of the kernels; for the fused
// one (the convs' multiply-adds are FMAs) got's maps must be closeTo want.
func matchMaps(t *testing.T, got paddedMaps, want []float32) {
	t.Helper()
	if simd128Build() == abi.Fused {
		closeTo(t, got.maps, want)
		untouchedRoom(t, got)
		return
	}
	sameMaps(t, got, want)
}

// untouchedRoom fails unless the room around got's maps is still NaN.
func untouchedRoom(t *testing.T, got paddedMaps) {
	t.Helper()
	for i, v := range got.mem {
		if (i < got.pad || i >= got.pad+len(got.maps)) && !math.IsNaN(float64(v)) {
			t.Fatalf("room at %d written: %g", i-got.pad, v)
		}
	}
}

// fusedTolerance bounds how far the fused build's convs, and whole
// networks on them, may be from the portable kernels, relative to
// the largest value: only the products' rounding differs.
const fusedTolerance = 1e-5

// closeTo fails unless got is within fusedTolerance x max(1, max |want|)
// of want, value for value.
func closeTo(t *testing.T, got, want []float32) {
	t.Helper()
	largest := 1.0
	for _, w := range want {
		largest = max(largest, math.Abs(float64(w)))
	}
	for i, w := range want {
		if d := math.Abs(float64(got[i] - w)); !(d <= fusedTolerance*largest) {
			t.Fatalf("value %d: got %g, want %g (differ by %g; bound %g)", i, got[i], w, d, fusedTolerance*largest)
		}
	}
}

func TestPointwiseSIMD128MatchesPortable(t *testing.T) {
	needSIMD128(t)
	for _, c := range pointwiseCases {
		t.Run(c.String(), func(t *testing.T) {
			const room = 64
			f := c.fixture(room)
			k := newPointwiseSIMD128(&f.layer)
			if k == nil {
				t.Skip("no SIMD128 kernel for this shape: the portable one runs")
			}
			got := nanRoom(f.rng, c.out*c.hw, room)
			k.run(&f.layer, got.maps, f.src.maps, f.residual.maps)
			matchMaps(t, got, f.want)
		})
	}
}

// TestPointwiseSIMD128ReLUEdges feeds the ReLU the sums where a cheap
// one would differ from max(x, 0): -0 must come out +0, NaN as NaN.
// Both builds must match the portable kernel bit for bit here, since the
// sums are exact.
func TestPointwiseSIMD128ReLUEdges(t *testing.T) {
	needSIMD128(t)
	negZero, inf := float32(math.Copysign(0, -1)), float32(math.Inf(1))
	firstInput := []float32{negZero, float32(math.NaN()), -1, 2, 0, inf, -inf, 3}
	for _, ep := range []epilogue{relu, addReLU} {
		t.Run(fmt.Sprintf("ep%d", ep), func(t *testing.T) {
			const in, out, hw = 2, 4, 16
			p := pointwise{in: in, out: out, groups: 1, hw: hw, ep: ep,
				weight: slices.Repeat([]float32{1}, out*in), bias: slices.Repeat([]float32{negZero}, out)}
			src := slices.Repeat([]float32{negZero}, in*hw) // the second input is all -0
			for i := range hw {
				src[i] = firstInput[i%len(firstInput)]
			}
			residual := slices.Repeat([]float32{negZero}, out*hw)
			want := make([]float32, out*hw)
			p.runPortable(want, src, residual)
			if want[0] != 0 || math.Signbit(float64(want[0])) { // pixel 0's sum is -0 + -0 + -0
				t.Fatalf("the portable kernel gave %g at pixel 0, not +0: the case no longer tests a -0 sum", want[0])
			}
			k := newPointwiseSIMD128(&p)
			if k == nil {
				t.Fatal("no SIMD128 kernel for this shape")
			}
			got := make([]float32, out*hw)
			k.run(&p, got, src, residual)
			for i, w := range want {
				g := got[i]
				if math.Float32bits(g) != math.Float32bits(w) && !(math.IsNaN(float64(g)) && math.IsNaN(float64(w))) {
					t.Errorf("value %d (input %g): got %g (bits %#x), want %g (bits %#x)", i, src[i%hw], g, math.Float32bits(g), w, math.Float32bits(w))
				}
			}
		})
	}
}

func TestConv3x3SIMD128MatchesPortable(t *testing.T) {
	needSIMD128(t)
	for _, c := range conv3x3Cases {
		outSize := c.outSize()
		t.Run(c.String(), func(t *testing.T) {
			const room = 64
			f := c.fixture(room)
			conv := f.layer
			conv.simd = newConv3x3SIMD128(&conv)
			if conv.simd == nil {
				t.Skip("no SIMD128 kernel for this shape: the portable one runs")
			}
			scratch := convScratch{phases: nanRoom(f.rng, conv.simd.(phaseUser).phaseLen(&conv), room)}
			got := nanRoom(f.rng, c.out*outSize*outSize, room)
			conv.run(got.maps, f.src, &scratch)
			matchMaps(t, got, f.want)
		})
	}
}

func TestPoolSIMD128MatchesPortable(t *testing.T) {
	needSIMD128(t)
	for _, c := range poolCases {
		t.Run(c.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.channels), uint64(c.inSize)))
			os := c.inSize / 2
			src := nanRoom(rng, c.channels*c.inSize*c.inSize, 64)
			for i := range src.maps { // the max pool's inputs repeat, and include zeros of both signs
				switch i % 7 {
				case 3:
					src.maps[i] = src.maps[i-1]
				case 5:
					src.maps[i] = float32(math.Copysign(0, float64(src.maps[i])))
				}
			}
			p := pool3x3s2{channels: c.channels, inSize: c.inSize, average: c.average}
			want := make([]float32, c.channels*os*os)
			p.run(want, src.maps)
			if p.simd = newPoolSIMD128(&p); p.simd == nil {
				t.Skip("no SIMD128 kernel for this shape: the portable one runs")
			}
			got := nanRoom(rng, c.channels*os*os, 64)
			p.run(got.maps, src.maps)
			sameMaps(t, got, want)
		})
	}
}

func TestGlobalPoolSIMD128MatchesPortable(t *testing.T) {
	needSIMD128(t)
	for _, c := range []struct{ channels, hw int }{
		{960, 49}, {480, 49}, {1024, 49}, // the models' last maps, 7x7
		{8, 16}, // whole vectors only
		{4, 3},  // no whole vector
		{7, 9},  // 3 maps left to the portable pool
		{12, 1}, {5, 17},
	} {
		t.Run(fmt.Sprintf("%dx%d", c.channels, c.hw), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.channels), uint64(c.hw)))
			src := nanRoom(rng, c.channels*c.hw, 64)
			p := globalPool{channels: c.channels, hw: c.hw}
			want := make([]float32, c.channels)
			p.run(want, src.maps)
			if p.simd = newGlobalPoolSIMD128(&p); p.simd == nil {
				t.Fatal("no SIMD128 kernel")
			}
			got := nanRoom(rng, c.channels, 64)
			p.run(got.maps, src.maps)
			sameMaps(t, got, want)
		})
	}
}

func TestClassifierSIMD128MatchesPortable(t *testing.T) {
	needSIMD128(t)
	for _, c := range classifierCases {
		t.Run(c.String(), func(t *testing.T) {
			f := c.fixture()
			cl := f.layer
			cl.simd = newClassifierSIMD128(&cl)
			got := nanRoom(f.rng, c.out, 64)
			cl.run(got.maps, f.src)
			sameMaps(t, got, f.want)
		})
	}
}

// portable makes every layer of n run its portable kernel.
func portable(n *Network) {
	n.stem.simd = nil
	n.stemPool.simd = nil
	for _, stage := range n.stages {
		for i := range stage {
			u := &stage[i]
			u.compress.simd, u.spatial.simd, u.expand.simd, u.shortcut.simd = nil, nil, nil, nil
		}
	}
	n.classifier.simd = nil
}

// Whole networks give the same logits with the SIMD128 kernels as with the
// portable ones: the bench models at full size, and every family and
// layout at 64x64, where the smallest maps (2x2) keep the portable kernels.
func TestForwardSIMD128MatchesPortable(t *testing.T) {
	needSIMD128(t)
	var archs []Architecture
	for _, m := range benchModels {
		a, err := m.arch()
		if err != nil {
			t.Fatal(err)
		}
		archs = append(archs, a)
	}
	for _, a := range testArchitectures(t) {
		a.Input.Crop = 64
		archs = append(archs, a)
	}
	for _, a := range archs {
		t.Run(fmt.Sprintf("%s_%d", a.Name(), a.Input.Crop), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, uint64(a.Groups)))
			p, err := Fold(a, randomTrained(a, rng))
			if err != nil {
				t.Fatal(err)
			}
			fast, err := New(a, p)
			if err != nil {
				t.Fatal(err)
			}
			slow, _ := New(a, p)
			portable(slow)
			input := randomInput(rng, 3*a.Input.Crop*a.Input.Crop)
			want, _ := slow.Forward(input)
			got, err := fast.Forward(input)
			if err != nil {
				t.Fatal(err)
			}
			if simd128Build() == abi.Fused {
				closeTo(t, got, want)
				return
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("logit %d: %g with SIMD128, %g portable", i, got[i], want[i])
				}
			}
		})
	}
}

// BenchmarkConv3x3SIMD128 times the 3x3 kernel on each of ShuffleNet's
// shapes alone, in GMAC/s.
func BenchmarkConv3x3SIMD128(b *testing.B) {
	needSIMD128(b)
	for _, c := range []struct{ in, groups, stride, inSize int }{
		{60, 3, 1, 28}, {120, 3, 1, 14}, {240, 3, 1, 7}, // the seed's grouped convs
		{60, 3, 2, 56}, {120, 3, 2, 28}, {240, 3, 2, 14},
		{60, 60, 1, 28}, {120, 120, 1, 14}, {240, 240, 1, 7}, // Megvii's depthwise convs
		{3, 1, 2, 224}, // the stem (24 outputs)
	} {
		out := c.in
		if c.in == 3 {
			out = 24
		}
		b.Run(fmt.Sprintf("%dto%d_g%d_s%d_%d", c.in, out, c.groups, c.stride, c.inSize), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			outSize := c.inSize / c.stride
			conv := conv3x3{in: c.in, out: out, groups: c.groups, stride: c.stride, inSize: c.inSize, outSize: outSize,
				weight: randomSlice(rng, out*c.in/c.groups*9, -1, 1), bias: randomSlice(rng, out, -1, 1)}
			conv.simd = newConv3x3SIMD128(&conv)
			src := nanRoom(rng, c.in*c.inSize*c.inSize, 64)
			scratch := convScratch{phases: newPaddedMaps(conv.simd.(phaseUser).phaseLen(&conv), 64)}
			dst := make([]float32, out*outSize*outSize)
			for b.Loop() {
				conv.run(dst, src, &scratch)
			}
			macs := float64(out*c.in/c.groups*9*outSize*outSize) * float64(b.N)
			b.ReportMetric(macs/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}
