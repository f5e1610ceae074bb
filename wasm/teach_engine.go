//go:build js && wasm

package main

import (
	"fmt"
	"image"
	"syscall/js"
	"time"

	"github.com/shufflenet-go/shufflenet/engine/head"
	"github.com/shufflenet-go/shufflenet/weights"
)

// The Teach mode's side of the worker: a picture's pooled features (an
// example of a class), training a head on examples, and a head to classify
// with (see engine/head and weights/head.go).

// maxExamples bounds the examples one training takes: 10,000 examples of
// 480 features (Megvii g3 0.5x) are 19 MB of floats, of 1,536 (the widest
// model) 61 MB, which the page holds anyway.
const maxExamples = 10_000

// cropPicture takes the picture args[1:4] (pixels, width, height) into
// the worker's picture buffer and crops it for m, as classify does.
func (in *inference) cropPicture(m *loadedModel, args []js.Value) error {
	w, h := args[1].Int(), args[2].Int()
	if w < 1 || h < 1 || w*h > maxPicturePixels {
		return fmt.Errorf("a picture of %dx%d pixels: want 1 to %d pixels", w, h, maxPicturePixels)
	}
	if n := args[0].Get("length").Int(); n != 4*w*h {
		return fmt.Errorf("got %d bytes of pixels, want %d (%dx%d RGBA)", n, 4*w*h, w, h)
	}
	if cap(in.picture) < 4*w*h {
		in.picture = make([]byte, 4*w*h)
	}
	picture := &image.NRGBA{Pix: in.picture[:4*w*h], Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
	js.CopyBytesToGo(picture.Pix, args[0])
	in.cropper.CenterInto(m.crop, picture, m.arch.Input.ResizeShort)
	return m.arch.Input.FromRGBA(m.input, m.crop.Pix, m.crop.Stride)
}

// features(name, pixels, width, height) -> {features: Float32Array}: the
// picture's pooled features, the input of the model's classifier and of
// any head trained on it.
func (in *inference) features(_ js.Value, args []js.Value) any {
	if len(args) < 4 {
		return failure("features(name, pixels, width, height)")
	}
	m, ok := in.models[args[0].String()]
	if !ok {
		return failure(fmt.Sprintf("model %q is not loaded", args[0].String()))
	}
	if err := in.cropPicture(m, args[1:4]); err != nil {
		return failure(err.Error())
	}
	if _, err := m.net.Forward(m.input); err != nil {
		return failure(err.Error())
	}
	f, err := m.net.Features()
	if err != nil {
		return failure(err.Error())
	}
	out := js.Global().Get("Float32Array").New(len(f))
	copyFloatsToJS(out, f)
	return js.ValueOf(map[string]any{"features": out, "transfer": []any{out.Get("buffer")}})
}

// train(name, classes: string[], features: Float32Array, labels:
// Int32Array, progress(epoch, epochs, loss)) -> {head: Uint8Array (a head
// file), accuracy, ms}: a head trained on the examples (features one
// example after another, labels their classes), for model name.
func (in *inference) train(_ js.Value, args []js.Value) any {
	if len(args) < 4 {
		return failure("train(name, classes, features, labels, progress)")
	}
	name := args[0].String()
	m, ok := in.models[name]
	if !ok {
		return failure(fmt.Sprintf("model %q is not loaded", name))
	}
	classes := make([]string, args[1].Length())
	for i := range classes {
		classes[i] = args[1].Index(i).String()
	}
	width := m.arch.FeatureChannels()
	n := args[3].Length()
	if n > maxExamples {
		return failure(fmt.Sprintf("%d examples: at most %d can be trained on", n, maxExamples))
	}
	if got := args[2].Length(); got != n*width {
		return failure(fmt.Sprintf("got %d feature values for %d examples, want %d each", got, n, width))
	}
	all := make([]float32, n*width)
	copyFloatsToGo(all, args[2])
	samples := make([]head.Sample, n)
	for i := range samples {
		samples[i] = head.Sample{Features: all[i*width : (i+1)*width], Class: args[3].Index(i).Int()}
	}
	var progress func(epoch, epochs int, loss float64)
	if len(args) > 4 && args[4].Type() == js.TypeFunction {
		report := args[4]
		progress = func(epoch, epochs int, loss float64) {
			if epoch%10 == 0 || epoch == epochs {
				report.Invoke(epoch, epochs, loss)
			}
		}
	}
	start := time.Now()
	h, err := head.Train(classes, samples, head.Options{Progress: progress})
	if err != nil {
		return failure(err.Error())
	}
	ms := milliseconds(time.Since(start))
	correct := 0
	for _, s := range samples {
		if top, err := h.Top(s.Features, 1); err == nil && top[0].Index == s.Class {
			correct++
		}
	}
	file, err := weights.EncodeHead(weights.HeadFile{Base: m.base(), Head: h})
	if err != nil {
		return failure(err.Error())
	}
	bytes := js.Global().Get("Uint8Array").New(len(file))
	js.CopyBytesToJS(bytes, file)
	return js.ValueOf(map[string]any{"head": bytes, "accuracy": float64(correct) / float64(n), "ms": ms})
}

// head(name, id, file: Uint8Array) -> {classes}: keep the head in file
// (checked against the model) under id, for classifications that ask for
// it (see classify); a file for the same id replaces the one before.
func (in *inference) useHead(_ js.Value, args []js.Value) any {
	if len(args) < 3 {
		return failure("head(name, id, file)")
	}
	m, ok := in.models[args[0].String()]
	if !ok {
		return failure(fmt.Sprintf("model %q is not loaded", args[0].String()))
	}
	f, err := weights.DecodeHead(bytesOf(args[2]))
	if err != nil {
		return failure(err.Error())
	}
	if err := f.Matches(m.base()); err != nil {
		return failure(err.Error())
	}
	if m.heads == nil {
		m.heads = map[string]*head.Head{}
	}
	m.heads[args[1].String()] = f.Head
	classes := make([]any, len(f.Head.Classes))
	for i, c := range f.Head.Classes {
		classes[i] = c
	}
	return js.ValueOf(map[string]any{"classes": classes})
}

// base is what a head trained on m must have been trained on.
func (m *loadedModel) base() weights.HeadBase {
	return weights.HeadBase{Model: m.name, SHA256: m.sha256, Features: m.arch.FeatureChannels()}
}
