//go:build js && wasm

package main

import (
	"fmt"
	"strings"
	"syscall/js"
	"time"

	"honnef.co/go/js/dom/v2"
)

// page is the demo's controller: it wires the interface's events, asks the
// shim (web/static/app.js) for pixels and for inference by the workers, and
// renders what comes back. Everything it does to the page goes through
// dom/v2; the shim only does what needs browser APIs Go has no binding for
// (canvas drawing, the camera, workers, streaming downloads).
type page struct {
	doc        dom.HTMLDocument
	shim, pool js.Value
	models     []modelInfo
	model      modelInfo // the one in use
	info       js.Value  // the workers' description of it: input size, resize, camSize
	picture    *dom.HTMLCanvasElement
	overlay    *dom.HTMLCanvasElement
	video      *dom.HTMLVideoElement
	heatmap    *dom.HTMLInputElement // whether to show the heat map
	last       js.Value              // the last result, for redrawing the heat map
	lastPixels js.Value              // the last picture's pixels, to classify again with another model or for its heat map
	camera     *camera
}

// modelInfo is a model as /api/models describes it.
type modelInfo struct {
	name, url, sha256, family string
	bytes                     int
	top1                      float64
	def                       bool
}

// camera is one webcam session.
type camera struct {
	stopped bool
	done    []time.Time // when recent frames were classified, for frames/s
	total   int
}

func runPage() {
	cfg := js.Global().Get("shufflenetPage")
	doc := dom.GetWindow().Document().(dom.HTMLDocument)
	p := &page{
		doc: doc, shim: cfg.Get("shim"), pool: cfg.Get("shim").Get("pool"),
	}
	p.picture = &dom.HTMLCanvasElement{BasicHTMLElement: p.byID("picture")}
	p.overlay = &dom.HTMLCanvasElement{BasicHTMLElement: p.byID("overlay")}
	p.video = &dom.HTMLVideoElement{HTMLMediaElement: &dom.HTMLMediaElement{BasicHTMLElement: p.byID("video")}}
	p.heatmap = &dom.HTMLInputElement{BasicHTMLElement: p.byID("heatmap")}
	list := cfg.Get("models")
	for i := range list.Length() {
		m := list.Index(i)
		p.models = append(p.models, modelInfo{
			name: m.Get("name").String(), url: m.Get("url").String(), sha256: m.Get("sha256").String(),
			family: m.Get("family").String(), bytes: m.Get("bytes").Int(), top1: m.Get("top1").Float(), def: m.Get("default").Bool(),
		})
	}
	p.fillModelPicker()
	p.wire()
	// The embedding snippet names this server.
	snippet := p.byID("snippet")
	origin := js.Global().Get("location").Get("origin").String()
	snippet.SetTextContent(strings.ReplaceAll(snippet.TextContent(), "https://HOST", origin))
	initial := cfg.Get("initial")
	go p.useModel(p.find(initial.Get("name").String()), initial.Get("loading"))
}

// byID finds an element of the page. It wraps the element for dom/v2
// itself, as create does, because dom/v2's GetElementByID and
// CreateElement look for the element's most specific Go type by comparing
// its constructor with those of up to 70 kinds of HTML element, one
// JavaScript call each. On a first visit that search ran before V8 had
// optimized anything, and its 27 KB function was the costliest one V8
// then optimized during the first prediction (119 ms of compilation on a
// 2-core machine). Without it the linker also leaves out dom/v2's element
// types: the engine's wasm went from 5.3 to 3.8 MB.
func (p *page) byID(id string) *dom.BasicHTMLElement {
	return htmlElement(p.doc.Underlying().Call("getElementById", id))
}

// create makes a new element (see byID).
func (p *page) create(tag string) *dom.BasicHTMLElement {
	return htmlElement(p.doc.Underlying().Call("createElement", tag))
}

func htmlElement(v js.Value) *dom.BasicHTMLElement {
	return &dom.BasicHTMLElement{BasicElement: &dom.BasicElement{BasicNode: &dom.BasicNode{Value: v}}}
}

