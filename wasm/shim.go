//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/weights"

	"honnef.co/go/js/dom/v2"
)

// shim is the page's JavaScript runtime (startRuntime in
// web/static/engine.js) as the interface uses it: the model list, the
// inference workers, and the browser capabilities Go has no binding for
// (decoding a picture onto a canvas, the camera, the next display frame).
// Each method is one call across; what stays JavaScript (a picture's
// pixels, a heat map) is opaque here and only handed back.
type shim struct{ js.Value }

// modelInfo is a model as /api/models lists it.
type modelInfo struct {
	name, family string
	bytes        int
	top1         float64 // ImageNet top-1 accuracy in %, when known
}

// readyModel is a model the workers have loaded: what the interface needs
// to feed it.
type readyModel struct {
	name         string
	size, resize int    // the crop's side, and the short side it is cut from
	kernels      string // engine.Kernels(): "simd128-fma", "simd128" or "portable"
	arch         engine.Architecture
}

// picture is a picture's pixels at their size, {pixels, width, height}
// in JavaScript: the engine crops and resizes them. A zero picture is none.
type picture struct{ js.Value }

func (p picture) ok() bool { return p.Truthy() }

// result is one classification.
type result struct {
	top     []prediction
	ms      float64
	input   js.Value   // the crop the network saw, size x size RGBA
	heatmap js.Value   // the top class's activation map, RGBA over the crop, or undefined
	inside  js.Value   // what the explorer asked for (see wasm/explore.go), or undefined
	model   readyModel // the model that gave it
}

type prediction struct {
	index int
	label string
	prob  float64
}

func (s shim) models() []modelInfo {
	list := s.Get("models")
	out := make([]modelInfo, list.Length())
	for i := range out {
		m := list.Index(i)
		out[i] = modelInfo{name: m.Get("name").String(), family: m.Get("family").String(), bytes: m.Get("bytes").Int()}
		if t := m.Get("top1"); t.Type() == js.TypeNumber {
			out[i].top1 = t.Float()
		}
	}
	return out
}

func (s shim) defaultModel() string { return s.Get("defaultModel").String() }

// loadModel has the workers load a model (downloading it once per page),
// reporting the download's progress.
func (s shim) loadModel(name string, progress func(loaded, total float64)) (readyModel, error) {
	report := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) == 2 {
			progress(args[0].Float(), args[1].Float())
		}
		return nil
	})
	defer report.Release()
	info, err := await(s.Call("loadModel", name, report))
	if err != nil {
		return readyModel{}, err
	}
	m := readyModel{name: name, size: info.Get("size").Int(), resize: info.Get("resize").Int(), kernels: info.Get("kernels").String()}
	arch, err := weights.ParseArchitecture(info.Get("arch").String())
	if err != nil {
		return readyModel{}, fmt.Errorf("the engine described %s wrongly: %v", name, err)
	}
	m.arch = arch
	return m, nil
}

// classify runs model on a picture in a free worker. With skipIfBusy it
// answers nil at once when every worker is busy. A non-nil look has the
// engine look inside the network too; a non-nil head answers with its
// classes instead of the model's.
func (s shim) classify(m readyModel, p picture, top int, heatmap, skipIfBusy bool, look *exploreRequest, h *headInUse) (*result, error) {
	inside := js.Undefined()
	if look != nil {
		inside = js.ValueOf(map[string]any{"unit": look.unit, "shuffle": look.shuffle})
	}
	res, err := await(s.Call("classify", m.name, p.Value, top, heatmap, skipIfBusy, inside, h.value()))
	if err != nil || !res.Truthy() {
		return nil, err
	}
	return &result{top: predictionsOf(res.Get("top")), ms: res.Get("ms").Float(), input: res.Get("input"), heatmap: res.Get("heatmap"), inside: res.Get("inside")}, nil
}

// predictionsOf reads a list of predictions as the engine answers them
// ([{index, label, prob}], see topJS).
func predictionsOf(list js.Value) []prediction {
	top := make([]prediction, list.Length())
	for i := range top {
		p := list.Index(i)
		top[i] = prediction{index: p.Get("index").Int(), label: p.Get("label").String(), prob: p.Get("prob").Float()}
	}
	return top
}

