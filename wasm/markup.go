//go:build js && wasm

package main

import (
	"fmt"

	"honnef.co/go/js/dom/v2"
)

// render builds the classifier's markup, the same for the page and every
// widget but for the controls its options switch on, and wires its events.
// Styles: web/static/classifier.css.
func (c *classifier) render() {
	d := c.doc
	c.parent.SetTextContent("")
	c.file, c.drop, c.cameraBtn, c.fps, c.heatSwitch, c.picker = nil, nil, nil, nil, nil, nil
	c.frame = &dom.HTMLDivElement{BasicHTMLElement: element(d, "div", "class", "classifier "+c.opts.theme, "role", "group", "aria-label", "ShuffleNet classifier")}
	c.errorBox = &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p", "class", "error", "role", "alert", "hidden", "")}
	c.frame.AppendChild(c.errorBox)

	if c.opts.upload || c.opts.webcam || c.opts.heatmapSwitch || c.opts.picker {
		controls := &dom.HTMLDivElement{BasicHTMLElement: element(d, "div", "class", "controls")}
		if c.opts.upload {
			controls.AppendChild(c.renderDrop())
		}
		if c.opts.webcam {
			row := &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p", "class", "row")}
			c.cameraBtn = &dom.HTMLButtonElement{BasicHTMLElement: element(d, "button", "type", "button", "class", "camera", "aria-pressed", "false")}
			c.cameraBtn.SetTextContent(c.say("webcam-start"))
			c.fps = &dom.HTMLSpanElement{BasicHTMLElement: element(d, "span", "class", "fps")}
			appendAll(row, c.cameraBtn, c.fps)
			controls.AppendChild(row)
			c.listen(c.cameraBtn, "click", func(dom.Event) { c.do(c.toggleCamera) })
		}
		if c.opts.heatmapSwitch {
			row := &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p", "class", "row")}
			label := &dom.HTMLLabelElement{BasicHTMLElement: element(d, "label")}
			c.heatSwitch = &dom.HTMLInputElement{BasicHTMLElement: element(d, "input", "type", "checkbox", "class", "heatmap")}
			c.heatSwitch.SetChecked(c.opts.heatmap)
			appendAll(label, c.heatSwitch, text(d, " "+c.say("heatmap")))
			row.AppendChild(label)
			controls.AppendChild(row)
			c.listen(c.heatSwitch, "change", func(dom.Event) { c.drawHeatmap() })
		}
		if c.opts.picker {
			row := &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p", "class", "row")}
			label := &dom.HTMLLabelElement{BasicHTMLElement: element(d, "label")}
			c.picker = &dom.HTMLSelectElement{BasicHTMLElement: element(d, "select", "class", "model")}
			c.fillPicker()
			appendAll(label, text(d, c.say("model")+" "), c.picker)
			row.AppendChild(label)
			controls.AppendChild(row)
			c.listen(c.picker, "change", func(dom.Event) {
				c.opts.model = c.picker.Value()
				c.do(c.start)
			})
		}
		c.frame.AppendChild(controls)
	}

	view := element(d, "figure", "class", "view")
	stage := &dom.HTMLDivElement{BasicHTMLElement: element(d, "div", "class", "stage")}
	c.picture = &dom.HTMLCanvasElement{BasicHTMLElement: element(d, "canvas", "class", "picture", "width", "224", "height", "224", "role", "img", "aria-label", c.say("no-picture"))}
	c.video = &dom.HTMLVideoElement{HTMLMediaElement: &dom.HTMLMediaElement{BasicHTMLElement: element(d, "video", "playsinline", "", "muted", "", "hidden", "", "aria-label", "The webcam")}}
	c.overlay = &dom.HTMLCanvasElement{BasicHTMLElement: element(d, "canvas", "class", "overlay", "width", "224", "height", "224", "aria-hidden", "true", "hidden", "")}
	appendAll(stage, c.picture, c.video, c.overlay)
	c.caption = element(d, "figcaption", "class", "caption")
	c.caption.SetTextContent(c.say("no-picture"))
	appendAll(view, stage, c.caption)

	c.results = &dom.HTMLDivElement{BasicHTMLElement: element(d, "div", "class", "results", "aria-busy", "false")}
	c.topList = resultList{list: &dom.HTMLOListElement{BasicHTMLElement: element(d, "ol", "class", "top", "aria-label", c.say("top"))}}
	c.summary = &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p", "class", "summary visually-hidden", "aria-live", "polite")}
	c.status = &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p", "class", "status")}
	c.progress = &dom.HTMLProgressElement{BasicHTMLElement: element(d, "progress", "class", "progress", "aria-label", "Downloading the model", "hidden", "")}
	appendAll(c.results, c.topList.list, c.summary, c.status, c.progress)

	appendAll(c.frame, view, c.results)
	c.parent.AppendChild(c.frame)
	c.inside = nil
	if c.opts.inside {
		c.inside = newExplorer(c)
		c.parent.AppendChild(c.inside.render())
	}
	c.teach = nil
	if c.opts.teach {
		c.teach = newTeacher(c)
		c.parent.AppendChild(c.teach.render())
	}
	if c.model.name != "" {
		c.frame.SetAttribute("data-kernels", c.model.kernels)
		c.setStatus(c.readyText())
		if c.inside != nil {
			c.inside.modelReady()
		}
	} else {
		c.setReady(false)
	}
}