func (p *page) find(name string) modelInfo {
	for _, m := range p.models {
		if m.name == name {
			return m
		}
	}
	return modelInfo{name: name}
}

func (p *page) fillModelPicker() {
	sel := p.byID("model")
	for _, m := range p.models {
		opt := &dom.HTMLOptionElement{BasicHTMLElement: p.create("option")}
		opt.SetValue(m.name)
		label := fmt.Sprintf("%s (%s, %.0f KB", m.name, m.family, float64(m.bytes)/1024)
		if m.top1 > 0 {
			label += fmt.Sprintf(", %.1f%% top-1", m.top1)
		}
		opt.SetTextContent(label + ")")
		if m.def {
			opt.SetAttribute("selected", "")
		}
		sel.AppendChild(opt)
	}
}

// wire connects the interface's events. Handlers must not block the
// browser, so anything that waits runs in a goroutine.
func (p *page) wire() {
	file := &dom.HTMLInputElement{BasicHTMLElement: p.byID("file")}
	file.AddEventListener("change", false, func(dom.Event) {
		if files := file.Files(); len(files) > 0 {
			go p.classifyBlob(files[0].Value)
		}
		file.SetValue("") // choosing the same file again fires change again
	})

	drop := p.byID("drop")
	for _, typ := range []string{"dragenter", "dragover"} {
		drop.AddEventListener(typ, false, func(e dom.Event) {
			e.PreventDefault()
			drop.Class().Add("dragging")
		})
	}
	drop.AddEventListener("dragleave", false, func(dom.Event) { drop.Class().Remove("dragging") })
	drop.AddEventListener("drop", false, func(e dom.Event) {
		e.PreventDefault()
		drop.Class().Remove("dragging")
		if f := firstFile(e.Underlying().Get("dataTransfer")); f.Truthy() {
			go p.classifyBlob(f)
		}
	})
	p.doc.AddEventListener("paste", false, func(e dom.Event) {
		if f := firstFile(e.Underlying().Get("clipboardData")); f.Truthy() {
			e.PreventDefault()
			go p.classifyBlob(f)
		}
	})

	p.byID("camera").AddEventListener("click", false, func(dom.Event) { go p.toggleCamera() })
	p.heatmap.AddEventListener("change", false, func(dom.Event) { p.drawHeatmap() })
	model := &dom.HTMLSelectElement{BasicHTMLElement: p.byID("model")}
	model.AddEventListener("change", false, func(dom.Event) {
		go p.useModel(p.find(model.Value()), js.Null())
	})
}

// firstFile returns the first file of a DataTransfer (drop or paste), or null.
func firstFile(dt js.Value) js.Value {
	if !dt.Truthy() || dt.Get("files").Length() == 0 {
		return js.Null()
	}
	return dt.Get("files").Index(0)
}

// setReady enables or disables the controls that need a loaded model.
func (p *page) setReady(ready bool) {
	for _, id := range []string{"file", "camera", "model"} {
		el := p.byID(id)
		if ready {
			el.RemoveAttribute("disabled")
			el.RemoveAttribute("aria-disabled")
		} else {
			el.SetAttribute("disabled", "")
			el.SetAttribute("aria-disabled", "true")
		}
	}
}

// useModel loads a model into the workers and classifies the current
// picture again with it. loading is the shim's promise of the model loaded
// when the shim started loading it (the first model, while this controller
// started); otherwise useModel downloads its weights and loads them.
func (p *page) useModel(m modelInfo, loading js.Value) {
	p.setReady(false)
	defer p.setReady(true)
	if !loading.Truthy() {
		bytes, err := await(p.shim.Call("fetchBytes", m.url, m.bytes))
		if err != nil {
			p.showError(fmt.Sprintf("Could not download the weights of %s: %v. Check the connection and pick the model again.", m.name, err))
			return
		}
		loading = p.pool.Call("load", m.name, bytes, m.sha256)
	}
	info, err := await(loading)
	if err != nil {
		p.showError(fmt.Sprintf("Could not load %s: %v", m.name, err))
		return
	}
	p.model, p.info = m, info
	p.clearError()
	kernels := ""
	if info.Get("kernels").String() == "simd128" {
		kernels = " with SIMD"
	}
	p.byID("status").SetTextContent(fmt.Sprintf("Ready: %s runs in your browser%s. Choose a picture.", m.name, kernels))
	if p.lastPixels.Truthy() && p.camera == nil {
		p.classifyPixels(p.lastPixels)
	}
}

