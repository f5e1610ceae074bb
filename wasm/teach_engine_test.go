//go:build js && wasm

package main

import (
	"strings"
	"syscall/js"
	"testing"

	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// The worker's side of the Teach mode: features of pictures, a head
// trained on them, used for classifying, and every wrong call refused with
// what is wrong.
func TestTeachEngine(t *testing.T) {
	in := &inference{models: map[string]*loadedModel{}}
	const sha = "2aad3c5099e3000000000000000000000000000000000000000000000000abcd"
	if _, msg := call(in.load, "megvii", uint8Array(weightstest.Megvii(t, weights.Int8)), sha); msg != "" {
		t.Fatal(msg)
	}
	// Two "classes" of pictures: dark and light noise.
	picture := func(seed, base int) js.Value {
		p := make([]byte, 4*64*48)
		for i := range p {
			p[i] = byte(base + (i*seed)%40)
		}
		return uint8Array(p)
	}
	var all []float32
	var labels []int32
	for i := range 6 {
		answer, msg := call(in.features, "megvii", picture(i+3, 200*(i%2)), 64, 48)
		if msg != "" {
			t.Fatal(msg)
		}
		f := make([]float32, answer.Get("features").Length())
		copyFloatsToGo(f, answer.Get("features"))
		if len(f) != 480 {
			t.Fatalf("%d features, want 480", len(f))
		}
		all = append(all, f...)
		labels = append(labels, int32(i%2))
	}
	features := float32Array(all)
	labelsJS := js.Global().Get("Int32Array").New(len(labels))
	for i, l := range labels {
		labelsJS.SetIndex(i, l)
	}
	classes := []any{"dark", "light"}
	trainedAnswer, msg := call(in.train, "megvii", classes, features, labelsJS)
	if msg != "" {
		t.Fatal(msg)
	}
	if acc := trainedAnswer.Get("accuracy").Float(); acc != 1 {
		t.Errorf("accuracy on the training examples %.2f", acc)
	}
	file := make([]byte, trainedAnswer.Get("head").Length())
	js.CopyBytesToGo(file, trainedAnswer.Get("head"))
	decoded, err := weights.DecodeHead(file)
	if err != nil {
		t.Fatal(err)
	}
	if decoded.Base.SHA256 != sha || decoded.Base.Model != "megvii" || decoded.Base.Features != 480 {
		t.Errorf("the head file's base %+v", decoded.Base)
	}
	// Classifying with the head answers its classes; without, ImageNet's.
	if _, msg := call(in.useHead, "megvii", "taught", trainedAnswer.Get("head")); msg != "" {
		t.Fatal(msg)
	}
	for _, withHead := range []bool{true, false} {
		id := ""
		if withHead {
			id = "taught"
		}
		answer, msg := call(in.classify, "megvii", picture(3, 200), 64, 48, 2, true, js.Undefined(), id)
		if msg != "" {
			t.Fatal(msg)
		}
		label := answer.Get("top").Index(0).Get("label").String()
		if withHead != (label == "light") || withHead == answer.Get("heatmap").Truthy() {
			t.Errorf("with the head %v: %q first, heat map %v", withHead, label, answer.Get("heatmap").Truthy())
		}
	}

	other := decoded
	other.Base.SHA256 = strings.Repeat("1", 64)
	otherFile, err := weights.EncodeHead(other)
	if err != nil {
		t.Fatal(err)
	}
	one := js.Global().Get("Int32Array").New(6)
	for _, c := range []struct {
		name string
		fn   func(js.Value, []js.Value) any
		args []any
		want string
	}{
		{"features of an unloaded model", in.features, []any{"resnet", picture(1, 0), 64, 48}, `model "resnet" is not loaded`},
		{"features of too few pixels", in.features, []any{"megvii", picture(1, 0), 640, 48}, "want 122880"},
		{"train one class", in.train, []any{"megvii", []any{"dark"}, features, one}, "1 classes, want 2 to"},
		{"train a class without examples", in.train, []any{"megvii", []any{"dark", "light", "grey"}, features, labelsJS}, `"grey"`},
		{"train with features of the wrong width", in.train, []any{"megvii", classes, float32Array(make([]float32, 10)), labelsJS}, "want 480 each"},
		{"a head for another model", in.useHead, []any{"megvii", "other", uint8Array(otherFile)}, "head file for megvii (sha256 111111111111"},
		{"a file that is no head", in.useHead, []any{"megvii", "empty", uint8Array([]byte("{}"))}, "not a valid head file"},
		{"classify with a head never given", in.classify, []any{"megvii", picture(1, 0), 64, 48, 2, false, js.Undefined(), "unknown"}, `no head "unknown" for model megvii`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := call(c.fn, c.args...); !strings.Contains(err, c.want) {
				t.Errorf("error %q, want one mentioning %q", err, c.want)
			}
		})
	}
}
