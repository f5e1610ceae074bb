//go:build js && wasm

package main

import (
	"fmt"
	"strings"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/engine/featuremap"
	"honnef.co/go/js/dom/v2"
)

// The explorer's tables and Figure 1, all drawn from the engine: the
// architecture's own shapes and counts (engine.Architecture.Summary, the
// numbers torchsummary prints), and the permutation the worker's network
// uses.

// seedGroups are the group counts of the seed implementation's variants.
var seedGroups = []int{1, 2, 3, 4, 8}

// fillUnits lists the model's units in the unit menu.
func (e *explorer) fillUnits() {
	e.unitPicker.SetTextContent("")
	for _, u := range e.c.model.arch.Units() {
		opt := &dom.HTMLOptionElement{BasicHTMLElement: element(e.c.doc, "option")}
		opt.SetValue(u.Name)
		opt.SetTextContent(fmt.Sprintf("%s: stride %d, %d → %d → %d channels, %d×%d", u.Name, u.Stride, u.In, u.Mid, u.Out, u.OutSize(), u.OutSize()))
		e.unitPicker.AppendChild(opt)
	}
	e.unitPicker.SetValue(e.unit)

	e.tablePicker.SetTextContent("")
	options := []struct{ value, label string }{{"", fmt.Sprintf("%s (in use)", e.c.model.name)}}
	for _, g := range seedGroups {
		options = append(options, struct{ value, label string }{fmt.Sprintf("seed-g%d", g), fmt.Sprintf("the seed with g = %d", g)})
	}
	for _, o := range options {
		opt := &dom.HTMLOptionElement{BasicHTMLElement: element(e.c.doc, "option")}
		opt.SetValue(o.value)
		opt.SetTextContent(o.label)
		e.tablePicker.AppendChild(opt)
	}
	if e.tableArch() == nil {
		e.table = ""
	}
	e.tablePicker.SetValue(e.table)
}

// tableArch is the architecture the table shows, or nil for an unknown name.
func (e *explorer) tableArch() *engine.Architecture {
	if e.table == "" {
		return &e.c.model.arch
	}
	for _, g := range seedGroups {
		if e.table == fmt.Sprintf("seed-g%d", g) {
			a, err := engine.SeedArchitecture(g)
			if err != nil {
				return nil
			}
			return &a
		}
	}
	return nil
}

// showTable renders the architecture as the paper's Table 1 reads: the
// stem, each unit with its stride, groups and channels, the pool and the
// classifier, with each row's parameters and multiply-accumulates.
func (e *explorer) showTable() {
	a := e.tableArch()
	if a == nil {
		return
	}
	d := e.c.doc
	params, macs := map[string]int64{}, map[string]int64{}
	for _, r := range a.Summary() {
		key := r.Layer
		if i := strings.Index(key, ".unit"); i >= 0 { // stage2.unit0.compress.bn -> stage2.unit0
			if j := strings.IndexByte(key[i+1:], '.'); j >= 0 {
				key = key[:i+1+j]
			}
		}
		params[key] += r.Params
		macs[key] += r.MACs
	}
	table := element(d, "table")
	caption := element(d, "caption")
	caption.SetTextContent(fmt.Sprintf("%s: %s parameters, %s multiply-accumulates per picture.", a.Name(), count(a.ParamCount()), count(a.MACs())))
	head := element(d, "thead")
	head.AppendChild(tableRow(d, "th", "Layer", "Output", "Stride", "Groups (1×1, 3×3, 1×1)", "Channels in → mid → out", "Parameters", "MACs"))
	body := element(d, "tbody")
	stem := a.StemConv()
	var stemParams, stemMACs int64
	for k, v := range params {
		if !strings.HasPrefix(k, "stage") && k != "pool" && k != "classifier" {
			stemParams += v
			stemMACs += macs[k]
		}
	}
	body.AppendChild(tableRow(d, "td", "Stem: conv1 3×3 and max pool 3×3", size(stem.OutSize/2), "2, 2", "1", fmt.Sprintf("3 → %d", stem.Out), count(stemParams), count(stemMACs)))
	stage := 0
	for _, u := range a.Units() {
		if u.Stage != stage {
			stage = u.Stage
			row := element(d, "tr", "class", "stage")
			cell := element(d, "th", "colspan", "7", "scope", "colgroup")
			cell.SetTextContent(fmt.Sprintf("Stage %d", stage))
			row.AppendChild(cell)
			body.AppendChild(row)
		}
		spatial := fmt.Sprint(u.SpatialGroups)
		if a.Depthwise {
			spatial = "depthwise"
		}
		row := tableRow(d, "td", u.Name, size(u.OutSize()), fmt.Sprint(u.Stride),
			fmt.Sprintf("%d, %s, %d", u.CompressGroups, spatial, u.ExpandGroups),
			fmt.Sprintf("%d → %d → %d", u.In, u.Mid, u.Out), count(params[u.Name]), count(macs[u.Name]))
		if a == &e.c.model.arch && u.Name == e.unit {
			row.SetAttribute("aria-current", "true")
		}
		body.AppendChild(row)
	}
	body.AppendChild(tableRow(d, "td", "Global average pool", size(1), "", "", fmt.Sprint(a.FeatureChannels()), "0", "0"))
	body.AppendChild(tableRow(d, "td", "Classifier (fully connected)", fmt.Sprint(a.Classes), "", "", fmt.Sprintf("%d → %d", a.FeatureChannels(), a.Classes), count(params["classifier"]), count(macs["classifier"])))
	appendAll(table, caption, head, body)
	e.archTable.SetTextContent("")
	e.archTable.AppendChild(table)
}

