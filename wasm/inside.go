//go:build js && wasm

package main

import (
	"fmt"
	"strings"
	"syscall/js"

	"github.com/shufflenet-go/shufflenet/engine"
	"honnef.co/go/js/dom/v2"
)

// explorer is the /inside/ page's look inside the network, below its
// classifier: the reader's picture after the stem and each stage, one
// unit's compress, shuffle, 3x3 and output, the shuffle drawn as the
// paper's Figure 1 from the engine's own permutation, the network without
// its shuffle, and the architecture table. The worker computes and draws
// the maps (wasm/explore.go); this side lays them out and keeps the view's
// state (model, unit, shuffle) in the page's address, so that a link can
// name one view. Markup: inside_markup.go; the table and Figure 1:
// inside_figures.go; styles: web/static/inside.css.
type explorer struct {
	c       *classifier
	unit    string // the unit looked inside, e.g. "stage3.unit2"
	shuffle bool   // false: the network without its channel shuffle
	table   string // the architecture the table shows: "" for the model in use, or "seed-gN"

	unitPicker    *dom.HTMLSelectElement
	shuffleSwitch *dom.HTMLInputElement
	tablePicker   *dom.HTMLSelectElement
	ablation      *dom.BasicHTMLElement // the top classes without the shuffle, beside the classifier's
	ablationTop   resultList            // its top classes
	stages        [4]mapFigure
	unitTitle     *dom.BasicHTMLElement
	unitNote      *dom.HTMLParagraphElement
	steps         [4]mapFigure
	figure1       *dom.HTMLCanvasElement
	figure1Drawn  string // the model and unit Figure 1 shows
	figure1Note   *dom.HTMLParagraphElement
	figure1Table  *dom.BasicHTMLElement
	archTable     *dom.BasicHTMLElement
	timing        *dom.HTMLParagraphElement
}

// mapFigure is one mosaic of maps with its caption.
type mapFigure struct {
	figure  *dom.BasicHTMLElement
	canvas  *dom.HTMLCanvasElement
	caption *dom.BasicHTMLElement
}

// defaultUnit is the unit shown first: stage 3's second, a stride-1 unit
// in the middle of the network, where the maps are still large enough to see.
const defaultUnit = "stage3.unit1"

func newExplorer(c *classifier) *explorer {
	e := &explorer{c: c, unit: c.opts.unit, shuffle: !c.opts.noShuffle, table: c.opts.table}
	if e.unit == "" {
		e.unit = defaultUnit
	}
	return e
}

// look is what a classification asks of the worker on this page.
func (e *explorer) look() *exploreRequest {
	return &exploreRequest{unit: e.unit, shuffle: e.shuffle}
}

// modelReady fills what depends on the model in use: its units, its table.
func (e *explorer) modelReady() {
	if _, ok := e.c.model.arch.Unit(e.unit); !ok {
		e.unit = defaultUnit
	}
	e.fillUnits()
	e.showTable()
	e.remember()
}

// choose runs the explorer's pass again on the picture in view after a
// control changed, and remembers the view in the address.
func (e *explorer) choose() {
	e.remember()
	e.c.classifyAgain()
}

// remember writes the view into the page's address (without a new history
// entry), so that a docs page can link to it.
func (e *explorer) remember() {
	// The browser's URLSearchParams rather than net/url, which would add
	// its code to the module every page downloads.
	q := js.Global().Get("URLSearchParams").New(js.Global().Get("location").Get("search")) // keeping the page's own, ?workers= say
	if m := e.c.opts.model; m != "" {
		q.Call("set", "model", m)
	}
	q.Call("set", "unit", e.unit)
	q.Call("delete", "shuffle")
	if !e.shuffle {
		q.Call("set", "shuffle", "off")
	}
	q.Call("delete", "table")
	if e.table != "" {
		q.Call("set", "table", e.table)
	}
	js.Global().Get("history").Call("replaceState", nil, "", "?"+q.Call("toString").String())
}

