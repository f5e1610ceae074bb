//go:build js && wasm

package main

import (
	"fmt"
	"image"
	"runtime"
	"runtime/debug"
	"syscall/js"
	"time"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/engine/classify"
	"github.com/shufflenet-go/shufflenet/engine/crop"
	"github.com/shufflenet-go/shufflenet/engine/head"
	"github.com/shufflenet-go/shufflenet/engine/heatmap"
	"github.com/shufflenet-go/shufflenet/weights"
)

// inference is the worker role: models by name, each with its network and
// the buffers a classification needs, allocated once, and the picture the
// page hands over, in a buffer that grows to the largest one seen.
type inference struct {
	models  map[string]*loadedModel
	byID    []*loadedModel // models by the id load answers, for the tensor exports (tensor.go)
	picture []byte         // the last picture the page handed over, reused
	cropper crop.Cropper   // its scratch, reused: a webcam's frames allocate nothing
}

// maxPicturePixels bounds the pictures the page may hand over: the shim
// (web/static/engine.js) scales larger ones down to 16 MP first.
const maxPicturePixels = 16_000_000

type loadedModel struct {
	name    string
	sha256  string // the weights file's, as the model list gives it
	model   *weights.Model
	net     *engine.Network
	arch    engine.Architecture
	crop    *image.RGBA // the picture's centre, resized: what the network sees
	input   []float32   // the network's input tensor
	cam     []float32   // class activation map of the top class
	overlay []byte      // cam rendered as an RGBA overlay of the crop

	explored exploration           // the explorer's, on the /inside/ page
	heads    map[string]*head.Head // heads the page asked to classify with, by id (see useHead)
}

// serveInference exports globalThis.shufflenet = {load, classify, run,
// features, train, head, collect, prime} for web/static/worker.js and the benchmarks. They return a
// plain object, with an "error" field when something is wrong, because
// exceptions do not cross the boundary.
func serveInference() {
	in := &inference{models: map[string]*loadedModel{}}
	tensorModels = in
	js.Global().Set("shufflenet", js.ValueOf(map[string]any{
		"load":     guarded(in.load),
		"classify": guarded(in.classify),
		"run":      guarded(in.run),
		"features": guarded(in.features),
		"train":    guarded(in.train),
		"head":     guarded(in.useHead),
		"collect":  guarded(collect),
		"prime":    guarded(in.prime),
	}))
}

// guarded exports fn, turning a panic into an error answer: a panic would
// otherwise end the Go program, and with it the worker, for the rest of
// the page's life.
func guarded(fn func(js.Value, []js.Value) any) js.Func {
	return js.FuncOf(func(this js.Value, args []js.Value) (answer any) {
		defer func() {
			if r := recover(); r != nil {
				answer = failure(fmt.Sprintf("internal error: %v", r))
			}
		}()
		return fn(this, args)
	})
}

// load(name, bytes: Uint8Array, sha256) -> model description. The shim has
// checked the file's sha256 (which a head trained on the model records) (the browser's own digest is free; Go's would
// add its crypto packages to the download).
func (in *inference) load(_ js.Value, args []js.Value) any {
	if len(args) < 2 {
		return failure("load(name, bytes)")
	}
	// While a model loads the heap grows from nearly nothing to the
	// model's size, and the collector would run two or three times to
	// find almost no garbage (only the file's bytes): in a browser that
	// was about 40 ms of the first load. The worker collects once the
	// page has the model (see collect).
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	name, data := args[0].String(), bytesOf(args[1])
	m, err := weights.Decode(data)
	if err != nil {
		return failure(fmt.Sprintf("cannot load %s: %v", name, err))
	}
	net, err := m.Network()
	if err != nil {
		return failure(fmt.Sprintf("cannot load %s: %v", name, err))
	}
	a := m.Arch
	side := a.FeatureSize()
	loaded := &loadedModel{
		name: name, sha256: optionalString(args[2:]), model: m, net: net, arch: a,
		crop:    image.NewRGBA(image.Rect(0, 0, a.InputSize(), a.InputSize())),
		input:   make([]float32, 3*a.InputSize()*a.InputSize()),
		cam:     make([]float32, side*side),
		overlay: make([]byte, 4*a.InputSize()*a.InputSize()),
	}
	id := in.register(loaded)
	return js.ValueOf(map[string]any{
		"name": name, "family": string(a.Family), "groups": a.Groups, "width": a.Width, "arch": m.ArchitectureJSON,
		"size": a.InputSize(), "resize": a.Input.ResizeShort, "classes": a.Classes,
		"kernels": engine.Kernels(), "id": id,
	})
}

// register keeps m under its name, replacing a model of that name, which
// keeps its id; it answers m's id.
func (in *inference) register(m *loadedModel) int {
	in.models[m.name] = m
	for id, old := range in.byID {
		if old.name == m.name {
			in.byID[id] = m
			return id
		}
	}
	in.byID = append(in.byID, m)
	return len(in.byID) - 1
}