// idle reports whether a worker is free to classify now.
func (s shim) idle() bool { return s.Call("idle").Bool() }

// pictureFromBlob decodes an image file (with the browser's decoders,
// which know more formats than Go's and run faster) and answers its pixels.
func (s shim) pictureFromBlob(blob js.Value) (picture, error) {
	v, err := await(s.Call("pictureFromBlob", blob))
	return picture{v}, err
}

// pictureFromVideo answers the video's current frame, or no picture
// before the first frame.
func (s shim) pictureFromVideo(video *dom.HTMLVideoElement) picture {
	return picture{s.Call("pictureFromVideo", video.Underlying())}
}

// startCamera plays the camera in video. Its errors start with the
// browser's name for them ("NotAllowedError: ...").
func (s shim) startCamera(video *dom.HTMLVideoElement) error {
	_, err := await(s.Call("startCamera", video.Underlying()))
	return err
}

func (s shim) stopCamera(video *dom.HTMLVideoElement) { s.Call("stopCamera", video.Underlying()) }

// nextFrame waits for the browser's next display frame.
func (s shim) nextFrame() error {
	_, err := await(s.Call("nextFrame"))
	return err
}

// features answers a picture's pooled features with model m: one example
// for the Teach mode.
func (s shim) features(m readyModel, p picture) ([]float32, error) {
	v, err := await(s.Call("features", m.name, p.Value))
	if err != nil {
		return nil, err
	}
	f := make([]float32, v.Length())
	copyFloatsToGo(f, v)
	return f, nil
}

// trained is a head the workers trained: its file, and how it did.
type trained struct {
	file     js.Value // the head file's bytes (Uint8Array)
	accuracy float64  // on the examples it was trained on
	ms       float64
}

// train has a worker train a head for model m on examples (features one
// after another, labels their classes' indices), reporting progress.
func (s shim) train(m readyModel, classes []string, features []float32, labels []int32, progress func(epoch, epochs int, loss float64)) (trained, error) {
	report := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) == 3 {
			progress(args[0].Int(), args[1].Int(), args[2].Float())
		}
		return nil
	})
	defer report.Release()
	f := js.Global().Get("Float32Array").New(len(features))
	copyFloatsToJS(f, features)
	l := js.Global().Get("Int32Array").New(len(labels))
	for i, v := range labels {
		l.SetIndex(i, v)
	}
	names := make([]any, len(classes))
	for i, c := range classes {
		names[i] = c
	}
	v, err := await(s.Call("train", m.name, names, f, l, report))
	if err != nil {
		return trained{}, err
	}
	return trained{file: v.Get("head"), accuracy: v.Get("accuracy").Float(), ms: v.Get("ms").Float()}, nil
}

// headInUse is a head the workers answer with instead of the model's
// classes: its id (a widget's head file's URL, or the Teach mode's), the
// model it was trained for, and the head file's bytes (a Uint8Array).
type headInUse struct {
	id, model string
	file      js.Value
}

// value is the head as the shim takes it, or undefined for none.
func (h *headInUse) value() js.Value {
	if h == nil {
		return js.Undefined()
	}
	return js.ValueOf(map[string]any{"id": h.id, "file": h.file})
}

// checkHead has a worker take the head, which the engine checks against
// the model (a file that is no head, or another model's, is refused with
// the engine's reason), and answers its classes.
func (s shim) checkHead(h *headInUse) ([]string, error) {
	v, err := await(s.Call("checkHead", h.model, h.value()))
	if err != nil {
		return nil, err
	}
	classes := make([]string, v.Get("classes").Length())
	for i := range classes {
		classes[i] = v.Get("classes").Index(i).String()
	}
	return classes, nil
}

// download offers bytes to the reader as a file.
func (s shim) download(bytes js.Value, filename, mimeType string) {
	s.Call("download", bytes, filename, mimeType)
}
