//go:build js && wasm

package main

import (
	"fmt"
	"maps"
	"strings"
	"syscall/js"

	"github.com/shufflenet-go/shufflenet/weights"
	"honnef.co/go/js/dom/v2"
)

// classifier is one classifier on a page: its markup, which it renders
// itself, and what it shows. The demo page and every widget are one each,
// differing only in their options.
type classifier struct {
	doc          dom.Document
	shim         shim
	opts         options
	parent, host *dom.BasicNode // where it renders, and what fires its events

	// The markup; the controls are nil when the options leave them out.
	frame      *dom.HTMLDivElement
	errorBox   *dom.HTMLParagraphElement
	file       *dom.HTMLInputElement
	drop       *dom.HTMLDivElement
	cameraBtn  *dom.HTMLButtonElement
	fps        *dom.HTMLSpanElement
	heatSwitch *dom.HTMLInputElement
	picker     *dom.HTMLSelectElement
	picture    *dom.HTMLCanvasElement
	overlay    *dom.HTMLCanvasElement
	video      *dom.HTMLVideoElement
	caption    *dom.BasicHTMLElement
	results    *dom.HTMLDivElement
	topList    resultList
	summary    *dom.HTMLParagraphElement
	status     *dom.HTMLParagraphElement
	progress   *dom.HTMLProgressElement
	listeners  []func() // each removes and releases a listener (see listen)

	model       readyModel // the one in use; zero while loading
	name        string     // what the picture is, for people ("cat.jpg", "Live from the webcam")
	source      string     // where it came from, for the page's script: src, a file's name, "webcam"
	lastPicture picture    // the picture, to classify again with another model or for its heat map
	last        *result    // its last result
	camera      *camera    // the webcam session, while one runs
	inside      *explorer  // the look inside the network, on the /inside/ page
	teach       *teacher   // the Teach mode, on the page
	head        *headInUse // a head whose classes answer instead of the model's: the Teach mode's, or the options'
	// run counts what the classifier was asked to show (options, a model,
	// a picture, the camera); each task notes its run as it starts and
	// drops its result if a newer one began meanwhile (see current).
	run       int
	unmounted bool
}

// resultRow is one line of the results: a class, its probability and a bar.
type resultRow struct {
	item        *dom.HTMLLIElement
	label, prob *dom.HTMLSpanElement
	bar         *dom.HTMLSpanElement
}

// mount renders a classifier into root and starts it.
func mount(doc dom.Document, s shim, root js.Value, opts options) *classifier {
	c := &classifier{doc: doc, shim: s, opts: opts}
	c.parent, c.host = mountPoint(root)
	c.render()
	c.do(c.start)
	return c
}

// next begins a task, superseding every task before it, and returns its run.
func (c *classifier) next() int {
	c.run++
	return c.run
}

// current reports whether the task of this run is still the newest of a
// mounted classifier; a task checks after each wait.
func (c *classifier) current(run int) bool { return run == c.run && !c.unmounted }

// do runs task in a goroutine of its own (handlers must not block the
// browser). A panic there shows as this classifier's error rather than
// ending the Go program, which serves every classifier of the page.
func (c *classifier) do(task func()) {
	go func() {
		defer func() {
			if r := recover(); r != nil {
				js.Global().Get("console").Call("error", fmt.Sprintf("ShuffleNet: %v", r))
				if !c.unmounted {
					c.showError(fmt.Sprintf("Something went wrong: %v. Reload the page.", r))
				}
			}
		}()
		task()
	}()
}

// update takes new options: the markup is rendered again if the controls
// changed, and the picture classified again.
func (c *classifier) update(opts options) {
	old := c.opts
	c.opts = opts
	if opts.upload != old.upload || opts.webcam != old.webcam || opts.picker != old.picker || opts.heatmapSwitch != old.heatmapSwitch ||
		opts.paste != old.paste || opts.theme != old.theme || !maps.Equal(opts.texts, old.texts) {
		c.stopCamera()
		c.forget()
		c.render()
	}
	c.do(c.start)
}

