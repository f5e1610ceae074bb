//go:build js && wasm

package main

import (
	"encoding/json"
	"fmt"
	"syscall/js"

	"github.com/shufflenet-go/shufflenet/engine"

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
	kernels      string // "simd128" or "portable"
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
	if err := json.Unmarshal([]byte(info.Get("arch").String()), &m.arch); err != nil {
		return readyModel{}, fmt.Errorf("the engine described %s wrongly: %v", name, err)
	}
	return m, nil
}

// classify runs model on a picture in a free worker. With skipIfBusy it
// answers nil at once when every worker is busy. A non-nil look has the
// engine look inside the network too.
func (s shim) classify(m readyModel, p picture, top int, heatmap, skipIfBusy bool, look *exploreRequest) (*result, error) {
	inside := js.Undefined()
	if look != nil {
		inside = js.ValueOf(map[string]any{"unit": look.unit, "shuffle": look.shuffle})
	}
	res, err := await(s.Call("classify", m.name, p.Value, top, heatmap, skipIfBusy, inside))
	if err != nil || !res.Truthy() {
		return nil, err
	}
	list := res.Get("top")
	r := &result{top: make([]prediction, list.Length()), ms: res.Get("ms").Float(), input: res.Get("input"), heatmap: res.Get("heatmap"), inside: res.Get("inside")}
	for i := range r.top {
		p := list.Index(i)
		r.top[i] = prediction{index: p.Get("index").Int(), label: p.Get("label").String(), prob: p.Get("prob").Float()}
	}
	return r, nil
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
