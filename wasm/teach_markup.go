//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"

	"honnef.co/go/js/dom/v2"
)

// render builds the Teach mode's markup and wires its controls.
func (t *teacher) render() dom.Node {
	c, d := t.c, t.c.doc
	t.section = element(d, "section", "class", "teach", "aria-labelledby", "teach-title")
	title := element(d, "h2", "id", "teach-title")
	title.SetTextContent("Teach your own classes")
	how := &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p")}
	how.SetTextContent("Name two to ten classes and give each a few examples: pictures, or webcam frames while you hold its button. " +
		"A small classifier learns them on top of the network, in your browser; the network itself stays as it is.")
	t.errorBox = &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p", "class", "error", "role", "alert", "hidden", "")}
	t.rows = &dom.HTMLOListElement{BasicHTMLElement: element(d, "ol", "class", "classes", "aria-label", "Your classes")}
	t.classes = nil
	for range minTaughtClasses {
		t.addClass()
	}

	buttons := element(d, "p", "class", "row")
	t.addBtn = t.button("add", "Add a class")
	t.clearBtn = t.button("clear", "Clear all examples")
	t.trainBtn = t.button("train", "Train")
	appendAll(buttons, t.addBtn, t.clearBtn, t.trainBtn)
	c.listen(t.addBtn, "click", func(dom.Event) { t.addClass(); t.setBusy(false) })
	c.listen(t.clearBtn, "click", func(dom.Event) { t.clear() })
	c.listen(t.trainBtn, "click", func(dom.Event) { c.do(t.train) })

	t.progress = &dom.HTMLProgressElement{BasicHTMLElement: element(d, "progress", "class", "training", "aria-label", "Training", "hidden", "")}
	t.status = &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p", "class", "status", "aria-live", "polite")}

	use := element(d, "p", "class", "row")
	useLabel := &dom.HTMLLabelElement{BasicHTMLElement: element(d, "label")}
	t.useSwitch = &dom.HTMLInputElement{BasicHTMLElement: element(d, "input", "type", "checkbox", "class", "use-head", "disabled", "")}
	appendAll(useLabel, t.useSwitch, text(d, " Answer with my classes"))
	t.exportBtn = t.button("export", "Export")
	t.exportBtn.SetAttribute("disabled", "")
	importLabel := &dom.HTMLLabelElement{BasicHTMLElement: element(d, "label", "class", "button")}
	t.importFile = &dom.HTMLInputElement{BasicHTMLElement: element(d, "input", "type", "file", "class", "import", "accept", ".json,application/json")}
	appendAll(importLabel, text(d, "Import a head file"), t.importFile)
	appendAll(use, useLabel, t.exportBtn, importLabel)
	c.listen(t.useSwitch, "change", func(dom.Event) { c.do(func() { t.use(t.useSwitch.Checked()) }) })
	c.listen(t.exportBtn, "click", func(dom.Event) { t.exportHead() })
	c.listen(t.importFile, "change", func(dom.Event) {
		if files := t.importFile.Files(); len(files) > 0 {
			f := files[0].Value
			c.do(func() { t.importHead(f) })
		}
		t.importFile.SetValue("")
	})

	appendAll(t.section, title, how, t.errorBox, t.rows, buttons, t.progress, t.status, use)
	t.setBusy(false)
	return t.section
}

