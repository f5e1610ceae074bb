package head

import (
	"errors"
	"fmt"
	"math"
)

// Sample is one training example: a network's pooled features and the
// index of its class.
type Sample struct {
	Features []float32
	Class    int
}

// Options tune Train. The zero value trains with the defaults.
type Options struct {
	Epochs       int     // full passes over the data; 0 means DefaultEpochs
	LearningRate float64 // 0 means DefaultLearningRate
	L2           float64 // weight decay on Weight (not Bias); 0 means DefaultL2, negative means none
	// Progress, if not nil, is called after each epoch (1 to epochs) with
	// the mean cross-entropy of the samples under the head that epoch
	// started from.
	Progress func(epoch, epochs int, loss float64)
}

// Train's defaults. Features are standardised (see Train), so they do not
// depend on the base network's feature scale. Measured on synthetic
// problems of 2 to 10 classes, 5 to 50 examples each and 480 to 1024
// features (clusters in a low-dimensional latent space seen through a
// random linear map and a ReLU, like pooled features), the mean
// cross-entropy falls below 0.05, every example right, within 3 to 8
// epochs at a step of 0.01, and is settled by 50:
//
//   - DefaultEpochs: 100 leaves a wide margin for classes that only a few
//     features tell apart, and costs 0.16 s natively (0.4 s as WebAssembly
//     in Node) for 10 classes x 50 examples x 480 features, the page's
//     largest case (BenchmarkTrain).
//   - DefaultLearningRate: 0.01. Adam moves every weight by up to the step
//     at once, so a logit moves by up to the step times the number of
//     features: 0.003 took 3 to 4 times as many epochs, 0.1 made the loss
//     climb again on the harder problems.
//   - DefaultL2: 0.01, on the mean loss, in standardised units. A few
//     examples of hundreds of features are always separable, and without
//     decay the weights grow for as long as training runs, every
//     probability heading for 1; 0.01 keeps them near 0.98 on the training
//     examples, and held-out accuracy was as good or better than with 0 or
//     0.001 on every problem tried.
const (
	DefaultEpochs       = 100
	DefaultLearningRate = 0.01
	DefaultL2           = 0.01
)

// Adam's usual constants (Kingma and Ba, 2015).
const (
	beta1   = 0.9
	beta2   = 0.999
	epsilon = 1e-8
)

// Train fits a head for classes (in output order) to the samples:
// multinomial logistic regression, softmax and cross-entropy, minimised
// full-batch (every epoch is one step on the gradient over all samples)
// with Adam, its usual betas (0.9, 0.999) and epsilon 1e-8, from zero
// weights. Features are standardised first (each feature's mean removed
// and divided by its standard deviation over the samples, floored at a
// thousandth of the features' root mean square deviation so that a
// constant feature is not blown up), so that one learning rate and one
// weight decay suit every base network; the scaling is folded into the
// head's Weight and Bias, which apply to the raw features.
//
// The result is deterministic: the same samples and options give the same
// head on a given platform (floating-point contraction can differ between
// architectures).
//
// Memory: besides the samples, which the caller holds and Train only
// reads, Train allocates about 36 bytes per class x feature (the weights,
// Adam's two moments and the gradient in float64, the folded float32
// weights) plus O(classes + features): 195 KB for 10 classes of 480
// features, whatever the number of samples. Time is 2 x epochs x samples
// x classes x features multiply-adds: 0.16 s for 500 samples of 10
// classes and 480 features, 3.1 s for 10,000 (BenchmarkTrain, on one core
// of an AMD EPYC Turin virtual machine).
//
// Every class needs at least one sample, all samples the same number of
// features (the base network's FeatureChannels), finite.
func Train(classes []string, samples []Sample, opts Options) (*Head, error) {
	features, err := checkData(classes, samples)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	epochs, lr, l2 := opts.Epochs, opts.LearningRate, opts.L2
	switch {
	case epochs == 0:
		epochs = DefaultEpochs
	case epochs < 0:
		return nil, fmt.Errorf("train: %d epochs", epochs)
	}
	switch {
	case lr == 0:
		lr = DefaultLearningRate
	case !(lr > 0) || math.IsInf(lr, 0):
		return nil, fmt.Errorf("train: learning rate %g, want a positive number", lr)
	}
	switch {
	case l2 == 0:
		l2 = DefaultL2
	case l2 < 0:
		l2 = 0
	case math.IsNaN(l2) || math.IsInf(l2, 0):
		return nil, fmt.Errorf("train: L2 %g, want a finite number", l2)
	}

	t := newTrainer(len(classes), features, samples)
	for epoch := 1; epoch <= epochs; epoch++ {
		loss := t.gradient(samples, l2)
		t.step(epoch, lr)
		if opts.Progress != nil {
			opts.Progress(epoch, epochs, loss)
		}
	}
	t.fold()
	h := &Head{Classes: append([]string(nil), classes...), Features: features, Weight: t.weight, Bias: make([]float32, len(classes))}
	for c, b := range t.bias {
		h.Bias[c] = float32(b)
	}
	if err := h.Check(); err != nil { // only overflow could do it: say so rather than hand it on
		return nil, fmt.Errorf("train: %w (try a smaller learning rate)", err)
	}
	return h, nil
}

