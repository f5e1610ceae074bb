//go:build js && wasm

package main

import (
	"fmt"
	"strings"
	"syscall/js"

	"github.com/shufflenet-go/shufflenet/engine/head"
	"honnef.co/go/js/dom/v2"
)

// teacher is the page's Teach mode, below its classifier: the reader
// names 2 to 10 classes and gives each examples from files or the webcam;
// a worker trains a head on the examples' pooled features (engine/head),
// and the classifier then answers with the reader's classes. A head can be
// exported as a file and imported again, here, in a widget (head=), in the
// CLI and in the server. The page keeps the examples' features, not the
// pictures: 10,000 examples are 19 MB with Megvii g3 0.5x's 480 features,
// 61 MB with the widest model's 1,536 (the seed's g = 8).
// Markup: teach_markup.go.
type teacher struct {
	c       *classifier
	classes []*taught
	model   string     // the model the examples' features come from; "" before the first
	head    *headInUse // the head trained or imported last, whether in use or not

	section    *dom.BasicHTMLElement
	rows       *dom.HTMLOListElement
	addBtn     *dom.HTMLButtonElement
	clearBtn   *dom.HTMLButtonElement
	trainBtn   *dom.HTMLButtonElement
	exportBtn  *dom.HTMLButtonElement
	importFile *dom.HTMLInputElement
	useSwitch  *dom.HTMLInputElement
	progress   *dom.HTMLProgressElement
	status     *dom.HTMLParagraphElement
	errorBox   *dom.HTMLParagraphElement
}

// taught is one class of the Teach mode: its name and its examples.
type taught struct {
	row      *dom.HTMLLIElement
	name     *dom.HTMLInputElement
	count    *dom.HTMLSpanElement
	files    *dom.HTMLInputElement
	capture  *dom.HTMLButtonElement
	remove   *dom.HTMLButtonElement
	examples [][]float32
	holding  bool // the capture button is held down
}

const (
	minTaughtClasses = 2
	maxTaughtClasses = 10
	// maxTaughtExamples bounds the examples of all classes together, as
	// the worker's training does (see maxExamples).
	maxTaughtExamples = maxExamples
)

func newTeacher(c *classifier) *teacher { return &teacher{c: c} }

// taughtHead is the Teach mode's head's id in the workers: one at a time,
// each new one replacing the last.
const taughtHead = "taught"

// examples counts the examples of every class.
func (t *teacher) examples() int {
	n := 0
	for _, k := range t.classes {
		n += len(k.examples)
	}
	return n
}

// addExamples computes the features of pictures for class k, one after
// another, reporting those that are no picture; what was added stays.
func (t *teacher) addExamples(k *taught, files []js.Value) {
	c := t.c
	if !t.sameModel() {
		return
	}
	m := c.model
	var failed []string
	for _, f := range files {
		if c.model.name != m.name {
			t.showError("The model changed while pictures were added; the rest were left out (examples are one model's).")
			break
		}
		if t.examples() >= maxTaughtExamples {
			t.showError(fmt.Sprintf("That is %d examples, as many as can be trained on; the rest were left out.", maxTaughtExamples))
			break
		}
		name := f.Get("name").String()
		p, err := c.shim.pictureFromBlob(f)
		if err != nil {
			failed = append(failed, name)
			continue
		}
		features, err := c.shim.features(m, p)
		if err != nil {
			t.showError(fmt.Sprintf("%s could not be used: %v", name, err))
			continue
		}
		if c.model.name != m.name {
			continue // reported at the top of the loop
		}
		t.keep(k, m, features)
	}
	t.announceCount(k)
	if len(failed) > 0 {
		t.showError(fmt.Sprintf("%d of the files are not pictures this browser can open, and were left out: %s.", len(failed), strings.Join(failed, ", ")))
	}
}