// addClass adds a class row, named "Class N" for a start.
func (t *teacher) addClass() {
	c, d := t.c, t.c.doc
	if len(t.classes) >= maxTaughtClasses {
		return
	}
	n := len(t.classes) + 1
	k := &taught{row: &dom.HTMLLIElement{BasicHTMLElement: element(d, "li", "class", "class")}}
	nameLabel := &dom.HTMLLabelElement{BasicHTMLElement: element(d, "label")}
	k.name = &dom.HTMLInputElement{BasicHTMLElement: element(d, "input", "type", "text", "class", "name", "maxlength", "40")}
	k.name.SetValue(fmt.Sprintf("Class %d", n))
	appendAll(nameLabel, text(d, "Name "), k.name)
	k.count = &dom.HTMLSpanElement{BasicHTMLElement: element(d, "span", "class", "count")}
	filesLabel := &dom.HTMLLabelElement{BasicHTMLElement: element(d, "label", "class", "button")}
	k.files = &dom.HTMLInputElement{BasicHTMLElement: element(d, "input", "type", "file", "class", "examples", "accept", "image/*", "multiple", "")}
	appendAll(filesLabel, text(d, "Add pictures"), k.files)
	k.capture = t.button("capture", "Hold to capture from the webcam")
	k.capture.SetAttribute("aria-pressed", "false")
	k.remove = t.button("remove", "Remove")
	// Each row's controls say which class they are for (the row's
	// number; a screen reader hears the name field's value with it).
	k.files.SetAttribute("aria-label", fmt.Sprintf("Add pictures to class %d", n))
	k.capture.SetAttribute("aria-label", fmt.Sprintf("Hold to capture from the webcam for class %d", n))
	k.remove.SetAttribute("aria-label", fmt.Sprintf("Remove class %d", n))
	k.name.SetAttribute("aria-label", fmt.Sprintf("Name of class %d", n))
	appendAll(k.row, nameLabel, k.count, filesLabel, k.capture, k.remove)
	t.rows.AppendChild(k.row)
	t.classes = append(t.classes, k)
	t.showCount(k)

	c.listen(k.files, "change", func(dom.Event) {
		files := k.files.Files()
		list := make([]js.Value, len(files))
		for i, f := range files {
			list[i] = f.Value
		}
		k.files.SetValue("")
		c.do(func() { t.addExamples(k, list) })
	})
	start := func() {
		if !k.holding {
			k.holding = true
			k.capture.SetAttribute("aria-pressed", "true")
			c.do(func() { t.captureWhileHeld(k) })
		}
	}
	stop := func() {
		k.holding = false
		k.capture.SetAttribute("aria-pressed", "false")
	}
	c.listen(k.capture, "pointerdown", func(e dom.Event) {
		capturePointer(k.capture.Underlying(), e.Underlying())
		start()
	})
	c.listen(k.capture, "contextmenu", func(e dom.Event) { e.PreventDefault() }) // a long press on a touch screen
	for _, typ := range []string{"pointerup", "pointerleave", "pointercancel", "blur"} {
		c.listen(k.capture, typ, func(dom.Event) { stop() })
	}
	// The keyboard holds the button with Space or Enter.
	c.listen(k.capture, "keydown", func(e dom.Event) {
		if key := e.Underlying().Get("key").String(); key == " " || key == "Enter" {
			e.PreventDefault()
			start()
		}
	})
	c.listen(k.capture, "keyup", func(e dom.Event) {
		if key := e.Underlying().Get("key").String(); key == " " || key == "Enter" {
			stop()
		}
	})
	c.listen(k.remove, "click", func(dom.Event) { t.removeClass(k) })
}

// removeClass drops a class and its examples, keeping at least two.
func (t *teacher) removeClass(k *taught) {
	if len(t.classes) <= minTaughtClasses {
		t.showError(fmt.Sprintf("A classifier needs at least %d classes.", minTaughtClasses))
		return
	}
	for i, x := range t.classes {
		if x == k {
			t.classes = append(t.classes[:i], t.classes[i+1:]...)
			break
		}
	}
	k.holding = false
	t.rows.RemoveChild(k.row)
	t.setBusy(false)
}

// button makes a button of the given class and text.
func (t *teacher) button(class, label string) *dom.HTMLButtonElement {
	b := &dom.HTMLButtonElement{BasicHTMLElement: element(t.c.doc, "button", "type", "button", "class", class)}
	b.SetTextContent(label)
	return b
}

// capturePointer keeps a held button's pointer on it, also when the finger
// strays off the button. A pointer no longer active (the reader let go
// already) cannot be captured, which is no matter.
func capturePointer(button, event js.Value) {
	defer func() { _ = recover() }()
	button.Call("setPointerCapture", event.Get("pointerId"))
}
