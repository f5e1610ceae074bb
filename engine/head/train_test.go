package head_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shufflenet-go/shufflenet/engine/head"
)

// problem is a synthetic classification problem shaped like pooled
// features: each class a cluster in a latent space of a few dimensions,
// seen through a random linear map, offset and ReLU into many features.
type problem struct {
	classes, features, latent int
	separation, spread, noise float64 // class means' spread, within-class spread (latent), per-feature noise
	scale                     float32 // of the features
}

// generator returns a function making n examples of each class of p,
// class after class, from one seed: the classes stay the same from call
// to call, the examples differ.
func (p problem) generator(seed uint64) func(n int) []head.Sample {
	rng := rand.New(rand.NewPCG(seed, seed))
	lift := make([]float64, p.features*p.latent)
	for i := range lift {
		lift[i] = rng.NormFloat64() / math.Sqrt(float64(p.latent))
	}
	means := make([]float64, p.classes*p.latent)
	for i := range means {
		means[i] = p.separation * rng.NormFloat64()
	}
	z := make([]float64, p.latent)
	return func(n int) []head.Sample {
		samples := make([]head.Sample, 0, n*p.classes)
		for c := range p.classes {
			for range n {
				for i := range z {
					z[i] = means[c*p.latent+i] + p.spread*rng.NormFloat64()
				}
				f := make([]float32, p.features)
				for j := range f {
					v := 0.5 + p.noise*rng.NormFloat64()
					for i, zi := range z {
						v += lift[j*p.latent+i] * zi
					}
					f[j] = p.scale * float32(max(0, v))
				}
				samples = append(samples, head.Sample{Features: f, Class: c})
			}
		}
		return samples
	}
}

func classNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("class %d", i)
	}
	return names
}

// accuracy is the share of samples whose most probable class is theirs.
func accuracy(t testing.TB, h *head.Head, samples []head.Sample) float64 {
	t.Helper()
	right := 0
	for _, s := range samples {
		top, err := h.Top(s.Features, 1)
		if err != nil {
			t.Fatal(err)
		}
		if top[0].Index == s.Class {
			right++
		}
	}
	return float64(right) / float64(len(samples))
}

