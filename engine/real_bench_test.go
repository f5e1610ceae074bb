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