// groupsTable compares the seed's variants: as g grows each grouped conv
// costs g times less per channel, so the network affords wider stages at
// about the same cost (the paper's Table 1).
func (e *explorer) groupsTable() dom.Node {
	d := e.c.doc
	table := element(d, "table", "class", "groups")
	caption := element(d, "caption")
	caption.SetTextContent("The seed's variants: more groups, wider stages, about the same cost.")
	head := element(d, "thead")
	head.AppendChild(tableRow(d, "th", "Groups g", "Stage 2, 3, 4 channels", "Parameters", "MACs"))
	body := element(d, "tbody")
	for _, g := range seedGroups {
		a, err := engine.SeedArchitecture(g)
		if err != nil {
			continue
		}
		c := a.StageChannels
		body.AppendChild(tableRow(d, "td", fmt.Sprint(g), fmt.Sprintf("%d, %d, %d", c[0], c[1], c[2]), count(a.ParamCount()), count(a.MACs())))
	}
	appendAll(table, caption, head, body)
	return table
}

// tableRow is a row of cells of the given tag; a row's first cell heads it.
func tableRow(d dom.Document, tag string, cells ...string) *dom.BasicHTMLElement {
	row := element(d, "tr")
	for i, s := range cells {
		var cell *dom.BasicHTMLElement
		switch {
		case tag == "th":
			cell = element(d, "th", "scope", "col")
		case i == 0:
			cell = element(d, "th", "scope", "row")
		default:
			cell = element(d, "td")
		}
		cell.SetTextContent(s)
		row.AppendChild(cell)
	}
	return row
}

func size(s int) string { return fmt.Sprintf("%d×%d", s, s) }