// classifyBlob classifies a picked, dropped or pasted file.
func (p *page) classifyBlob(blob js.Value) {
	if p.info.IsUndefined() {
		return // still loading; the controls are disabled
	}
	if p.camera != nil {
		p.stopCamera()
	}
	pixels, err := await(p.shim.Call("pictureFromBlob", blob, p.picture.Underlying(), p.info.Get("size"), p.info.Get("resize")))
	if err != nil {
		p.showError(fmt.Sprintf("%q is not a picture this browser can open (%v). Try a JPEG, PNG, GIF or WebP file.", blob.Get("name").String(), err))
		return
	}
	p.lastPixels = pixels
	p.byID("caption").SetTextContent(blob.Get("name").String())
	p.classifyPixels(pixels)
}

func (p *page) classifyPixels(pixels js.Value) {
	res, err := await(p.pool.Call("classify", p.model.name, pixels, 5, p.heatmapShown(), false))
	if err != nil {
		p.showError("Classification failed: " + err.Error())
		return
	}
	p.clearError()
	p.render(res)
}

// render shows a result: the top-5 with bars, a spoken summary, the time.
func (p *page) render(res js.Value) {
	p.last = res
	top := res.Get("top")
	list := p.byID("top")
	list.SetInnerHTML("")
	var spoken []string
	for i := range top.Length() {
		pred := top.Index(i)
		label, prob := pred.Get("label").String(), pred.Get("prob").Float()
		li := p.create("li")
		name := p.create("span")
		name.Class().Add("label")
		name.SetTextContent(label)
		pct := p.create("span")
		pct.Class().Add("prob")
		pct.SetTextContent(fmt.Sprintf("%.1f%%", 100*prob))
		bar := p.create("span")
		bar.Class().Add("bar")
		bar.SetAttribute("aria-hidden", "true")
		bar.Style().SetProperty("width", fmt.Sprintf("%.1f%%", 100*prob), "")
		li.SetAttribute("data-index", fmt.Sprint(pred.Get("index").Int()))
		li.AppendChild(name)
		li.AppendChild(pct)
		li.AppendChild(bar)
		list.AppendChild(li)
		spoken = append(spoken, fmt.Sprintf("%s %.0f%%", label, 100*prob))
	}
	if len(spoken) > 0 && p.camera == nil {
		p.byID("summary").SetTextContent("Most likely " + spoken[0] + ". Then " + strings.Join(spoken[1:], ", ") + ".")
	}
	p.byID("status").SetTextContent(fmt.Sprintf("%.1f ms with %s, in your browser.", res.Get("ms").Float(), p.model.name))
	p.drawHeatmap()
}

// heatmapShown reports whether the heat map is asked for: the workers
// render it only then, as it costs a first prediction about 15 ms.
func (p *page) heatmapShown() bool { return p.heatmap.Checked() }

// drawHeatmap shows or hides the class activation map of the last result
// (rendered by the worker, see heatmap.Render). A picture classified while
// the map was not asked for is classified again to get it.
func (p *page) drawHeatmap() {
	show := p.heatmapShown()
	overlay := js.Undefined()
	if p.last.Truthy() {
		overlay = p.last.Get("heatmap")
	}
	if show && !overlay.Truthy() && p.camera == nil && p.lastPixels.Truthy() {
		go p.classifyPixels(p.lastPixels) // asks for the map this time
	}
	if !show || !overlay.Truthy() {
		p.overlay.SetAttribute("hidden", "")
		return
	}
	p.shim.Call("drawRGBA", p.overlay.Underlying(), overlay, p.info.Get("size"))
	p.overlay.RemoveAttribute("hidden")
}

