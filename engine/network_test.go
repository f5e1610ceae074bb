package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// testArchitectures covers every family and layout switch: both shuffle
// permutations and positions, both concat orders, grouped and depthwise
// 3x3 convs, group counts whose widths are not multiples of 4.
func testArchitectures(t testing.TB) []Architecture {
	var list []Architecture
	add := func(a Architecture, err error) {
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, a)
	}
	add(SeedArchitecture(3))
	add(SeedArchitecture(1))
	add(SeedArchitecture(8))
	add(MegviiArchitecture(3, 0.5))
	add(MegviiArchitecture(8, 0.5))
	add(PytorchcvArchitecture(3, 0.5))
	add(PytorchcvArchitecture(2, 1))
	add(MMPretrainArchitecture(4))
	return list
}

func randomInput(rng *rand.Rand, n int) []float32 {
	return randomSlice(rng, n, -2, 2)
}

// Forward, with batch norms and shuffles folded and its fused kernels,
// computes what the trained layers define.
func TestForwardMatchesNaiveReference(t *testing.T) {
	for _, a := range testArchitectures(t) {
		a.Input.Crop = 64 // small maps keep the naive reference fast
		t.Run(a.Name(), func(t *testing.T) { checkAgainstNaive(t, a, nil) })
	}
}

