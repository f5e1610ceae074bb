package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kshedden/gonpy"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// These tests hold `logits --stage` and `--no-shuffle` to PyTorch's own
// outputs in ../shared/testdata/stages, through both ways of naming a
// model: the seed g3 1x by its checkpoint, the real Megvii g3 0.5x by a
// weights file (float32, so that its values are the checkpoint's).

const megviiCheckpoint = "weights/" + weightstest.MegviiCheckpoint

// megviiWeights writes the Megvii g3 0.5x weights file of dtype dt and
// returns its path.
func megviiWeights(t *testing.T, dt weights.DType) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "megvii-g3-0.5x."+string(dt)+".safetensors")
	if err := os.WriteFile(path, weightstest.Megvii(t, dt), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// stagesReference is the part of testdata/stages/reference.json these
// tests read.
type stagesReference struct {
	Seed struct {
		StageShapes [][]int `json:"stage_shapes"`
	} `json:"seed_g3_1x"`
	Megvii struct {
		StageShapes [][]int `json:"stage_shapes"`
		Chelsea     struct {
			NoShuffleTop5 []int `json:"noshuffle_top5"`
		} `json:"chelsea"`
	} `json:"megvii_g3_0.5x"`
}

func readNPY(t *testing.T, path string) ([]float32, []int) {
	t.Helper()
	r, err := gonpy.NewFileReader(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.GetFloat32()
	if err != nil {
		t.Fatal(err)
	}
	return v, r.Shape
}

// withinPyTorch checks got against PyTorch's want to 1e-3 of want's
// largest magnitude (or 1e-3 absolute, if that is under 1).
func withinPyTorch(t *testing.T, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d values, PyTorch has %d", len(got), len(want))
	}
	var worst, scale float64
	for i := range want {
		worst = max(worst, math.Abs(float64(got[i])-float64(want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	if !(worst <= 1e-3*max(1, scale)) {
		t.Errorf("max abs diff %.3g from PyTorch, over 1e-3 of %.3g", worst, max(1, scale))
	}
}

// `logits --stage N` writes PyTorch's stage N output as C x H x W.
func TestLogitsStageMatchesPyTorch(t *testing.T) {
	var ref stagesReference
	shared.JSON(t, "testdata/stages/reference.json", &ref)
	for _, c := range []struct {
		name, flag, model, input, stages string
		shapes                           [][]int
	}{
		{"seed_g3_1x", "--checkpoint", shared.Path(t, "testdata/seed_g3_1x.pth"), "testdata/seed_input.npy",
			"testdata/stages/seed_g3_1x", ref.Seed.StageShapes},
		{"megvii_g3_0.5x", "--weights", megviiWeights(t, weights.Float32), "testdata/megvii_input_chelsea.npy",
			"testdata/stages/megvii_g3_0.5x_chelsea", ref.Megvii.StageShapes},
	} {
		if len(c.shapes) != 4 {
			t.Fatalf("%s: reference.json has %d stage shapes", c.name, len(c.shapes))
		}
		for stage := 1; stage <= 4; stage++ {
			t.Run(fmt.Sprintf("%s/stage%d", c.name, stage), func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "stage.npy")
				var msg bytes.Buffer
				if err := run([]string{"logits", c.flag, c.model, "--stage", fmt.Sprint(stage),
					"--input", shared.Path(t, c.input), "--out", out}, &msg); err != nil {
					t.Fatal(err)
				}
				got, shape := readNPY(t, out)
				if !slices.Equal(shape, c.shapes[stage-1]) {
					t.Fatalf("shape %v, reference.json %v (%s)", shape, c.shapes[stage-1], msg.String())
				}
				withinPyTorch(t, got, shared.NPY(t, fmt.Sprintf("%s_stage%d.npy", c.stages, stage)))
			})
		}
	}
}

// `logits --no-shuffle` writes PyTorch's logits of the same weights
// without the channel shuffle, from a checkpoint and from a weights file.
func TestLogitsNoShuffleMatchesPyTorch(t *testing.T) {
	megvii := megviiWeights(t, weights.Float32)
	cases := []struct{ name, flag, model, input, want string }{
		{"seed_g3_1x", "--checkpoint", shared.Path(t, "testdata/seed_g3_1x.pth"), "testdata/seed_input.npy",
			"testdata/stages/seed_g3_1x_noshuffle_logits.npy"},
		{"megvii_g3_0.5x/checkpoint/chelsea", "--checkpoint", shared.Path(t, megviiCheckpoint), "testdata/megvii_input_chelsea.npy",
			"testdata/stages/megvii_g3_0.5x_chelsea_noshuffle_logits.npy"},
	}
	for _, img := range []string{"chelsea", "coffee", "motorcycle_left"} {
		cases = append(cases, struct{ name, flag, model, input, want string }{"megvii_g3_0.5x/weights/" + img, "--weights", megvii,
			"testdata/megvii_input_" + img + ".npy", "testdata/stages/megvii_g3_0.5x_" + img + "_noshuffle_logits.npy"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "logits.npy")
			if err := run([]string{"logits", c.flag, c.model, "--no-shuffle",
				"--input", shared.Path(t, c.input), "--out", out}, &bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
			got, shape := readNPY(t, out)
			if !slices.Equal(shape, []int{1, 1000}) {
				t.Fatalf("shape %v", shape)
			}
			withinPyTorch(t, got, shared.NPY(t, c.want))
		})
	}
}

// `classify --no-shuffle` names PyTorch's no-shuffle top-1 for
// chelsea.png: no longer a cat. (The float32 weights file: the int8 one
// agrees, but converting it takes seconds.)
func TestClassifyNoShuffleMatchesReferenceTop1(t *testing.T) {
	var ref stagesReference
	shared.JSON(t, "testdata/stages/reference.json", &ref)
	if len(ref.Megvii.Chelsea.NoShuffleTop5) == 0 {
		t.Fatal("reference.json has no Megvii no-shuffle top-5 for chelsea")
	}
	var out bytes.Buffer
	if err := run([]string{"classify", "--weights", megviiWeights(t, weights.Float32), "--no-shuffle", "--json",
		shared.Path(t, "images/chelsea.png")}, &out); err != nil {
		t.Fatal(err)
	}
	var res classification
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if want := ref.Megvii.Chelsea.NoShuffleTop5[0]; res.Top[0].Index != want {
		t.Errorf("no-shuffle top-1 %d (%s), PyTorch %d", res.Top[0].Index, res.Top[0].Label, want)
	}
}
