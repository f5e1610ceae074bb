package checkpoint_test

import (
	"context"
	"image"
	"math"
	"path"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/engine/classify"
	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"golang.org/x/image/draw"
)

// Bounds of the pipeline test, each with what was measured here.
const (
	// The mean absolute difference between our preprocessing and PIL's,
	// in 0..255 pixel levels, per photo: 0.23-0.33 measured for the PNGs
	// (both antialiased bilinear; they round differently), 0.53 for the
	// JPEG (Go's decoder and libjpeg upsample chroma differently). The
	// bugs it is there to catch give far more (see TestPipelineCatches).
	pngPixelTolerance  = 0.6
	jpegPixelTolerance = 1.0
	// Logits from PyTorch's own input: within this much times
	// max(1, max|logit|); measured at most 2e-5 of that.
	logitTolerance = 1e-3
	// The top-5 probabilities end to end, from the photo file: measured
	// at most 0.004 for the real Megvii weights.
	probTolerance = 0.01
)

// Each photo, preprocessed our way for each family, gives PyTorch's input
// tensor, logits and probabilities: this is the test that fails when a
// family's channel order, mean, std or crop is wrong, or the softmax.
func TestPipelineMatchesPyTorch(t *testing.T) {
	ref := shared.PipelineReference(t)
	if len(ref.Models) < 4 {
		t.Fatalf("%d models in the reference, want the four conventions", len(ref.Models))
	}
	for name, model := range ref.Models {
		net, arch := network(t, model.Checkpoint)
		in := arch.Input
		for img, want := range model.Images {
			t.Run(name+"/"+img, func(t *testing.T) {
				base := "testdata/pipeline/" + name + "_" + strings.TrimSuffix(img, path.Ext(img))
				refInput := shared.NPY(t, base+"_input.npy")

				// 1. The photo file through our preprocessing gives PyTorch's input.
				input, err := preprocess.Tensor(context.Background(), shared.Read(t, "images/"+img), in, preprocess.DefaultMaxPixels)
				if err != nil {
					t.Fatal(err)
				}
				diff := pixelLevels(input, refInput, in)
				tolerance := pngPixelTolerance
				if path.Ext(img) == ".jpg" {
					tolerance = jpegPixelTolerance
				}
				if diff > tolerance {
					t.Errorf("input: mean absolute difference %.3f pixel levels, want at most %.1f", diff, tolerance)
				}

				// 2. PyTorch's input gives PyTorch's logits.
				logits, err := net.Forward(refInput)
				if err != nil {
					t.Fatal(err)
				}
				refLogits := shared.NPY(t, base+"_logits.npy")
				var worst, scale float64
				for i := range refLogits {
					worst = max(worst, math.Abs(float64(logits[i]-refLogits[i])))
					scale = max(scale, math.Abs(float64(refLogits[i])))
				}
				if worst > logitTolerance*max(1, scale) {
					t.Errorf("logits: max abs difference %.3g, want at most %.3g", worst, logitTolerance*max(1, scale))
				}

				// 3. The photo file gives PyTorch's probabilities.
				logits, err = net.Forward(input)
				if err != nil {
					t.Fatal(err)
				}
				top := classify.Top(logits, len(logits))
				prob := make([]float64, len(top))
				for _, p := range top {
					prob[p.Index] = p.Prob
				}
				var worstProb float64
				for k, c := range want.Top5 {
					worstProb = max(worstProb, math.Abs(prob[c]-want.Prob5[k]))
				}
				if worstProb > probTolerance {
					t.Errorf("top-5 probabilities: max abs difference %.4f, want at most %.2f", worstProb, probTolerance)
				}
				t.Logf("input %.3f levels; logits %.2g of %.3g; probabilities %.4f; top-1 %d (%s %.3f), PyTorch %d (%.3f)",
					diff, worst, scale, worstProb, top[0].Index, top[0].Label, top[0].Prob, want.Top5[0], want.Prob5[0])
			})
		}
	}
}

// pixelLevels is the mean absolute difference of two input tensors in
// 0..255 pixel levels: each value's difference undone of the convention's
// scale and std.
func pixelLevels(got, want []float32, in engine.InputConvention) float64 {
	plane := len(want) / 3
	var sum float64
	for i := range want {
		sum += math.Abs(float64(got[i]-want[i])) * float64(in.Std[i/plane]) / float64(in.Scale)
	}
	return sum / float64(len(want))
}

// The preprocessing check of TestPipelineMatchesPyTorch catches each bug
// it is there for, in every convention: with the bug, the tensor is
// further from PyTorch's than the tolerance allows.
func TestPipelineCatches(t *testing.T) {
	ref := shared.PipelineReference(t)
	photo := shared.Read(t, "images/chelsea.png")
	img, err := preprocess.Decode(context.Background(), photo, preprocess.DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	for name, model := range ref.Models {
		_, arch := network(t, model.Checkpoint)
		want := shared.NPY(t, "testdata/pipeline/"+name+"_chelsea_input.npy")
		bugs := []struct {
			name   string
			change func(*engine.InputConvention)
		}{
			{"RGB and BGR swapped", func(in *engine.InputConvention) {
				in.BGR = !in.BGR
				in.Mean[0], in.Mean[2] = in.Mean[2], in.Mean[0]
				in.Std[0], in.Std[2] = in.Std[2], in.Std[0]
			}},
			{"mean 10 % high", func(in *engine.InputConvention) {
				for c := range in.Mean {
					in.Mean[c] *= 1.1
				}
			}},
			{"std 10 % high", func(in *engine.InputConvention) {
				for c := range in.Std {
					in.Std[c] *= 1.1
				}
			}},
			{"scale 10 % high", func(in *engine.InputConvention) { in.Scale *= 1.1 }},
		}
		for _, bug := range bugs {
			in := arch.Input
			bug.change(&in)
			if in == arch.Input {
				continue // Megvii's mean is 0: 10 % of it changes nothing
			}
			got, err := preprocess.FromImage(img, in)
			if err != nil {
				t.Fatal(err)
			}
			if d := pixelLevels(got, want, arch.Input); d <= pngPixelTolerance {
				t.Errorf("%s, %s: %.2f pixel levels from PyTorch's input, within the tolerance %.1f", name, bug.name, d, pngPixelTolerance)
			} else {
				t.Logf("%s, %s: %.2f pixel levels", name, bug.name, d)
			}
		}
		// The crop two pixels to the right.
		b := img.Bounds()
		rw := (2*256*b.Dx() + b.Dy()) / (2 * b.Dy())
		resized := image.NewRGBA(image.Rect(0, 0, rw, 256))
		draw.BiLinear.Scale(resized, resized.Bounds(), img, b, draw.Src, nil)
		left, top := (rw-224)/2+2, (256-224)/2
		shifted := resized.SubImage(image.Rect(left, top, left+224, top+224)).(*image.RGBA)
		got := make([]float32, 3*224*224)
		if err := arch.Input.FromRGBA(got, shifted.Pix, shifted.Stride); err != nil {
			t.Fatal(err)
		}
		if d := pixelLevels(got, want, arch.Input); d <= pngPixelTolerance {
			t.Errorf("%s, crop 2 pixels off: %.2f pixel levels, within the tolerance %.1f", name, d, pngPixelTolerance)
		} else {
			t.Logf("%s, crop 2 pixels off: %.2f pixel levels", name, d)
		}
	}
}