// captureWhileHeld takes webcam frames as examples of class k for as long
// as its button is held, starting the webcam if it is off.
func (t *teacher) captureWhileHeld(k *taught) {
	c := t.c
	if !t.sameModel() {
		return
	}
	if c.camera == nil {
		c.do(c.toggleCamera)
	}
	m := c.model
	defer t.announceCount(k)
	for k.holding && !c.unmounted && c.model.name == m.name {
		if err := c.shim.nextFrame(); err != nil {
			return
		}
		if c.camera == nil {
			return // the camera could not start (the classifier says why), or was stopped
		}
		p := c.shim.pictureFromVideo(c.video)
		if !p.ok() {
			continue
		}
		if t.examples() >= maxTaughtExamples {
			t.showError(fmt.Sprintf("That is %d examples, as many as can be trained on.", maxTaughtExamples))
			return
		}
		features, err := c.shim.features(m, p)
		if err != nil {
			t.showError("The frame could not be used: " + err.Error())
			return
		}
		if !k.holding || c.model.name != m.name {
			return // let go (or another model chosen) while the frame was on its way
		}
		t.keep(k, m, features)
	}
}

// keep adds an example, model m's features of a picture, to class k.
func (t *teacher) keep(k *taught, m readyModel, features []float32) {
	t.model = m.name
	k.examples = append(k.examples, features)
	t.showCount(k)
}

// sameModel reports whether the model in use is the one the examples come
// from (an example is the model's features), saying so when it is not.
func (t *teacher) sameModel() bool {
	if t.c.model.name == "" {
		return false
	}
	if t.model != "" && t.model != t.c.model.name && t.examples() > 0 {
		t.showError(fmt.Sprintf("Your examples were taken with %s: choose it again in the model menu, or clear them to teach %s.", t.model, t.c.model.name))
		return false
	}
	return true
}

// train checks the classes and their examples, has a worker train a head
// on them, and classifies with it from then on.
func (t *teacher) train() {
	c := t.c
	t.clearError()
	if !t.sameModel() {
		return
	}
	names := make([]string, len(t.classes))
	seen := map[string]bool{}
	for i, k := range t.classes {
		names[i] = strings.TrimSpace(k.name.Value())
		switch {
		case names[i] == "":
			t.showError(fmt.Sprintf("Class %d has no name.", i+1))
			return
		case head.CheckName(names[i]) != nil:
			t.showError(fmt.Sprintf("Class %d's name cannot be used: %v.", i+1, head.CheckName(names[i])))
			return
		case seen[names[i]]:
			t.showError(fmt.Sprintf("Two classes are called %q: give each its own name.", names[i]))
			return
		case len(k.examples) == 0:
			t.showError(fmt.Sprintf("Class %q has no examples yet: add pictures or hold its webcam button.", names[i]))
			return
		}
		seen[names[i]] = true
	}
	var features []float32
	var labels []int32
	for i, k := range t.classes {
		for _, e := range k.examples {
			features = append(features, e...)
			labels = append(labels, int32(i))
		}
	}
	t.setBusy(true)
	defer t.setBusy(false)
	t.status.SetTextContent(fmt.Sprintf("Training on %d examples…", len(labels)))
	t.progress.SetValue(0)
	t.progress.RemoveAttribute("hidden")
	m := c.model
	res, err := c.shim.train(m, names, features, labels, func(epoch, epochs int, loss float64) {
		t.progress.SetMax(float64(epochs))
		t.progress.SetValue(float64(epoch))
	})
	t.progress.SetAttribute("hidden", "")
	if err != nil {
		t.showError("Training failed: " + err.Error())
		t.status.SetTextContent("")
		return
	}
	h := &headInUse{id: taughtHead, model: m.name, file: res.file}
	if _, err := c.shim.checkHead(h); err != nil {
		t.showError("The trained head could not be used: " + err.Error())
		return
	}
	t.setHead(h)
	t.status.SetTextContent(fmt.Sprintf("Trained on %d examples of %d classes in %.0f ms; it gets %.0f%% of them right. The classifier now answers with your classes.",
		len(labels), len(names), res.ms, 100*res.accuracy))
	c.classifyAgain()
}

// clear forgets every class's examples (not the head in use).
func (t *teacher) clear() {
	for _, k := range t.classes {
		k.examples = nil
		t.showCount(k)
	}
	t.model = ""
	t.clearError()
}