// classify(name, pixels: Uint8ClampedArray, width, height, top, heatmap: bool, inside?, head: id)
// -> {top: [{index, label, prob}], ms, cropMs, input, heatmap?, inside?, transfer}: pixels
// are a picture of any size as RGBA, not premultiplied (a canvas's
// getImageData), which classify crops and resizes with crop's CenterInto,
// the same code as the CLI and the server; input is that crop (size*size
// RGBA, to show), ms the forward pass's time, cropMs the crop's, and
// heatmap the top class's activation map as an RGBA overlay of the crop.
// With inside ({unit, shuffle}, the /inside/ page's), the answer has the
// explorer's look inside the network too (see explore). transfer lists the
// answer's pixel buffers, which move to the page rather than being copied.
// With a head's id (see useHead), the classes are the head's.
func (in *inference) classify(_ js.Value, args []js.Value) any {
	if len(args) < 6 {
		return failure("classify(name, pixels, width, height, top, heatmap)")
	}
	m, ok := in.models[args[0].String()]
	if !ok {
		return failure(fmt.Sprintf("model %q is not loaded", args[0].String()))
	}
	cropStart := time.Now()
	if err := in.cropPicture(m, args[1:4]); err != nil {
		return failure(err.Error())
	}
	cropMs := float64(time.Since(cropStart).Microseconds()) / 1000
	// On the /inside/ page the explorer's observed pass is the
	// classification, unless it looks at the network without its shuffle.
	req, exploring := parseExploreRequest(arg(args[6:]))
	var inside map[string]any
	var logits []float32
	var err error
	start := time.Now()
	if exploring && req.shuffle {
		inside, logits, err = m.explore(req)
	} else {
		logits, err = m.net.Forward(m.input)
	}
	if err != nil {
		return failure(err.Error())
	}
	ms := float64(time.Since(start).Microseconds()) / 1000
	if inside != nil {
		ms = inside["ms"].(float64) // the network's part of the pass, not its drawing
	}
	preds := classify.Top(logits, args[4].Int())
	var headID string
	if len(args) > 7 {
		headID = optionalString(args[7:])
	}
	withHead := headID != ""
	if withHead {
		// A head's classes, on the same pass's features.
		h, ok := m.heads[headID]
		if !ok {
			return failure(fmt.Sprintf("no head %q for model %s", headID, m.name))
		}
		features, err := m.net.Features()
		if err == nil {
			preds, err = h.Top(features, args[4].Int())
		}
		if err != nil {
			return failure(err.Error())
		}
	}
	input := js.Global().Get("Uint8ClampedArray").New(len(m.crop.Pix))
	js.CopyBytesToJS(input, m.crop.Pix)
	out := map[string]any{"top": topJS(preds), "ms": ms, "cropMs": cropMs, "input": input}
	transfer := []any{input.Get("buffer")}
	if exploring {
		if inside == nil {
			if inside, _, err = m.explore(req); err != nil {
				return failure(err.Error())
			}
		}
		out["inside"] = inside
		transfer = append(transfer, pixelBuffers(inside)...)
	}
	if args[5].Truthy() && len(preds) > 0 && !withHead { // a head's classes have no map of the network's
		if err := m.net.ClassActivationMap(preds[0].Index, m.cam); err != nil {
			return failure(err.Error())
		}
		heatmap.Render(m.overlay, m.cam, m.arch.FeatureSize(), m.arch.InputSize())
		rgba := js.Global().Get("Uint8ClampedArray").New(len(m.overlay))
		js.CopyBytesToJS(rgba, m.overlay)
		out["heatmap"] = rgba
		transfer = append(transfer, rgba.Get("buffer"))
	}
	out["transfer"] = transfer
	return js.ValueOf(out)
}

// run(name, input: Float32Array) -> {logits: Float32Array}: the network
// on a tensor already in the model's input convention (3 x size x size,
// planar), as a benchmark or another program has it.
func (in *inference) run(_ js.Value, args []js.Value) any {
	if len(args) < 2 {
		return failure("run(name, input)")
	}
	m, ok := in.models[args[0].String()]
	if !ok {
		return failure(fmt.Sprintf("model %q is not loaded", args[0].String()))
	}
	if n := args[1].Get("length").Int(); n != len(m.input) {
		return failure(fmt.Sprintf("got %d input values, want %d (3x%dx%d)", n, len(m.input), m.arch.InputSize(), m.arch.InputSize()))
	}
	copyFloatsToGo(m.input, args[1])
	logits, err := m.net.Forward(m.input)
	if err != nil {
		return failure(err.Error())
	}
	out := js.Global().Get("Float32Array").New(len(logits))
	copyFloatsToJS(out, logits)
	return js.ValueOf(map[string]any{"logits": out})
}

// collect() runs the garbage collector; web/static/worker.js calls it
// after answering load, while the page is busy with the answer.
func collect(js.Value, []js.Value) any {
	runtime.GC()
	return nil
}

func failure(msg string) js.Value {
	return js.ValueOf(map[string]any{"error": msg})
}

// optionalString is the first of args if it is a string, or "".
func optionalString(args []js.Value) string {
	if v := arg(args); v.Type() == js.TypeString {
		return v.String()
	}
	return ""
}