// The default training gets every example of a separable problem right,
// and what it learns holds for examples it has not seen.
func TestTrainLearns(t *testing.T) {
	for _, c := range []struct {
		name              string
		p                 problem
		train             int     // examples per class
		wantHeldOut       float64 // accuracy on 100 more of each
		features, classes int
	}{
		// Measured held out: 0.991, 0.998, 0.939, 0.893.
		{name: "10 classes, 50 each", p: problem{classes: 10, features: 480, latent: 32, separation: 1, spread: 1, noise: 0.2, scale: 1}, train: 50, wantHeldOut: 0.98},
		{name: "5 classes, 5 each, features x 1000", p: problem{classes: 5, features: 480, latent: 32, separation: 1, spread: 1, noise: 0.2, scale: 1000}, train: 5, wantHeldOut: 0.97},
		{name: "10 close classes", p: problem{classes: 10, features: 480, latent: 64, separation: 0.5, spread: 1, noise: 0.5, scale: 1}, train: 50, wantHeldOut: 0.9},
		{name: "3 classes, 1024 small features", p: problem{classes: 3, features: 1024, latent: 16, separation: 0.7, spread: 1, noise: 0.3, scale: 0.01}, train: 20, wantHeldOut: 0.85},
	} {
		t.Run(c.name, func(t *testing.T) {
			examples := c.p.generator(1)
			train, heldOut := examples(c.train), examples(100)
			h, err := head.Train(classNames(c.p.classes), train, head.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Check(); err != nil {
				t.Fatal(err)
			}
			got, gotHeldOut := accuracy(t, h, train), accuracy(t, h, heldOut)
			t.Logf("accuracy %.3f on the training examples, %.3f held out", got, gotHeldOut)
			if got != 1 {
				t.Errorf("accuracy %.3f on the training examples, want 1", got)
			}
			if gotHeldOut < c.wantHeldOut {
				t.Errorf("accuracy %.3f held out, want at least %.2f", gotHeldOut, c.wantHeldOut)
			}
		})
	}
}

// Standardising makes training blind to the features' scale: the same
// examples times 1000 give the same probabilities.
func TestTrainIgnoresScale(t *testing.T) {
	p := problem{classes: 4, features: 100, latent: 8, separation: 1, spread: 1, noise: 0.3, scale: 1}
	samples := p.generator(2)(10)
	scaled := make([]head.Sample, len(samples))
	for i, s := range samples {
		f := make([]float32, len(s.Features))
		for j, v := range s.Features {
			f[j] = 1000 * v
		}
		scaled[i] = head.Sample{Features: f, Class: s.Class}
	}
	a, err := head.Train(classNames(4), samples, head.Options{Epochs: 30})
	if err != nil {
		t.Fatal(err)
	}
	b, err := head.Train(classNames(4), scaled, head.Options{Epochs: 30})
	if err != nil {
		t.Fatal(err)
	}
	for i := range samples {
		pa, _ := a.Top(samples[i].Features, 4)
		pb, _ := b.Top(scaled[i].Features, 4)
		for k := range pa {
			if pa[k].Index != pb[k].Index || math.Abs(pa[k].Prob-pb[k].Prob) > 1e-4 {
				t.Fatalf("example %d: %+v, scaled %+v", i, pa, pb)
			}
		}
	}
}

// Training is deterministic, and Progress hears of every epoch, with the
// loss falling.
func TestTrainProgress(t *testing.T) {
	samples := problem{classes: 3, features: 64, latent: 8, separation: 1, spread: 1, noise: 0.3, scale: 1}.generator(3)(10)
	var losses []float64
	opts := head.Options{Epochs: 40, Progress: func(epoch, epochs int, loss float64) {
		if epoch != len(losses)+1 || epochs != 40 {
			t.Errorf("progress (%d, %d) after %d epochs", epoch, epochs, len(losses))
		}
		losses = append(losses, loss)
	}}
	a, err := head.Train(classNames(3), samples, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(losses) != 40 {
		t.Fatalf("progress called %d times, want 40", len(losses))
	}
	// Zero weights start every class at 1/3.
	if want := math.Log(3); math.Abs(losses[0]-want) > 1e-9 {
		t.Errorf("first loss %g, want ln 3 = %g", losses[0], want)
	}
	if last := losses[len(losses)-1]; !(last < 0.1*losses[0]) {
		t.Errorf("loss went from %g to %g", losses[0], last)
	}
	for i := 10; i < len(losses); i += 10 {
		if losses[i] >= losses[i-10] {
			t.Errorf("loss %g at epoch %d, %g ten epochs before", losses[i], i+1, losses[i-10])
		}
	}
	opts.Progress = nil
	b, err := head.Train(classNames(3), samples, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Weight, b.Weight) || !slices.Equal(a.Bias, b.Bias) {
		t.Error("two runs trained different heads")
	}
}

func TestTrainRejects(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	sample := func(class int, f ...float32) head.Sample { return head.Sample{Features: f, Class: class} }
	good := []head.Sample{sample(0, 1, 2), sample(1, 3, 4), sample(2, 5, 6)}
	three := []string{"cat", "dog", "teapot"}
	for _, c := range []struct {
		name    string
		classes []string
		samples []head.Sample
		opts    head.Options
		want    string
	}{
		{"one class", []string{"cat"}, good[:1], head.Options{}, "train: 1 classes, want 2 to 100"},
		{"too many classes", classNames(101), good, head.Options{}, "101 classes"},
		{"empty name", []string{"cat", ""}, good[:2], head.Options{}, "class 1: empty name"},
		{"duplicate names", []string{"cat", "dog", "cat"}, good, head.Options{}, `classes 0 and 2 are both named "cat"`},
		{"no samples", three, nil, head.Options{}, `class "cat" has no examples`},
		{"a class without examples", three, good[:2], head.Options{}, `class "teapot" has no examples`},
		{"two classes without", three, good[1:2], head.Options{}, "class \"cat\" has no examples\nclass \"teapot\" has no examples"},
		{"class out of range", three, append(slices.Clone(good), sample(3, 1, 1)), head.Options{}, "sample 3 is of class 3, want 0 to 2"},
		{"negative class", three, append(slices.Clone(good), sample(-1, 1, 1)), head.Options{}, "sample 3 is of class -1"},
		{"no features", three, []head.Sample{sample(0), sample(1), sample(2)}, head.Options{}, "sample 0 has 0 features, want 1 to 8192"},
		{"too many features", three, []head.Sample{{Features: make([]float32, head.MaxFeatures+1)}}, head.Options{}, "sample 0 has 8193 features"},
		{"wrong width", three, append(slices.Clone(good), sample(0, 1, 2, 3)), head.Options{}, "sample 3 has 3 features, sample 0 has 2"},
		{"NaN feature", three, append(slices.Clone(good), sample(0, 1, nan)), head.Options{}, "sample 3: feature 1 is NaN"},
		{"infinite feature", three, append(slices.Clone(good), sample(2, inf, 1)), head.Options{}, "sample 3: feature 0 is +Inf"},
		{"negative epochs", three, good, head.Options{Epochs: -1}, "-1 epochs"},
		{"negative learning rate", three, good, head.Options{LearningRate: -0.1}, "learning rate -0.1, want a positive number"},
		{"NaN learning rate", three, good, head.Options{LearningRate: math.NaN()}, "learning rate NaN"},
		{"infinite L2", three, good, head.Options{L2: math.Inf(1)}, "L2 +Inf, want a finite number"},
		{"diverging", three, good, head.Options{LearningRate: 1e38, L2: -1}, "try a smaller learning rate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := head.Train(c.classes, c.samples, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
			if h != nil {
				t.Error("a head with the error")
			}
		})
	}
}

// Train's memory does not grow with the samples: 10,000 of 480 features
// (19 MB, the caller's) take the same 180 KB or so as 500.
func TestTrainTenThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	p := problem{classes: 10, features: 480, latent: 32, separation: 1, spread: 1, noise: 0.2, scale: 1}
	samples := p.generator(4)(1000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	h, err := head.Train(classNames(10), samples, head.Options{Epochs: 5})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("5 epochs over %d samples: %v, %d bytes allocated", len(samples), elapsed, allocated)
	if allocated > 250_000 {
		t.Errorf("%d bytes allocated, want at most 250,000 (36 per class x feature, in the allocator's sizes, and a little)", allocated)
	}
	if got := accuracy(t, h, samples); got < 0.99 {
		t.Errorf("accuracy %.3f after 5 epochs", got)
	}
}

// BenchmarkTrain is the page's largest case with the defaults: 10 classes
// of 50 examples of Megvii g3 0.5x's 480 features; and 10,000 examples.
func BenchmarkTrain(b *testing.B) {
	for _, n := range []int{50, 1000} {
		p := problem{classes: 10, features: 480, latent: 32, separation: 1, spread: 1, noise: 0.2, scale: 1}
		samples := p.generator(5)(n)
		b.Run(fmt.Sprintf("10x%dx480", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := head.Train(classNames(10), samples, head.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
