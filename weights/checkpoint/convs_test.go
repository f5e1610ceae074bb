package checkpoint_test

import (
	"slices"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights/checkpoint"
	"github.com/shufflenet-go/shufflenet/weights/pth"
)

// engine.Architecture.Convs walks the convs in the order PyTorch's
// state_dict lists their weights, in every family: one conv or Linear
// weight per step, of the shape the walk says. The weights file and every
// per-conv list follow that walk.
func TestConvsFollowStateDictOrder(t *testing.T) {
	for _, c := range []struct {
		file  string
		convs int
	}{
		{"weights/megvii-shufflenetv1-g3-0.5x.pth.tar", 50},
		{"weights/megvii-shufflenetv1-g8-0.5x.pth.tar", 50},
		{"testdata/seed_g1_1x.pth", 50},
		{"testdata/seed_g8_1x.pth", 50},
		{"testdata/families/pytorchcv_shufflenet_g1_w1.pth", 50},
		{"testdata/families/pytorchcv_shufflenet_g3_wd2.pth", 50},
		{"testdata/families/mmpretrain_shufflenet_v1_g3_1x.pth", 50},
	} {
		t.Run(c.file, func(t *testing.T) {
			sd, err := pth.Read(shared.Read(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			m, err := checkpoint.Import(sd, "")
			if err != nil {
				t.Fatal(err)
			}
			// Batch norms' tensors have one dimension and their counters
			// none: what is left are the convs' (4) and the Linear's (2).
			var keys []string
			for _, name := range sd.Names {
				if n := len(sd.Tensors[name].Shape); n == 4 || n == 2 {
					keys = append(keys, name)
				}
			}
			n := 0
			for s, shape := range m.Arch.Convs() {
				if s.Index >= len(keys) {
					t.Fatalf("the walk has %s after the checkpoint's last weight", shape.Name)
				}
				want := []int{shape.Out, shape.In / shape.Groups, shape.Kernel, shape.Kernel}
				if s.Role == engine.RoleClassifier {
					want = []int{shape.Out, shape.In}
				}
				if got := sd.Tensors[keys[s.Index]].Shape; !slices.Equal(got, want) {
					t.Errorf("step %d, %s %v: the checkpoint has %s %v", s.Index, shape.Name, want, keys[s.Index], got)
				}
				n++
			}
			if n != c.convs || len(keys) != c.convs {
				t.Errorf("the walk has %d convs and the checkpoint %d weights, want %d", n, len(keys), c.convs)
			}
		})
	}
}