// checkData checks Train's classes and samples and returns the feature
// count, the first sample's.
func checkData(classes []string, samples []Sample) (int, error) {
	if err := checkClasses(classes); err != nil {
		return 0, err
	}
	features := 0
	if len(samples) > 0 {
		features = len(samples[0].Features)
		if features == 0 || features > MaxFeatures {
			return 0, fmt.Errorf("sample 0 has %d features, want 1 to %d", features, MaxFeatures)
		}
	}
	count := make([]int, len(classes))
	for i, s := range samples {
		if s.Class < 0 || s.Class >= len(classes) {
			return 0, fmt.Errorf("sample %d is of class %d, want 0 to %d", i, s.Class, len(classes)-1)
		}
		if len(s.Features) != features {
			return 0, fmt.Errorf("sample %d has %d features, sample 0 has %d", i, len(s.Features), features)
		}
		for j, v := range s.Features {
			if !finite(v) {
				return 0, fmt.Errorf("sample %d: feature %d is %g", i, j, v)
			}
		}
		count[s.Class]++
	}
	var empty []error
	for c, n := range count {
		if n == 0 {
			empty = append(empty, fmt.Errorf("class %q has no examples", classes[c]))
		}
	}
	return features, errors.Join(empty...)
}

// trainer holds Train's state: the model in standardised units, logits =
// v·z + c with z = (f - mean) / scale, Adam's moments, and the gradient.
type trainer struct {
	classes, features int
	mean, scale       []float64 // per feature
	v, c              []float64 // classes x features, classes
	mv, vv, mc, vc    []float64 // Adam's first and second moments of v and c
	gv, gc            []float64 // the gradient: of v (first the sums over raw features), of c
	weight            []float32 // v folded for raw features (see fold)
	bias              []float64 // c folded likewise
	probs             []float64 // one sample's probabilities
}

func newTrainer(classes, features int, samples []Sample) *trainer {
	cf := classes * features
	t := &trainer{
		classes: classes, features: features,
		mean: make([]float64, features), scale: make([]float64, features),
		v: make([]float64, cf), c: make([]float64, classes),
		mv: make([]float64, cf), vv: make([]float64, cf), mc: make([]float64, classes), vc: make([]float64, classes),
		gv: make([]float64, cf), gc: make([]float64, classes),
		weight: make([]float32, cf), bias: make([]float64, classes), probs: make([]float64, classes),
	}
	t.standardise(samples)
	return t
}