// unmount stops the classifier and removes its markup. Its tasks still
// waiting end at their next check, showing nothing.
func (c *classifier) unmount() {
	c.stopCamera()
	c.unmounted = true
	c.next()
	c.forget()
	c.lastPicture, c.last = picture{}, nil
	c.parent.SetTextContent("")
}

// listen adds a listener the classifier removes, and releases, when it
// renders again or is unmounted.
func (c *classifier) listen(target eventTarget, typ string, fn func(dom.Event)) {
	f := target.AddEventListener(typ, false, fn)
	c.listeners = append(c.listeners, func() {
		target.RemoveEventListener(typ, false, f)
		f.Release()
	})
}

// eventTarget is what dom/v2's nodes and document have in common for events.
type eventTarget interface {
	AddEventListener(typ string, useCapture bool, listener func(dom.Event)) js.Func
	RemoveEventListener(typ string, useCapture bool, listener js.Func)
}

// forget removes every listener added with listen.
func (c *classifier) forget() {
	for _, remove := range c.listeners {
		remove()
	}
	c.listeners = nil
}

// start loads the model the options name, then classifies the options'
// picture, if any, which downloads meanwhile (unless it is the picture
// already shown).
func (c *classifier) start() {
	run := c.next()
	src := c.opts.src
	var picture chan download
	if src != "" && (src != c.source || !c.lastPicture.ok()) {
		picture = make(chan download, 1)
		go func() {
			blob, err := fetchPicture(src)
			picture <- download{blob, err}
		}()
	}
	name := c.opts.model
	if name == "" {
		name = c.shim.defaultModel()
	}
	if name != c.model.name && (!c.useModel(run, name) || !c.current(run)) {
		return
	}
	if c.useOptionsHead(run); !c.current(run) {
		return
	}
	switch {
	case picture != nil:
		d := <-picture
		if c.current(run) {
			c.classifySource(run, src, d)
		}
	case c.lastPicture.ok() && c.camera == nil:
		c.classifyPicture(run, c.lastPicture)
	case c.opts.upload || c.opts.webcam:
		c.setStatus(c.readyText())
	default:
		c.setStatus(c.say("no-source"))
	}
}

// useModel has the workers load a model, showing the download's progress,
// and reports whether it is ready. The controls wait meanwhile; after a
// failure they work with the model in use before, if any.
func (c *classifier) useModel(run int, name string) bool {
	c.setReady(false)
	defer func() { c.setReady(c.model.name != "") }()
	c.setStatus(c.say("loading", "model", name))
	m, err := c.shim.loadModel(name, func(loaded, total float64) {
		c.progress.SetMax(max(total, 1))
		c.progress.SetValue(min(loaded, total))
		c.progress.RemoveAttribute("hidden")
	})
	c.progress.SetAttribute("hidden", "")
	if !c.current(run) {
		return false
	}
	if err != nil {
		c.showError(fmt.Sprintf("The model %s could not be loaded: %v. Check the connection and try again.", name, err))
		if c.model.name != "" {
			if c.picker != nil {
				c.picker.SetValue(c.model.name) // the menu shows the model in use
			}
			c.setStatus(c.readyText())
		} else {
			c.setStatus("Not loaded.")
		}
		return false
	}
	c.model = m
	c.frame.SetAttribute("data-kernels", m.kernels) // for tests: which kernels run
	c.clearError()
	if c.picker != nil {
		c.picker.SetValue(name)
	}
	if c.inside != nil {
		c.inside.modelReady()
	}
	if c.head != nil && c.head.model != name {
		c.head = nil // a head is one model's
	}
	if c.teach != nil {
		c.teach.modelReady()
	}
	c.setStatus(c.readyText())
	return true
}

func (c *classifier) readyText() string {
	kernels := ""
	if strings.HasPrefix(c.model.kernels, "simd128") { // either build
		kernels = c.say("with-simd")
	}
	return c.say("ready", "model", c.model.name, "kernels", kernels)
}

// setReady enables or disables the controls that need a loaded model.
func (c *classifier) setReady(ready bool) {
	var controls []dom.Element
	if c.file != nil {
		controls = append(controls, c.file)
	}
	if c.cameraBtn != nil {
		controls = append(controls, c.cameraBtn)
	}
	if c.picker != nil {
		controls = append(controls, c.picker)
	}
	for _, el := range controls {
		if ready {
			el.RemoveAttribute("disabled")
		} else {
			el.SetAttribute("disabled", "")
		}
	}
}

