package head

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The gradient Train follows, computed on raw features and turned into
// standardised units, is the loss's: each component against a central
// difference.
func TestGradient(t *testing.T) {
	const classes, features, l2 = 3, 5, 0.1
	rng := rand.New(rand.NewPCG(1, 1))
	var samples []Sample
	for i := range 12 {
		f := make([]float32, features)
		for j := range f {
			f[j] = float32(3 + 2*rng.NormFloat64() + float64(j*(i%classes)))
		}
		samples = append(samples, Sample{Features: f, Class: i % classes})
	}
	tr := newTrainer(classes, features, samples)
	for i := range tr.v {
		tr.v[i] = 0.3 * rng.NormFloat64()
	}
	for i := range tr.c {
		tr.c[i] = 0.3 * rng.NormFloat64()
	}
	objective := func() float64 {
		var penalty float64
		for _, v := range tr.v {
			penalty += l2 / 2 * v * v
		}
		return tr.gradient(samples, l2) + penalty
	}
	objective()
	gv, gc := append([]float64(nil), tr.gv...), append([]float64(nil), tr.gc...)
	check := func(what string, i int, x []float64, want float64) {
		const h = 1e-3
		at := x[i]
		x[i] = at + h
		up := objective()
		x[i] = at - h
		down := objective()
		x[i] = at
		if got := (up - down) / (2 * h); math.Abs(got-want) > 1e-3*max(0.1, math.Abs(want)) {
			t.Errorf("%s %d: difference quotient %g, gradient %g", what, i, got, want)
		}
	}
	for i := range tr.v {
		check("weight", i, tr.v, gv[i])
	}
	for i := range tr.c {
		check("bias", i, tr.c, gc[i])
	}
}