func (p *page) toggleCamera() {
	if p.camera != nil {
		p.stopCamera()
		return
	}
	c := &camera{}
	p.camera = c
	button := p.byID("camera")
	button.SetTextContent("Stop webcam")
	button.SetAttribute("aria-pressed", "true")
	if _, err := await(p.shim.Call("startCamera", p.video.Underlying())); err != nil {
		p.stopCamera()
		p.showError(cameraError(err))
		return
	}
	p.clearError()
	p.byID("caption").SetTextContent("Live from the webcam")
	p.cameraLoop(c)
}

// cameraLoop draws every video frame and sends one for classification
// whenever a worker is free; frames that arrive while all are busy are
// skipped, never queued, so the results stay live.
func (p *page) cameraLoop(c *camera) {
	size, resize := p.info.Get("size"), p.info.Get("resize")
	for !c.stopped {
		if _, err := await(p.shim.Call("nextFrame")); err != nil {
			return
		}
		if c.stopped {
			return
		}
		if !p.pool.Call("idle").Bool() {
			continue // every worker is busy: skip this frame
		}
		pixels := p.shim.Call("pictureFromVideo", p.video.Underlying(), size, resize)
		if !pixels.Truthy() {
			continue
		}
		promise := p.pool.Call("classify", p.model.name, pixels, 5, p.heatmapShown(), true)
		go func() {
			res, err := await(promise)
			if err != nil || !res.Truthy() || c.stopped {
				return
			}
			p.lastPixels = pixels
			p.render(res)
			p.countFrame(c)
		}()
	}
}

// countFrame updates frames/s over the last two seconds (and the running
// count in window.shufflenetFrames, for benchmarks).
func (p *page) countFrame(c *camera) {
	now := time.Now()
	c.total++
	js.Global().Set("shufflenetFrames", c.total)
	c.done = append(c.done, now)
	for len(c.done) > 0 && now.Sub(c.done[0]) > 2*time.Second {
		c.done = c.done[1:]
	}
	if len(c.done) > 1 {
		fps := float64(len(c.done)-1) / now.Sub(c.done[0]).Seconds()
		p.byID("fps").SetTextContent(fmt.Sprintf("%.1f frames/s", fps))
	}
}

func (p *page) stopCamera() {
	if p.camera == nil {
		return
	}
	p.camera.stopped = true
	p.camera = nil
	p.shim.Call("stopCamera", p.video.Underlying())
	if p.lastPixels.Truthy() { // keep the last classified frame in view
		p.shim.Call("drawRGBA", p.picture.Underlying(), p.lastPixels, p.info.Get("size"))
	}
	button := p.byID("camera")
	button.SetTextContent("Start webcam")
	button.SetAttribute("aria-pressed", "false")
	p.byID("fps").SetTextContent("")
}

// cameraError turns getUserMedia's error names into advice.
func cameraError(err error) string {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "NotAllowedError"), strings.HasPrefix(msg, "SecurityError"):
		return "Camera access was denied. Allow the camera for this site in the browser's settings to use the webcam."
	case strings.HasPrefix(msg, "NotFoundError"), strings.HasPrefix(msg, "OverconstrainedError"):
		return "No camera was found. Connect one, or choose a picture instead."
	case strings.HasPrefix(msg, "NotReadableError"):
		return "The camera is in use by another application."
	}
	return "The webcam could not start: " + msg
}

func (p *page) showError(msg string) {
	el := p.byID("error")
	el.SetTextContent(msg)
	el.RemoveAttribute("hidden")
}

func (p *page) clearError() {
	el := p.byID("error")
	el.SetTextContent("")
	el.SetAttribute("hidden", "")
}