// renderDrop makes the drop zone with its file picker, and listens for
// pastes on the whole page when the options say so.
func (c *classifier) renderDrop() dom.Node {
	d := c.doc
	c.drop = &dom.HTMLDivElement{BasicHTMLElement: element(d, "div", "class", "drop")}
	help := &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p")}
	how := c.say("drop")
	if c.opts.paste {
		how = c.say("drop-paste")
	}
	label := &dom.HTMLLabelElement{BasicHTMLElement: element(d, "label", "class", "button")}
	c.file = &dom.HTMLInputElement{BasicHTMLElement: element(d, "input", "type", "file", "class", "file", "accept", "image/*")}
	appendAll(label, text(d, c.say("choose")), c.file)
	appendAll(help, text(d, how), label, text(d, "."))
	c.drop.AppendChild(help)

	c.listen(c.file, "change", func(dom.Event) {
		if files := c.file.Files(); len(files) > 0 {
			name := files[0].Get("name").String()
			c.do(func() { c.classifyBlob(files[0].Value, name, name) })
		}
		c.file.SetValue("") // choosing the same file again fires change again
	})
	for _, typ := range []string{"dragenter", "dragover"} {
		c.listen(c.drop, typ, func(e dom.Event) {
			e.PreventDefault()
			c.drop.Class().Add("dragging")
		})
	}
	c.listen(c.drop, "dragleave", func(dom.Event) { c.drop.Class().Remove("dragging") })
	c.listen(c.drop, "drop", func(e dom.Event) {
		e.PreventDefault()
		c.drop.Class().Remove("dragging")
		if f := firstFile(e.Underlying().Get("dataTransfer")); f.Truthy() {
			c.do(func() { c.classifyBlob(f, f.Get("name").String(), f.Get("name").String()) })
		}
	})
	if c.opts.paste {
		c.listen(c.doc, "paste", func(e dom.Event) {
			if f := firstFile(e.Underlying().Get("clipboardData")); f.Truthy() {
				e.PreventDefault()
				c.do(func() { c.classifyBlob(f, "Pasted picture", "paste") })
			}
		})
	}
	return c.drop
}

// fillPicker lists the server's models in the model menu.
func (c *classifier) fillPicker() {
	for _, m := range c.shim.models() {
		opt := &dom.HTMLOptionElement{BasicHTMLElement: element(c.doc, "option")}
		opt.SetValue(m.name)
		label := fmt.Sprintf("%s (%s, %.0f KB", m.name, m.family, float64(m.bytes)/1024)
		if m.top1 > 0 {
			label += fmt.Sprintf(", %.1f%% top-1", m.top1)
		}
		opt.SetTextContent(label + ")")
		c.picker.AppendChild(opt)
	}
}
