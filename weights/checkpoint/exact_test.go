package checkpoint_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights/checkpoint"
)

func TestSeedMatchesPyTorch(t *testing.T) {
	input := shared.NPY(t, "testdata/seed_input.npy")
	for _, g := range []int{1, 2, 3, 4, 8} {
		t.Run(fmt.Sprintf("g%d", g), func(t *testing.T) {
			name := fmt.Sprintf("testdata/seed_g%d_1x", g)
			logits := run(t, name+".pth", input)
			compare(t, logits, shared.NPY(t, name+"_logits.npy"), 5e-4)
		})
	}
}

func run(t *testing.T, rel string, input []float32) []float32 {
	t.Helper()
	n, _ := network(t, rel)
	logits, err := n.Forward(input)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(logits)
}

// network reads the checkpoint at rel in ../shared (its family found
// from its keys) and builds its network.
func network(t *testing.T, rel string) (*engine.Network, engine.Architecture) {
	t.Helper()
	m, err := checkpoint.Read(shared.Read(t, rel), "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.Fold(m.Arch, m.Trained)
	if err != nil {
		t.Fatal(err)
	}
	n, err := engine.New(m.Arch, p)
	if err != nil {
		t.Fatal(err)
	}
	return n, m.Arch
}

func compare(t *testing.T, got, want []float32, tol float64) {
	t.Helper()
	var worst float64
	for i := range want {
		worst = max(worst, math.Abs(float64(got[i]-want[i])))
	}
	t.Logf("max abs diff %.3g, top5 %v vs %v", worst, top(got, 5), top(want, 5))
	if worst > tol {
		t.Errorf("max abs diff %.3g > %.1g", worst, tol)
	}
	if !slices.Equal(top(got, 5), top(want, 5)) {
		t.Errorf("top-5 %v, PyTorch %v", top(got, 5), top(want, 5))
	}
}

func top(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case v[a] > v[b]:
			return -1
		case v[a] < v[b]:
			return 1
		}
		return 0
	})
	return idx[:k]
}

func TestMegviiMatchesPyTorch(t *testing.T) {
	for _, g := range []int{3, 8} {
		for _, img := range []string{"chelsea", "coffee", "motorcycle_left"} {
			t.Run(fmt.Sprintf("g%d/%s", g, img), func(t *testing.T) {
				input := shared.NPY(t, "testdata/megvii_input_"+img+".npy")
				logits := run(t, fmt.Sprintf("weights/megvii-shufflenetv1-g%d-0.5x.pth.tar", g), input)
				compare(t, logits, shared.NPY(t, fmt.Sprintf("testdata/megvii_g%d_0.5x_%s_logits.npy", g, img)), 1e-3)
			})
		}
	}
}

func TestFamiliesMatchPyTorch(t *testing.T) {
	input := shared.NPY(t, "testdata/families/input.npy")
	for _, name := range []string{"pytorchcv_shufflenet_g3_wd2", "pytorchcv_shufflenet_g1_w1", "mmpretrain_shufflenet_v1_g3_1x"} {
		t.Run(name, func(t *testing.T) {
			logits := run(t, "testdata/families/"+name+".pth", input)
			compare(t, logits, shared.NPY(t, "testdata/families/"+name+"_logits.npy"), 5e-4)
		})
	}
}
