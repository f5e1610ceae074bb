package engine_test

import (
	"testing"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights/checkpoint"
)

// BenchmarkForwardRealWeights times the real Megvii g3 0.5x on a real photo's tensor.
func BenchmarkForwardRealWeights(b *testing.B) {
	m, err := checkpoint.Read(shared.Read(b, "weights/megvii-shufflenetv1-g3-0.5x.pth.tar"), "")
	if err != nil {
		b.Fatal(err)
	}
	p, err := engine.Fold(m.Arch, m.Trained)
	if err != nil {
		b.Fatal(err)
	}
	n, err := engine.New(m.Arch, p)
	if err != nil {
		b.Fatal(err)
	}
	input := shared.NPY(b, "testdata/megvii_input_chelsea.npy")
	b.Run("megvii_g3_0.5x", func(b *testing.B) { engine.TimeForward(b, n, input) })
}

// BenchmarkForwardObserved pairs Forward with ForwardObserved handing every
// stage and unit step to an observer that copies it out, as the browser's
// explorer does, for the real Megvii g3 0.5x and the seed g3 1x.
func BenchmarkForwardObserved(b *testing.B) {
	for _, m := range realModels {
		n, _ := m.networks(b)
		input := shared.NPY(b, m.input)
		b.Run(m.name+"/forward", func(b *testing.B) { engine.TimeForward(b, n, input) })
		b.Run(m.name+"/observed", func(b *testing.B) {
			var c copier
			obs := engine.Observer(c.observe)
			var copied int
			for _, a := range c.pass(b, n, obs, input) {
				copied += 4 * len(a.Maps)
			}
			b.ReportAllocs()
			for b.Loop() {
				c.pass(b, n, obs, input)
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e3, "ms/op")
			b.ReportMetric(float64(copied)/1e6, "MB-copied/op")
		})
	}
}