// checkAgainstNaive runs a network of a (random weights, a random input)
// and compares its logits with the naive reference's. setup, if not nil,
// changes the network first (to run other kernels, say).
func checkAgainstNaive(t *testing.T, a Architecture, setup func(*Network)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, uint64(a.Groups)))
	tr := randomTrained(a, rng)
	p, err := Fold(a, tr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(a, p)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(n)
	}
	input := randomInput(rng, 3*a.Input.Crop*a.Input.Crop)
	got, err := n.Forward(input)
	if err != nil {
		t.Fatal(err)
	}
	want := naiveForward(a, tr, input)
	var worst, scale float64
	for i := range want {
		worst = max(worst, math.Abs(float64(got[i]-want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	// float32 sums in another order (and fused multiply-adds) differ from
	// the reference's by at most 1.2e-6 of the largest logit here (SIMD
	// kernels; 4.4e-7 portable), on logits of up to 2.7e4: 1e-5 leaves a
	// margin of 8.
	t.Logf("max abs diff %.3g (logits up to %.3g): %.2g of the largest", worst, scale, worst/max(1, scale))
	if worst > 1e-5*max(1, scale) {
		t.Errorf("max abs diff %.3g (logits up to %.3g), over 1e-5 of the largest", worst, scale)
	}
}

// Forward allocates nothing, whichever kernels (grouped or depthwise 3x3,
// portable or SIMD) run its layers.
func TestForwardAllocatesNothing(t *testing.T) {
	for _, m := range benchModels {
		t.Run(m.name, func(t *testing.T) {
			n, input := m.network(t, 2)
			if allocs := testing.AllocsPerRun(3, func() {
				if _, err := n.Forward(input); err != nil {
					t.Fatal(err)
				}
			}); allocs != 0 {
				t.Errorf("Forward allocates %v times per run", allocs)
			}
		})
	}
}

func TestForwardRejectsWrongInput(t *testing.T) {
	a, _ := MegviiArchitecture(3, 0.5)
	p, _ := Fold(a, randomTrained(a, rand.New(rand.NewPCG(3, 3))))
	n, err := New(a, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Forward(make([]float32, 10)); err == nil {
		t.Error("short input accepted")
	}
}

// A clone computes the same logits with its own buffers.
func TestClone(t *testing.T) {
	a, _ := MegviiArchitecture(8, 0.5)
	rng := rand.New(rand.NewPCG(4, 4))
	p, _ := Fold(a, randomTrained(a, rng))
	n, _ := New(a, p)
	c := n.Clone()
	input := randomInput(rng, 3*224*224)
	want, _ := n.Forward(input)
	want = append([]float32(nil), want...)
	if _, err := n.Forward(randomInput(rng, 3*224*224)); err != nil {
		t.Fatal(err)
	}
	got, _ := c.Forward(input)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("clone logit %d = %g, original %g", i, got[i], want[i])
		}
	}
}

// Clones share their weights and kernels and may run at once (the server
// runs one a core): each computes exactly what it computes alone, so no
// kernel keeps scratch of its own.
func TestClonesRunAtOnce(t *testing.T) {
	for _, m := range benchModels {
		n, input := m.network(t, 9)
		inputs := [2][]float32{input, randomInput(rand.New(rand.NewPCG(10, 10)), len(input))}
		var want [2][]float32
		for i, in := range inputs {
			logits, err := n.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			want[i] = slices.Clone(logits)
		}
		clones := [2]*Network{n.Clone(), n.Clone()}
		var wg sync.WaitGroup
		for i, c := range clones {
			wg.Go(func() {
				for range 8 {
					got, err := c.Forward(inputs[i])
					if err != nil || !slices.Equal(got, want[i]) {
						t.Errorf("%s: clone %d, run at once with another, differs from the network alone (%v)", m.name, i, err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
}

func TestFoldRejectsBadLayers(t *testing.T) {
	a, _ := MegviiArchitecture(3, 0.5)
	for _, c := range []struct {
		name   string
		damage func(*Trained)
	}{
		{"short weight", func(t *Trained) { t.Units[3].Spatial.Weight = t.Units[3].Spatial.Weight[1:] }},
		{"NaN weight", func(t *Trained) { t.Stem.Weight[5] = float32(math.NaN()) }},
		{"negative variance", func(t *Trained) { t.Units[0].Compress.Norm.Var[0] = -1 }},
		{"missing norm", func(t *Trained) { t.Units[2].Expand.Norm = nil }},
		{"unexpected bias", func(t *Trained) { t.Classifier.Bias = make([]float32, 1000) }},
		{"missing unit", func(t *Trained) { t.Units = t.Units[:15] }},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := randomTrained(a, rand.New(rand.NewPCG(5, 5)))
			c.damage(&tr)
			_, err := Fold(a, tr)
			if err == nil {
				t.Fatal("accepted")
			}
			t.Log(err)
		})
	}
}

func TestClassActivationMap(t *testing.T) {
	a, _ := PytorchcvArchitecture(3, 0.5)
	rng := rand.New(rand.NewPCG(6, 6))
	p, _ := Fold(a, randomTrained(a, rng))
	n, _ := New(a, p)
	cam := make([]float32, 49)
	if err := n.ClassActivationMap(1, cam); err == nil {
		t.Error("map before any forward pass")
	}
	logits, _ := n.Forward(randomInput(rng, 3*224*224))
	class := TopK(logits, 1)[0]
	if err := n.ClassActivationMap(class, cam); err != nil {
		t.Fatal(err)
	}
	// The map's mean plus the bias is the class's logit: the classifier is
	// linear in the pooled features.
	var mean float64
	for _, v := range cam {
		mean += float64(v) / 49
	}
	if got, want := mean+float64(p.Classifier.Bias[class]), float64(logits[class]); math.Abs(got-want) > 1e-3*max(1, math.Abs(want)) {
		t.Errorf("mean of the map + bias = %g, logit %g", got, want)
	}
	for _, bad := range []int{-1, 1000} {
		if err := n.ClassActivationMap(bad, cam); err == nil {
			t.Errorf("class %d accepted", bad)
		}
	}
}

// benchModels are the models the issue compares against PyTorch.
var benchModels = []benchModel{
	{"seed_g3_1x", func() (Architecture, error) { return SeedArchitecture(3) }},
	{"megvii_g3_1.0x", func() (Architecture, error) { return MegviiArchitecture(3, 1) }},
	{"megvii_g3_0.5x", func() (Architecture, error) { return MegviiArchitecture(3, 0.5) }},
}

type benchModel struct {
	name string
	arch func() (Architecture, error)
}

// network builds the model with random trained-looking weights (see
// randomTrained), and a random input for it, from seed.
func (m benchModel) network(t testing.TB, seed uint64) (*Network, []float32) {
	t.Helper()
	a, err := m.arch()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	p, err := Fold(a, randomTrained(a, rng))
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(a, p)
	if err != nil {
		t.Fatal(err)
	}
	return n, randomInput(rng, 3*a.InputSize()*a.InputSize())
}

func BenchmarkForward(b *testing.B) {
	for _, m := range benchModels {
		b.Run(m.name, func(b *testing.B) {
			n, input := m.network(b, 7)
			benchmarkForward(b, n, input)
		})
	}
}

func benchmarkForward(b *testing.B, n *Network, input []float32) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := n.Forward(input); err != nil {
			b.Fatal(err)
		}
	}
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(perOp*1e3, "ms/op")
	b.ReportMetric(float64(n.Architecture().MACs())/perOp/1e9, "GMAC/s")
}

// Features are the global average of the last stage's maps, and the
// classifier's logits are its rows times them plus the bias.
func TestFeatures(t *testing.T) {
	a, _ := MegviiArchitecture(3, 0.5)
	rng := rand.New(rand.NewPCG(8, 8))
	p, _ := Fold(a, randomTrained(a, rng))
	n, _ := New(a, p)
	if _, err := n.Features(); err == nil {
		t.Error("features before any forward pass")
	}
	var last []float32
	logits, err := n.ForwardObserved(randomInput(rng, 3*224*224), func(act Activation) {
		if act.Step == StageOutput && act.Stage == 4 {
			last = append([]float32(nil), act.Maps...)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := n.Features()
	if err != nil {
		t.Fatal(err)
	}
	channels, hw := a.FeatureChannels(), a.FeatureSize()*a.FeatureSize()
	if len(f) != channels || len(last) != channels*hw {
		t.Fatalf("%d features from %d stage-4 values, want %d from %dx%d", len(f), len(last), channels, channels, hw)
	}
	for c := range channels {
		var sum float64
		for _, v := range last[c*hw : (c+1)*hw] {
			sum += float64(v)
		}
		if want := sum / float64(hw); math.Abs(float64(f[c])-want) > 1e-5*max(1, math.Abs(want)) {
			t.Errorf("feature %d is %g, the stage's mean %g", c, f[c], want)
		}
	}
	w, b := p.Classifier.Weight, p.Classifier.Bias
	for class := range a.Classes {
		want, scale := float64(b[class]), math.Abs(float64(b[class]))
		for c, v := range f {
			term := float64(w[class*channels+c]) * float64(v)
			want += term
			scale += math.Abs(term)
		}
		// float32 sums in the kernels' order (SIMD or not) come within 1.5e-7
		// of the terms' size here: 1e-6 leaves a margin of 7.
		if got := float64(logits[class]); math.Abs(got-want) > 1e-6*max(1, scale) {
			t.Fatalf("logit %d is %g, row·features + bias %g (terms summing to %g in size)", class, got, want, scale)
		}
	}
}
