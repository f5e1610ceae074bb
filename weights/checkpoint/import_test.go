package checkpoint_test

import (
	"math"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights/checkpoint"
	"github.com/shufflenet-go/shufflenet/weights/pth"
)

func TestDetectsFamilyAndShape(t *testing.T) {
	for _, c := range []struct {
		file   string
		family engine.Family
		groups int
		stages [3]int
	}{
		{"weights/megvii-shufflenetv1-g3-0.5x.pth.tar", engine.Megvii, 3, [3]int{120, 240, 480}},
		{"weights/megvii-shufflenetv1-g8-0.5x.pth.tar", engine.Megvii, 8, [3]int{192, 384, 768}},
		{"testdata/seed_g4_1x.pth", engine.Seed, 4, [3]int{272, 544, 1088}},
		{"testdata/families/pytorchcv_shufflenet_g3_wd2.pth", engine.Pytorchcv, 3, [3]int{120, 240, 480}},
		{"testdata/families/mmpretrain_shufflenet_v1_g3_1x.pth", engine.MMPretrain, 3, [3]int{240, 480, 960}},
	} {
		m, err := checkpoint.Read(shared.Read(t, c.file), "")
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if m.Arch.Family != c.family || m.Arch.Groups != c.groups || m.Arch.StageChannels != c.stages {
			t.Errorf("%s: %s with stages %v", c.file, m.Arch.Name(), m.Arch.StageChannels)
		}
	}
}

// A checkpoint that does not fit gets an error naming the tensor and the problem.
func TestImportErrors(t *testing.T) {
	base := func(t *testing.T) *pth.StateDict {
		sd, err := pth.Read(shared.Read(t, "testdata/seed_g3_1x.pth"))
		if err != nil {
			t.Fatal(err)
		}
		return sd
	}
	for _, c := range []struct {
		name   string
		family engine.Family
		edit   func(sd *pth.StateDict)
		want   string
	}{
		{"missing key", "", func(sd *pth.StateDict) {
			delete(sd.Tensors, "stage3.stage_3_unit_2.unit_2.1.running_var")
		}, `missing tensor "stage3.stage_3_unit_2.unit_2.1.running_var"`},
		{"wrong shape", "", func(sd *pth.StateDict) {
			tensor := sd.Tensors["stage4.stage_4_unit_1.unit_3.0.weight"]
			tensor.Shape = []int{960, 40, 1, 2}
			sd.Tensors["stage4.stage_4_unit_1.unit_3.0.weight"] = tensor
		}, "has shape [960 40 1 2], want [960 80 1 1]"},
		{"non-finite value", "", func(sd *pth.StateDict) {
			sd.Tensors["fc.weight"].Data[17] = float32(math.Inf(1))
		}, "value 17 is +Inf"},
		{"extra unit", "", func(sd *pth.StateDict) {
			sd.Names = append(sd.Names, "stage4.stage_4_unit_4.unit_1.0.weight")
			sd.Tensors["stage4.stage_4_unit_4.unit_1.0.weight"] = sd.Tensors["stage4.stage_4_unit_3.unit_1.0.weight"]
		}, "unexpected tensors"},
		{"wrong family", engine.Megvii, func(*pth.StateDict) {}, `missing tensor "first_conv.0.weight"`},
		{"unknown family", "caffe2", func(*pth.StateDict) {}, "unknown family"},
		{"unknown keys", "", func(sd *pth.StateDict) {
			sd.Tensors = map[string]pth.Tensor{"encoder.weight": {Shape: []int{1}, Data: []float32{1}}}
			sd.Names = []string{"encoder.weight"}
		}, "cannot tell the checkpoint's family"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sd := base(t)
			c.edit(sd)
			_, err := checkpoint.Import(sd, c.family)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
			t.Log(err)
		})
	}
}
