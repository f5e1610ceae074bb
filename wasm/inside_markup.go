//go:build js && wasm

package main

import (
	"fmt"

	"honnef.co/go/js/dom/v2"
)

// render builds the explorer's markup and wires its controls. It follows
// the tutorial's order: the network without its shuffle (the ablation,
// shown when the switch is on), the maps after each stage, one unit step by
// step with Figure 1, then the architecture table.
func (e *explorer) render() dom.Node {
	c, d := e.c, e.c.doc
	root := element(d, "section", "class", "inside", "aria-labelledby", "inside-title")
	title := element(d, "h2", "id", "inside-title")
	title.SetTextContent("Inside the network")

	controls := element(d, "div", "class", "inside-controls")
	unitLabel := &dom.HTMLLabelElement{BasicHTMLElement: element(d, "label")}
	e.unitPicker = &dom.HTMLSelectElement{BasicHTMLElement: element(d, "select", "class", "unit")}
	appendAll(unitLabel, text(d, "Unit "), e.unitPicker)
	switchLabel := &dom.HTMLLabelElement{BasicHTMLElement: element(d, "label")}
	e.shuffleSwitch = &dom.HTMLInputElement{BasicHTMLElement: element(d, "input", "type", "checkbox", "class", "no-shuffle")}
	e.shuffleSwitch.SetChecked(!e.shuffle)
	appendAll(switchLabel, e.shuffleSwitch, text(d, " Without channel shuffle"))
	appendAll(controls, unitLabel, switchLabel)
	c.listen(e.unitPicker, "change", func(dom.Event) {
		e.unit = e.unitPicker.Value()
		e.choose()
	})
	c.listen(e.shuffleSwitch, "change", func(dom.Event) {
		e.shuffle = !e.shuffleSwitch.Checked()
		e.choose()
	})

	e.ablation = element(d, "section", "class", "ablation", "aria-labelledby", "ablation-title", "aria-live", "polite", "hidden", "")
	ablationTitle := element(d, "h3", "id", "ablation-title")
	ablationTitle.SetTextContent("Without the channel shuffle")
	why := &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p")}
	why.SetTextContent("The same weights, with every shuffle replaced by doing nothing: each group now reads only the channels its own group made, stage after stage. Compare with the list above.")
	e.ablationTop = resultList{list: &dom.HTMLOListElement{BasicHTMLElement: element(d, "ol", "class", "top", "aria-label", "The most likely classes without the channel shuffle")}}
	appendAll(e.ablation, ablationTitle, why, e.ablationTop.list)

	stages := element(d, "section", "aria-labelledby", "stages-title")
	stagesTitle := element(d, "h3", "id", "stages-title")
	stagesTitle.SetTextContent("After each stage")
	stagesGrid := element(d, "div", "class", "mosaics")
	for i := range e.stages {
		e.stages[i] = e.newMapFigure(fmt.Sprintf("stage-%d", i+1))
		stagesGrid.AppendChild(e.stages[i].figure)
	}
	appendAll(stages, stagesTitle, stagesGrid)

	unit := element(d, "section", "aria-labelledby", "unit-title")
	e.unitTitle = element(d, "h3", "id", "unit-title")
	e.unitTitle.SetTextContent("Inside a unit")
	e.unitNote = &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p", "class", "note")}
	e.unitNote.SetTextContent("Choose a picture to see its maps.")
	stepsGrid := element(d, "div", "class", "mosaics steps")
	for i := range e.steps {
		e.steps[i] = e.newMapFigure(fmt.Sprintf("step-%d", i+1))
		stepsGrid.AppendChild(e.steps[i].figure)
	}
	figure1 := element(d, "figure", "class", "figure1")
	e.figure1 = &dom.HTMLCanvasElement{BasicHTMLElement: element(d, "canvas", "width", "640", "height", "330", "role", "img",
		"aria-label", "The channel shuffle, drawn once a picture has gone through the network.")}
	caption := element(d, "figcaption")
	e.figure1Note = &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p")}
	e.figure1Note.SetTextContent("The paper's Figure 1: which channels each group of the next grouped conv reads, with and without the shuffle.")
	e.figure1Table = element(d, "div", "class", "figure1-table")
	appendAll(caption, e.figure1Note, e.figure1Table)
	appendAll(figure1, e.figure1, caption)
	e.timing = &dom.HTMLParagraphElement{BasicHTMLElement: element(d, "p", "class", "timing")}
	appendAll(unit, e.unitTitle, e.unitNote, stepsGrid, figure1, e.timing)

	arch := element(d, "section", "aria-labelledby", "arch-title")
	archTitle := element(d, "h3", "id", "arch-title")
	archTitle.SetTextContent("The architecture")
	tableLabel := &dom.HTMLLabelElement{BasicHTMLElement: element(d, "label")}
	e.tablePicker = &dom.HTMLSelectElement{BasicHTMLElement: element(d, "select", "class", "table-arch")}
	appendAll(tableLabel, text(d, "Table for "), e.tablePicker)
	c.listen(e.tablePicker, "change", func(dom.Event) {
		e.table = e.tablePicker.Value()
		e.showTable()
		e.remember()
	})
	// The table scrolls sideways on a narrow screen: a region the keyboard can reach.
	e.archTable = element(d, "div", "class", "arch-table", "role", "region", "tabindex", "0", "aria-label", "The architecture table")
	appendAll(arch, archTitle, tableLabel, e.groupsTable(), e.archTable)

	appendAll(root, title, controls, e.ablation, stages, unit, arch)
	return root
}

// newMapFigure makes a figure with an empty canvas and its caption.
func (e *explorer) newMapFigure(id string) mapFigure {
	d := e.c.doc
	f := mapFigure{
		figure:  element(d, "figure", "class", "mosaic"),
		canvas:  &dom.HTMLCanvasElement{BasicHTMLElement: element(d, "canvas", "id", id, "width", "1", "height", "1", "role", "img", "aria-label", "No picture yet.")},
		caption: element(d, "figcaption"),
	}
	f.caption.SetTextContent("No picture yet.")
	appendAll(f.figure, f.canvas, f.caption)
	return f
}