// show lays out what the worker answered for a picture, as the answer
// says it was asked (a live frame may come back after the reader chose
// another unit or switched the shuffle).
func (e *explorer) show(res *result) {
	in := res.inside
	if !in.Truthy() {
		return
	}
	arch := res.model.arch
	unit := in.Get("unit")
	shape, ok := arch.Unit(unit.Get("name").String())
	if !ok {
		return
	}
	shuffle := in.Get("shuffle").Bool()
	without := ""
	if !shuffle {
		without = " (without the shuffle)"
	}
	stages := in.Get("stages")
	for i := range e.stages {
		if i < stages.Length() {
			e.stages[i].show(stages.Index(i), stageCaption(stages.Index(i))+without)
		}
	}
	steps := unit.Get("steps")
	e.unitTitle.SetTextContent(fmt.Sprintf("Inside %s", shape.Name))
	e.unitNote.SetTextContent(unitNote(shape, arch, shuffle))
	for i := range e.steps {
		if i < steps.Length() {
			e.steps[i].show(steps.Index(i), stepCaption(steps.Index(i), shape, arch.Groups)+without)
		}
	}
	// Figure 1 depends on the unit only: live video redraws it only when
	// the unit or the model changes.
	if drawn := res.model.name + " " + shape.Name; drawn != e.figure1Drawn {
		perm := make([]int, unit.Get("perm").Length())
		for i := range perm {
			perm[i] = unit.Get("perm").Index(i).Int()
		}
		e.drawFigure1(shape, arch, perm)
		e.figure1Drawn = drawn
	}

	if shuffle {
		e.ablation.SetAttribute("hidden", "")
	} else {
		e.ablation.RemoveAttribute("hidden")
		e.ablationTop.show(e.c.doc, predictionsOf(in.Get("top")))
	}
	e.timing.SetTextContent(fmt.Sprintf("This look inside took %.1f ms in the worker: %.1f ms for the network, copying its maps out, and %.1f ms to draw them.",
		in.Get("ms").Float()+in.Get("renderMs").Float(), in.Get("ms").Float(), in.Get("renderMs").Float()))
}

// show draws one mosaic and gives it its text alternative.
func (f mapFigure) show(m js.Value, caption string) {
	drawPixels(f.canvas, m.Get("pixels"), m.Get("width").Int(), m.Get("height").Int())
	f.canvas.SetAttribute("aria-label", caption+" "+mapsSummary(m))
	f.caption.SetTextContent(caption)
}

// mapsSummary says in words what a mosaic shows: its strongest maps and
// the maps the ReLU silenced for this picture.
func mapsSummary(m js.Value) string {
	var strongest []string
	for i := range m.Get("strongest").Length() {
		strongest = append(strongest, fmt.Sprint(m.Get("strongest").Index(i).Int()))
	}
	return fmt.Sprintf("The strongest maps are channels %s; %d of %d are zero everywhere.",
		strings.Join(strongest, ", "), m.Get("silent").Int(), m.Get("channels").Int())
}

func stageCaption(m js.Value) string {
	stage, channels, size := m.Get("stage").Int(), m.Get("channels").Int(), m.Get("size").Int()
	if stage == 1 {
		return fmt.Sprintf("After the stem (conv1 and max pool): %d maps of %d×%d.", channels, size, size)
	}
	return fmt.Sprintf("After stage %d: %d maps of %d×%d.", stage, channels, size, size)
}

func stepCaption(m js.Value, u engine.UnitShape, groups int) string {
	channels, size := m.Get("channels").Int(), m.Get("size").Int()
	switch m.Get("step").String() {
	case "compress":
		return fmt.Sprintf("1. Compress: a 1×1 group conv makes %d maps, coloured by the group (of %d) that made them.", channels, groups)
	case "shuffled":
		return fmt.Sprintf("2. Shuffled: the same %d maps, reordered so that each group of the next conv reads every colour.", channels)
	case "3x3":
		return fmt.Sprintf("3. The 3×3 conv: %d maps of %d×%d.", channels, size, size)
	default:
		if u.Stride == 2 {
			return fmt.Sprintf("4. Unit output: the expand conv's %d maps, coloured by its groups, beside the %d of the pooled shortcut (grey).", u.MainOut, u.In)
		}
		return fmt.Sprintf("4. Unit output: the unit's input plus the expand conv's maps, %d of %d×%d, coloured by the expand conv's groups.", channels, size, size)
	}
}