// setHead makes h the Teach mode's head, in use from now on.
func (t *teacher) setHead(h *headInUse) {
	t.head = h
	t.c.head = h
	t.useSwitch.SetChecked(true)
	t.useSwitch.RemoveAttribute("disabled")
	t.exportBtn.RemoveAttribute("disabled")
}

// use switches between the reader's classes and the model's own.
func (t *teacher) use(on bool) {
	t.c.head = nil
	if on && t.head != nil && t.head.model == t.c.model.name {
		t.c.head = t.head
	}
	t.useSwitch.SetChecked(t.c.head != nil)
	t.c.classifyAgain()
}

// importHead has the workers classify with a head file the reader chose,
// which the engine checks (format, sizes, the model it was trained on).
func (t *teacher) importHead(f js.Value) {
	c := t.c
	t.clearError()
	buffer, err := await(f.Call("arrayBuffer"))
	if err != nil {
		t.showError(fmt.Sprintf("%s could not be read: %v", f.Get("name").String(), err))
		return
	}
	h := &headInUse{id: taughtHead, model: c.model.name, file: js.Global().Get("Uint8Array").New(buffer)}
	classes, err := c.shim.checkHead(h)
	if err != nil {
		t.showError(fmt.Sprintf("%s cannot be used: %v", f.Get("name").String(), err))
		return // the head in use before, if any, stays
	}
	t.setHead(h)
	t.status.SetTextContent(fmt.Sprintf("Using %s: its classes are %s.", f.Get("name").String(), strings.Join(classes, ", ")))
	c.classifyAgain()
}

// exportHead offers the head in use as a file.
func (t *teacher) exportHead() {
	if t.head != nil {
		t.c.shim.download(t.head.file, "shufflenet-head.json", "application/json")
	}
}

// modelReady follows a change of model: a head is one model's, so the
// reader's classes are off until they train again or come back.
func (t *teacher) modelReady() {
	if t.head != nil {
		fits := t.head.model == t.c.model.name
		t.useSwitch.SetChecked(fits && t.c.head != nil)
		if fits {
			t.useSwitch.RemoveAttribute("disabled")
		} else {
			t.useSwitch.SetAttribute("disabled", "")
			t.status.SetTextContent(fmt.Sprintf("Your classes were trained with %s; this model answers with its own.", t.head.model))
		}
	}
	t.setBusy(false)
}

// announceCount says in the status (a live region) how many examples a
// class has, once a batch of files or a capture is done; the count beside
// the class changes with every example, which would be too much to hear.
func (t *teacher) announceCount(k *taught) {
	t.status.SetTextContent(fmt.Sprintf("%s: %s.", strings.TrimSpace(k.name.Value()), k.count.TextContent()))
}

func (t *teacher) showCount(k *taught) {
	n := len(k.examples)
	word := "examples"
	if n == 1 {
		word = "example"
	}
	k.count.SetTextContent(fmt.Sprintf("%d %s", n, word))
}

// setBusy disables the controls while a head trains or a model loads.
func (t *teacher) setBusy(busy bool) {
	for _, b := range []*dom.HTMLButtonElement{t.trainBtn, t.addBtn, t.clearBtn} {
		if busy || t.c.model.name == "" {
			b.SetAttribute("disabled", "")
		} else {
			b.RemoveAttribute("disabled")
		}
	}
	if len(t.classes) >= maxTaughtClasses {
		t.addBtn.SetAttribute("disabled", "")
	}
	for _, k := range t.classes { // no examples without a model to take them
		for _, el := range []dom.Element{k.files, k.capture} {
			if t.c.model.name == "" {
				el.SetAttribute("disabled", "")
			} else {
				el.RemoveAttribute("disabled")
			}
		}
	}
}

func (t *teacher) showError(msg string) {
	t.errorBox.SetTextContent(msg)
	t.errorBox.RemoveAttribute("hidden")
}

func (t *teacher) clearError() {
	t.errorBox.SetTextContent("")
	t.errorBox.SetAttribute("hidden", "")
}