// count writes a number shortly: 1.9 M, 140 M, 11 k, 5280.
func count(n int64) string {
	switch {
	case n >= 10_000_000:
		return fmt.Sprintf("%.0f M", float64(n)/1e6)
	case n >= 1_000_000:
		return fmt.Sprintf("%.1f M", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%.0f k", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// unitNote says what the unit looked inside does, in the tutorial's words.
func unitNote(u engine.UnitShape, a engine.Architecture, shuffle bool) string {
	var s []string
	if u.Stride == 1 {
		s = append(s, fmt.Sprintf("A stride-1 unit: it adds its input to the expand conv's output, keeping %d channels of %d×%d.", u.Out, u.OutSize(), u.OutSize()))
	} else {
		s = append(s, fmt.Sprintf("A stride-2 unit: its 3×3 conv halves the maps to %d×%d, and it concatenates an average pool of its input (%d channels) with the expand conv's %d.", u.OutSize(), u.OutSize(), u.In, u.MainOut))
	}
	if u.CompressGroups == 1 && a.Groups > 1 {
		s = append(s, fmt.Sprintf("Its compress conv has one group (its input, %d channels, is too narrow to split); the shuffle still splits its output into %d groups.", u.In, a.Groups))
	}
	if a.Depthwise {
		s = append(s, "This model's 3×3 conv is depthwise and it shuffles after it; a depthwise conv treats each channel alone, so shuffling first, as drawn here, gives the same maps.")
	} else {
		s = append(s, fmt.Sprintf("Its 3×3 conv is grouped (%d groups), as the tutorial's code has it, not depthwise.", u.SpatialGroups))
	}
	if !shuffle {
		s = append(s, "The shuffle is off: the shuffled maps are the compress maps in their own order.")
	}
	return strings.Join(s, " ")
}

// drawFigure1 draws the paper's Figure 1 for a unit from perm, the
// engine's shuffle (shuffled channel j is compress channel perm[j]): the
// compress conv's channels, coloured by group, and the channels each
// group of the next grouped conv reads, with the shuffle and without. A
// table says the same in numbers, for those who cannot see it.
func (e *explorer) drawFigure1(u engine.UnitShape, arch engine.Architecture, perm []int) {
	g := arch.Groups
	next := "3×3 conv"
	if arch.Depthwise {
		next = "expand conv" // a depthwise 3x3 mixes nothing; the expand conv is the next grouped one
	}
	identity := make([]int, len(perm))
	for i := range identity {
		identity[i] = i
	}
	ctx := e.figure1.GetContext2d()
	w := float64(e.figure1.Width())
	ctx.SetFillStyle("#ffffff")
	ctx.FillRect(0, 0, w, float64(e.figure1.Height()))
	drawShuffle(ctx, w, 0, "With the channel shuffle", perm, g, next)
	drawShuffle(ctx, w, 165, "Without it", identity, g, next)

	e.figure1.SetAttribute("aria-label", fmt.Sprintf("Figure 1 for %s: %d channels in %d groups. With the shuffle, each group of the %s reads channels from every group; without it, only its own. The table below gives the numbers.", u.Name, len(perm), g, next))
	e.figure1Note.SetTextContent(fmt.Sprintf("The paper's Figure 1, drawn from the permutation the engine uses in %s: top, the compress conv's %d channels coloured by group; bottom, the channels each of the %s's %d groups reads.", u.Name, len(perm), next, g))

	d := e.c.doc
	table := element(d, "table")
	caption := element(d, "caption")
	caption.SetTextContent(fmt.Sprintf("Channels each group of the %s reads from each compress group, with the shuffle (and without).", next))
	headers := []string{"Reading group"}
	for i := range g {
		headers = append(headers, fmt.Sprintf("from group %d", i+1))
	}
	head := element(d, "thead")
	head.AppendChild(tableRow(d, "th", headers...))
	body := element(d, "tbody")
	per := max(1, len(perm)/g)
	for k := range g {
		cells := []string{fmt.Sprintf("group %d", k+1)}
		for i := range g {
			with := 0
			for j := k * per; j < (k+1)*per && j < len(perm); j++ {
				if perm[j]/per == i {
					with++
				}
			}
			without := 0
			if i == k {
				without = per
			}
			cells = append(cells, fmt.Sprintf("%d (%d)", with, without))
		}
		body.AppendChild(tableRow(d, "td", cells...))
	}
	appendAll(table, caption, head, body)
	e.figure1Table.SetTextContent("")
	e.figure1Table.AppendChild(table)
}

// drawShuffle draws one panel of Figure 1 at height top: a line from each
// compress channel perm[j] down to the place j it takes in the next conv's
// input, coloured by the group it comes from, over brackets naming the
// next conv's groups.
func drawShuffle(ctx *dom.CanvasRenderingContext2D, w, top float64, title string, perm []int, groups int, next string) {
	const margin, upper, lower = 16.0, 34.0, 120.0
	n := len(perm)
	if n == 0 {
		return
	}
	per := max(1, n/groups)
	step := (w - 2*margin) / float64(n)
	x := func(i int) float64 { return margin + (float64(i)+0.5)*step }
	colour := func(group int) string {
		c := featuremap.GroupColour(group)
		return fmt.Sprintf("rgb(%d,%d,%d)", c.R, c.G, c.B)
	}
	ctx.SetFillStyle("#1d2330")
	ctx.SetFont("13px system-ui, sans-serif")
	ctx.FillText(title+": compress output (top), "+next+" input (bottom)", margin, top+16, w-2*margin)
	cell := max(1, step-1)
	for j, from := range perm {
		ctx.SetStrokeStyle(colour(from / per))
		ctx.BeginPath()
		ctx.MoveTo(x(from), top+upper+8)
		ctx.LineTo(x(j), top+lower)
		ctx.Stroke()
		ctx.SetFillStyle(colour(j / per))
		ctx.FillRect(x(j)-cell/2, top+upper, cell, 8)
		ctx.SetFillStyle(colour(from / per))
		ctx.FillRect(x(j)-cell/2, top+lower, cell, 8)
	}
	ctx.SetFillStyle("#1d2330")
	ctx.SetFont("12px system-ui, sans-serif")
	for k := range groups {
		left, right := margin+float64(k*per)*step, margin+float64((k+1)*per)*step
		ctx.FillRect(left+1, top+lower+12, right-left-2, 2)
		ctx.FillText(fmt.Sprintf("group %d", k+1), left+2, top+lower+28, right-left-4)
	}
}