// download is a picture fetched for the options' src, or why not.
type download struct {
	blob js.Value
	err  error
}

// classifySource classifies the options' picture.
func (c *classifier) classifySource(run int, src string, d download) {
	if d.err != nil {
		c.showError(upper(d.err.Error()) + ".")
		return
	}
	name := c.opts.alt
	if name == "" {
		name = src[strings.LastIndexByte(src, '/')+1:]
	}
	c.classifyFile(run, d.blob, name, src)
}

// classifyBlob classifies a picked, dropped or pasted file.
func (c *classifier) classifyBlob(blob js.Value, name, source string) {
	if c.model.name == "" {
		return // still loading; the controls are disabled
	}
	c.stopCamera()
	c.classifyFile(c.next(), blob, name, source)
}

// classifyFile decodes a file and classifies it, unless a newer task
// began while it decoded.
func (c *classifier) classifyFile(run int, blob js.Value, name, source string) {
	c.busy(true)
	defer c.busy(false)
	p, err := c.shim.pictureFromBlob(blob)
	if !c.current(run) {
		return
	}
	if err != nil {
		c.showError(fmt.Sprintf("%q is not a picture this browser can open (%v). Try a JPEG, PNG, GIF or WebP file.", name, err))
		return
	}
	c.lastPicture, c.name, c.source = p, name, source
	c.caption.SetTextContent(name)
	c.classifyPicture(run, p)
}

// classifyPicture classifies a picture with the model in use and shows
// the result, unless a newer task began meanwhile.
func (c *classifier) classifyPicture(run int, p picture) {
	m := c.model
	res, err := c.shim.classify(m, p, c.opts.top, c.heatmapShown(), false, c.look(), c.head)
	if !c.current(run) {
		return
	}
	if err != nil {
		c.showError("Classification failed: " + err.Error())
		return
	}
	c.clearError()
	c.show(res, m)
}

// useOptionsHead makes the classifier answer with the options' head file
// (a widget's head attribute), if it names one. A head that cannot be
// used (unreachable, damaged, another model's) is reported, and the
// model's own classes answer instead.
func (c *classifier) useOptionsHead(run int) {
	url := c.opts.head
	if c.teach != nil || (c.head != nil && c.head.id == url && c.head.model == c.model.name) {
		return // the Teach mode's head is its own; or this one is in use
	}
	c.head = nil
	if url == "" {
		return
	}
	file, err := fetchFile(url, "head file", weights.MaxHeadSize)
	h := &headInUse{id: url, model: c.model.name, file: file}
	if err == nil {
		_, err = c.shim.checkHead(h)
	}
	if !c.current(run) {
		return
	}
	if err != nil {
		c.showError(upper(err.Error()) + ". The model's own classes answer instead.")
		return
	}
	c.head = h
}

// classifyAgain classifies the picture in view again (with other classes,
// say); live video picks the change up with its next frame.
func (c *classifier) classifyAgain() {
	if c.camera != nil || !c.lastPicture.ok() {
		return
	}
	run, p := c.next(), c.lastPicture
	c.do(func() { c.classifyPicture(run, p) })
}

// look is what the explorer asks of each classification, if there is one.
func (c *classifier) look() *exploreRequest {
	if c.inside == nil {
		return nil
	}
	return c.inside.look()
}

// busy marks the results as being updated, for assistive technology.
func (c *classifier) busy(on bool) { c.results.SetAttribute("aria-busy", fmt.Sprint(on)) }

