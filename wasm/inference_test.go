//go:build js && wasm

package main

import (
	"bytes"
	"context"
	"image"
	"image/draw"
	"math"
	"strings"
	"syscall/js"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// uint8Array is a JavaScript Uint8Array holding b.
func uint8Array(b []byte) js.Value {
	v := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(v, b)
	return v
}

// float32Array is a JavaScript Float32Array holding f.
func float32Array(f []float32) js.Value {
	v := js.Global().Get("Float32Array").New(len(f))
	copyFloatsToJS(v, f)
	return v
}

// call invokes one of the engine's exported functions as the worker's
// shim does, and returns its answer and the answer's error, if any.
func call(fn func(js.Value, []js.Value) any, args ...any) (js.Value, string) {
	f := guarded(fn)
	defer f.Release()
	answer := f.Invoke(args...)
	if msg := answer.Get("error"); msg.Type() == js.TypeString {
		return answer, msg.String()
	}
	return answer, ""
}

// The engine as the browser runs it: the real Megvii weights (f32, so that
// PyTorch's numbers hold exactly) loaded from bytes, PyTorch's input tensor
// run to PyTorch's logits, and a photo's pixels classified with PyTorch's
// probabilities.
func TestLoadClassifyRun(t *testing.T) {
	in := &inference{models: map[string]*loadedModel{}}
	desc, err := call(in.load, "megvii", uint8Array(weightstest.Megvii(t, weights.Float32)))
	if err != "" {
		t.Fatal(err)
	}
	if desc.Get("size").Int() != 224 || desc.Get("family").String() != "megvii" || desc.Get("classes").Int() != 1000 {
		t.Errorf("load answered %v", js.Global().Get("JSON").Call("stringify", desc).String())
	}

	// run: PyTorch's input gives PyTorch's logits.
	input := shared.NPY(t, "testdata/pipeline/megvii_g3_0.5x_chelsea_input.npy")
	answer, err := call(in.run, "megvii", float32Array(input))
	if err != "" {
		t.Fatal(err)
	}
	logits := make([]float32, answer.Get("logits").Get("length").Int())
	copyFloatsToGo(logits, answer.Get("logits"))
	matchPyTorch(t, "run", logits, shared.NPY(t, "testdata/pipeline/megvii_g3_0.5x_chelsea_logits.npy"))

	// classify: the photo's pixels at their natural size, as the page
	// hands them over (a canvas's getImageData: RGBA, not premultiplied).
	img, perr := preprocess.Decode(context.Background(), shared.Read(t, "images/chelsea.png"), preprocess.DefaultMaxPixels)
	if perr != nil {
		t.Fatal(perr)
	}
	natural := image.NewNRGBA(img.Bounds())
	draw.Draw(natural, natural.Rect, img, img.Bounds().Min, draw.Src)
	chelsea := shared.PipelineReference(t).Models["megvii_g3_0.5x"].Images["chelsea.png"]
	answer, err = call(in.classify, "megvii", uint8Array(natural.Pix), natural.Rect.Dx(), natural.Rect.Dy(), 5, true)
	if err != "" {
		t.Fatal(err)
	}
	// It crops as the CLI and the server do, to the byte.
	cropped := make([]byte, answer.Get("input").Get("length").Int())
	js.CopyBytesToGo(cropped, answer.Get("input"))
	if want := preprocess.CenterCrop(img, 256, 224); !bytes.Equal(cropped, want.Pix) {
		t.Error("the crop classify made differs from preprocess.CenterCrop's")
	}
	top := answer.Get("top")
	for k := range 5 {
		p := top.Index(k)
		if p.Get("index").Int() != chelsea.Top5[k] || math.Abs(p.Get("prob").Float()-chelsea.Prob5[k]) > 0.01 {
			t.Errorf("top %d: class %d with %.4f, PyTorch %d with %.4f", k, p.Get("index").Int(), p.Get("prob").Float(), chelsea.Top5[k], chelsea.Prob5[k])
		}
	}
	if top.Index(0).Get("label").String() != "Egyptian cat" {
		t.Errorf("top label %q", top.Index(0).Get("label").String())
	}
	if n := answer.Get("heatmap").Get("length").Int(); n != 4*224*224 {
		t.Errorf("heat map of %d bytes", n)
	}
}

// Every wrong call answers an error that says what is wrong.
func TestInferenceErrors(t *testing.T) {
	in := &inference{models: map[string]*loadedModel{}}
	file := weightstest.Megvii(t, weights.Int8)
	if _, err := call(in.load, "megvii", uint8Array(file)); err != "" {
		t.Fatal(err)
	}
	corrupt := append([]byte{}, file...)
	corrupt[0] ^= 0xff // the header's length
	for _, c := range []struct {
		name string
		fn   func(js.Value, []js.Value) any
		args []any
		want string
	}{
		{"load without bytes", in.load, []any{"x"}, "load(name, bytes)"},
		{"load a corrupt file", in.load, []any{"bad", uint8Array(corrupt)}, "cannot load bad"},
		{"load text", in.load, []any{"text", uint8Array([]byte("weights"))}, "cannot load text"},
		{"classify an unloaded model", in.classify, []any{"resnet", uint8Array(make([]byte, 4*224*224)), 224, 224, 5, false}, `model "resnet" is not loaded`},
		{"classify too few pixels", in.classify, []any{"megvii", uint8Array(make([]byte, 4*100*100)), 224, 224, 5, false}, "got 40000 bytes of pixels, want 200704"},
		{"classify an empty picture", in.classify, []any{"megvii", uint8Array(nil), 0, 10, 5, false}, "a picture of 0x10 pixels"},
		{"classify a huge picture", in.classify, []any{"megvii", uint8Array(nil), 100_000, 100_000, 5, false}, "want 1 to 16000000 pixels"},
		{"classify without arguments", in.classify, []any{"megvii"}, "classify(name, pixels, width, height, top, heatmap)"},
		{"run an unloaded model", in.run, []any{"resnet", float32Array(make([]float32, 3*224*224))}, `model "resnet" is not loaded`},
		{"run the wrong size", in.run, []any{"megvii", float32Array(make([]float32, 10))}, "got 10 input values, want 150528"},
		{"run without input", in.run, []any{"megvii"}, "run(name, input)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := call(c.fn, c.args...); !strings.Contains(err, c.want) {
				t.Errorf("error %q, want one mentioning %q", err, c.want)
			}
		})
	}
	// The failed loads left the loaded model alone.
	if _, err := call(in.classify, "megvii", uint8Array(make([]byte, 4*300*200)), 300, 200, 1, false); err != "" {
		t.Errorf("after the failed calls: %s", err)
	}
}

// matchPyTorch fails unless the logits got are within 1e-3 of the largest
// of PyTorch's (want), the peer benchmark's tolerance.
func matchPyTorch(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) < len(want) {
		t.Fatalf("%s: %d logits, want %d", what, len(got), len(want))
	}
	var worst, scale float64
	for i := range want {
		worst = max(worst, math.Abs(float64(got[i]-want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	if worst > 1e-3*max(1, scale) {
		t.Errorf("%s: logits differ from PyTorch's by %.3g (of %.3g)", what, worst, scale)
	}
}