// standardise sets each feature's mean and scale: its standard deviation
// over the samples, floored at 1e-3 of the features' root mean square
// deviation (1 where every feature is constant).
func (t *trainer) standardise(samples []Sample) {
	n := float64(len(samples))
	for _, s := range samples {
		for j, f := range s.Features {
			t.mean[j] += float64(f)
		}
	}
	for j := range t.mean {
		t.mean[j] /= n
	}
	for _, s := range samples {
		for j, f := range s.Features {
			d := float64(f) - t.mean[j]
			t.scale[j] += d * d
		}
	}
	var total float64
	for j := range t.scale {
		t.scale[j] /= n
		total += t.scale[j]
	}
	floor := 1e-3 * math.Sqrt(total/float64(t.features))
	if floor == 0 {
		floor = 1
	}
	for j, variance := range t.scale {
		t.scale[j] = max(math.Sqrt(variance), floor)
	}
}

// fold sets weight and bias to the model for raw features:
// v·(f - mean)/scale + c = (v/scale)·f + (c - v·mean/scale).
func (t *trainer) fold() {
	for k := range t.classes {
		row := t.v[k*t.features : (k+1)*t.features]
		b := t.c[k]
		for j, v := range row {
			w := v / t.scale[j]
			t.weight[k*t.features+j] = float32(w)
			b -= w * t.mean[j]
		}
		t.bias[k] = b
	}
}

// gradient sets gv and gc to the gradient of the mean cross-entropy plus
// l2/2 |v|² and returns the mean cross-entropy. It runs on the raw
// features, which are not copied: the logits come from the folded model,
// and the gradient's sums over raw features, Σ r f, are turned into those
// over standardised ones, Σ r (f - mean)/scale, once at the end.
func (t *trainer) gradient(samples []Sample, l2 float64) float64 {
	t.fold()
	clear(t.gv)
	clear(t.gc)
	var loss float64
	for _, s := range samples {
		// Softmax of the logits, shifted by the largest.
		peak := math.Inf(-1)
		for k := range t.classes {
			z := t.bias[k] + float64(dot(t.weight[k*t.features:(k+1)*t.features], s.Features))
			t.probs[k] = z
			peak = max(peak, z)
		}
		// -log p(class) = log Σ exp(z - peak) - (z(class) - peak), finite
		// even where p(class) underflows.
		loss -= t.probs[s.Class] - peak
		var sum float64
		for k, z := range t.probs {
			t.probs[k] = math.Exp(z - peak)
			sum += t.probs[k]
		}
		loss += math.Log(sum)
		// The residual r = p - onehot(class), and Σ r f.
		for k := range t.classes {
			r := t.probs[k] / sum
			if k == s.Class {
				r--
			}
			t.gc[k] += r
			axpy(t.gv[k*t.features:(k+1)*t.features], r, s.Features)
		}
	}
	n := float64(len(samples))
	for k := range t.classes {
		row := t.gv[k*t.features : (k+1)*t.features]
		for j := range row {
			row[j] = (row[j]-t.mean[j]*t.gc[k])/t.scale[j]/n + l2*t.v[k*t.features+j]
		}
		t.gc[k] /= n
	}
	return loss / n
}

// step is Adam's update number epoch, with bias-corrected moments.
func (t *trainer) step(epoch int, lr float64) {
	c1 := 1 - math.Pow(beta1, float64(epoch))
	c2 := 1 - math.Pow(beta2, float64(epoch))
	adam(t.v, t.gv, t.mv, t.vv, lr, c1, c2)
	adam(t.c, t.gc, t.mc, t.vc, lr, c1, c2)
}

func adam(x, g, m, v []float64, lr, c1, c2 float64) {
	for i := range x {
		m[i] = beta1*m[i] + (1-beta1)*g[i]
		v[i] = beta2*v[i] + (1-beta2)*g[i]*g[i]
		x[i] -= lr * (m[i] / c1) / (math.Sqrt(v[i]/c2) + epsilon)
	}
}

// axpy adds a·x to y (as long as x), four at a time.
func axpy(y []float64, a float64, x []float32) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y[i] += a * float64(x[i])
		y[i+1] += a * float64(x[i+1])
		y[i+2] += a * float64(x[i+2])
		y[i+3] += a * float64(x[i+3])
	}
	for ; i < len(x); i++ {
		y[i] += a * float64(x[i])
	}
}