// show renders a result: the top classes with bars, a text alternative of
// the picture, a spoken summary (not for live video, which would never
// stop talking), the time, the heat map; and tells the page.
func (c *classifier) show(res *result, m readyModel) {
	res.model = m
	c.last = res
	if c.camera == nil { // live, the video shows itself
		drawRGBA(c.picture, res.input, m.size)
	}
	c.topList.show(c.doc, res.top)
	if len(res.top) > 0 {
		first := res.top[0]
		c.picture.SetAttribute("aria-label", fmt.Sprintf("%s: most likely %s (%.0f%%)", c.name, first.label, 100*first.prob))
		if c.camera == nil {
			var rest []string
			for _, p := range res.top[1:] {
				rest = append(rest, fmt.Sprintf("%s %.0f%%", p.label, 100*p.prob))
			}
			summary := fmt.Sprintf("%s %s %.0f%%.", c.say("most-likely"), first.label, 100*first.prob)
			if len(rest) > 0 {
				summary += " " + c.say("then") + " " + strings.Join(rest, ", ") + "."
			}
			c.summary.SetTextContent(summary)
		}
	}
	c.setStatus(c.say("result", "ms", fmt.Sprintf("%.1f", res.ms), "model", m.name))
	c.drawHeatmap()
	if c.inside != nil {
		c.inside.show(res)
	}
	top := make([]any, len(res.top))
	for i, p := range res.top {
		top[i] = map[string]any{"index": p.index, "label": p.label, "prob": p.prob}
	}
	// "result" is the event's documented name; "classified", its first, stays for pages that use it.
	detail := map[string]any{"model": m.name, "top": top, "ms": res.ms, "src": c.source}
	dispatch(c.host, "result", detail)
	dispatch(c.host, "classified", detail)
}

// resultList is a list of classes with their probabilities and bars,
// updated in place: rows are made only when their number changes (live
// video updates the list every frame).
type resultList struct {
	list *dom.HTMLOListElement
	rows []resultRow
}

// show puts top in the list.
func (l *resultList) show(doc dom.Document, top []prediction) {
	if len(l.rows) != len(top) {
		l.list.SetTextContent("")
		l.rows = l.rows[:0]
		for range top {
			r := resultRow{
				item:  &dom.HTMLLIElement{BasicHTMLElement: element(doc, "li")},
				label: &dom.HTMLSpanElement{BasicHTMLElement: element(doc, "span", "class", "label")},
				prob:  &dom.HTMLSpanElement{BasicHTMLElement: element(doc, "span", "class", "prob")},
				bar:   &dom.HTMLSpanElement{BasicHTMLElement: element(doc, "span", "class", "bar", "aria-hidden", "true")},
			}
			appendAll(r.item, r.label, r.prob, r.bar)
			l.list.AppendChild(r.item)
			l.rows = append(l.rows, r)
		}
	}
	for i, p := range top {
		r := l.rows[i]
		pct := fmt.Sprintf("%.1f%%", 100*p.prob)
		r.item.SetAttribute("data-index", fmt.Sprint(p.index))
		r.label.SetTextContent(p.label)
		r.prob.SetTextContent(pct)
		r.bar.Style().SetProperty("width", pct, "")
	}
}

// heatmapShown reports whether the heat map is asked for: the workers
// render it only then, as it costs a first prediction about 15 ms.
func (c *classifier) heatmapShown() bool {
	if c.heatSwitch != nil {
		return c.heatSwitch.Checked()
	}
	return c.opts.heatmap
}

// drawHeatmap shows or hides the class activation map of the last result
// (rendered by the worker, see heatmap.Render). A picture classified while
// the map was not asked for is classified again to get it.
func (c *classifier) drawHeatmap() {
	show := c.heatmapShown()
	overlay := js.Undefined()
	if c.last != nil {
		overlay = c.last.heatmap
	}
	if show && !overlay.Truthy() && c.camera == nil && c.lastPicture.ok() && c.head == nil { // a head's classes have no map
		run, p := c.next(), c.lastPicture
		c.do(func() { c.classifyPicture(run, p) }) // asks for the map this time
	}
	if !show || !overlay.Truthy() {
		c.overlay.SetAttribute("hidden", "")
		return
	}
	drawRGBA(c.overlay, overlay, c.last.model.size)
	c.overlay.RemoveAttribute("hidden")
}

func (c *classifier) setStatus(s string) { c.status.SetTextContent(s) }

func (c *classifier) showError(msg string) {
	c.errorBox.SetTextContent(msg)
	c.errorBox.RemoveAttribute("hidden")
}

func (c *classifier) clearError() {
	c.errorBox.SetTextContent("")
	c.errorBox.SetAttribute("hidden", "")
}

// upper capitalizes a message's first letter.
func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
