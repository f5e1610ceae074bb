//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"
	"time"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/engine/classify"
	"github.com/shufflenet-go/shufflenet/engine/featuremap"
)

// The explorer's side of the worker: a classification the /inside/ page
// asks for also looks inside the network (see ForwardObserved), and answers
// each stage's maps and one unit's steps as pictures, rendered here in Go,
// so that the page only draws them.

// exploreRequest is what the explorer asks of a classification.
type exploreRequest struct {
	unit    string // the unit to look inside, e.g. "stage3.unit2"
	shuffle bool   // false: the network without its channel shuffle
}

func parseExploreRequest(v js.Value) (exploreRequest, bool) {
	if !v.Truthy() {
		return exploreRequest{}, false
	}
	return exploreRequest{unit: v.Get("unit").String(), shuffle: v.Get("shuffle").Truthy()}, true
}

// explorerWidth is the widest a mosaic of maps is drawn, in pixels.
const explorerWidth = 448

// exploration is a model's explorer state: the network without its
// shuffle, built the first time the explorer asks (it costs a second set
// of activation buffers, which a plain classifier never needs), and the
// pictures of each pass, allocated once per shape.
type exploration struct {
	ablation *engine.Network
	mosaics  map[mosaicKey]*mosaic
}

type mosaicKey struct {
	step                  engine.Step
	stage, channels, size int
}

// mosaic is one activation drawn as a grid of maps.
type mosaic struct {
	layout  featuremap.Layout
	pixels  []byte
	colours []featuremap.Colour
}

// neutral is the colour of maps that no one conv's groups made: a stage's
// output, whose units mixed them all (the unit output step is coloured by
// its expand conv's groups, the last to write it), and pooled shortcuts.
var neutral = featuremap.Colour{R: 230, G: 230, B: 230}

// explore runs the explorer's pass on m.input: the network with the shuffle
// or without it, observed, with the unit asked for drawn step by step. It
// answers what the page shows and the pass's logits.
func (m *loadedModel) explore(req exploreRequest) (map[string]any, []float32, error) {
	shape, ok := m.arch.Unit(req.unit)
	if !ok {
		return nil, nil, fmt.Errorf("explore: no unit %q", req.unit)
	}
	net := m.net
	if !req.shuffle {
		if m.explored.ablation == nil {
			ablation, err := m.model.NetworkWithoutShuffle()
			if err != nil {
				return nil, nil, err
			}
			m.explored.ablation = ablation
		}
		net = m.explored.ablation
	}
	// The maps are coloured by the explored network's permutation (the
	// identity without the shuffle); Figure 1 draws the model's own.
	perm, err := net.Shuffle(shape.Stage, shape.Index)
	if err != nil {
		return nil, nil, err
	}
	shuffle, err := m.net.Shuffle(shape.Stage, shape.Index)
	if err != nil {
		return nil, nil, err
	}
	var stages, steps []any
	var renderTime time.Duration
	var failed error
	start := time.Now()
	logits, err := net.ForwardObserved(m.input, func(a engine.Activation) {
		if failed != nil {
			return
		}
		inUnit := a.Step != engine.StageOutput && a.Stage == shape.Stage && a.Unit == shape.Index
		if a.Step != engine.StageOutput && !inUnit {
			return
		}
		began := time.Now()
		picture, err := m.draw(a, shape, perm)
		renderTime += time.Since(began)
		if err != nil {
			failed = err
			return
		}
		if inUnit {
			steps = append(steps, picture)
		} else {
			stages = append(stages, picture)
		}
	})
	if err == nil {
		err = failed
	}
	if err != nil {
		return nil, nil, err
	}
	passTime := time.Since(start)
	permJS := make([]any, len(shuffle))
	for i, p := range shuffle {
		permJS[i] = p
	}
	return map[string]any{
		"shuffle":  req.shuffle,
		"top":      topJS(classify.Top(logits, 5)),
		"stages":   stages,
		"unit":     map[string]any{"name": shape.Name, "groups": m.arch.Groups, "perm": permJS, "steps": steps},
		"ms":       milliseconds(passTime - renderTime),
		"renderMs": milliseconds(renderTime),
	}, logits, nil
}

// draw renders one activation as a mosaic and describes it for people.
func (m *loadedModel) draw(a engine.Activation, unit engine.UnitShape, perm []int) (map[string]any, error) {
	key := mosaicKey{a.Step, a.Stage, a.Channels, a.Size}
	mo := m.explored.mosaics[key]
	if mo == nil {
		layout, err := mosaicLayout(a.Channels, a.Size)
		if err != nil {
			return nil, err
		}
		mo = &mosaic{layout: layout, pixels: make([]byte, 4*layout.Width*layout.Height), colours: make([]featuremap.Colour, a.Channels)}
		if m.explored.mosaics == nil {
			m.explored.mosaics = map[mosaicKey]*mosaic{}
		}
		m.explored.mosaics[key] = mo
	}
	groupColours(mo.colours, a, unit, m.arch, perm)
	if err := mo.layout.Render(mo.pixels, a.Maps, mo.colours); err != nil {
		return nil, err
	}
	pixels := js.Global().Get("Uint8ClampedArray").New(len(mo.pixels))
	js.CopyBytesToJS(pixels, mo.pixels)
	strongest, silent := describeMaps(a.Maps, a.Channels, a.Size*a.Size)
	return map[string]any{
		"step": a.Step.String(), "stage": a.Stage, "channels": a.Channels, "size": a.Size,
		"width": mo.layout.Width, "height": mo.layout.Height, "columns": mo.layout.Columns,
		"pixels": pixels, "strongest": strongest, "silent": silent,
	}, nil
}

// mosaicLayout lays maps out within explorerWidth pixels or, where they are
// wider even at one pixel a value (the seed g = 8's 96 maps of 56x56),
// within twice that, and so on: the page scales the picture down to its
// column anyway.
func mosaicLayout(channels, size int) (featuremap.Layout, error) {
	for width := explorerWidth; ; width *= 2 {
		layout, err := featuremap.NewLayout(channels, size, width)
		if err == nil || width >= featuremap.MaxSide {
			return layout, err
		}
	}
}

// groupColours colours each map by the group that made it: the compress
// conv's groups (the g groups the shuffle splits channels into, also where
// the first unit's compress conv has one group), kept through the shuffle
// and through a depthwise 3x3, which mixes no channels; a grouped 3x3's
// and the expand conv's own groups; neutral where no group made a map alone.
func groupColours(colours []featuremap.Colour, a engine.Activation, u engine.UnitShape, arch engine.Architecture, perm []int) {
	g := arch.Groups
	perGroup := func(channels int) int { return max(1, channels/g) }
	for c := range colours {
		switch a.Step {
		case engine.Compress:
			colours[c] = featuremap.GroupColour(c / perGroup(u.Mid))
		case engine.Shuffled:
			colours[c] = featuremap.GroupColour(perm[c] / perGroup(u.Mid))
		case engine.Spatial:
			if arch.Depthwise {
				colours[c] = featuremap.GroupColour(perm[c] / perGroup(u.Mid))
			} else {
				colours[c] = featuremap.GroupColour(c / perGroup(u.Mid))
			}
		case engine.UnitOutput:
			main := c // the expand conv's channel; a stride-2 unit's pooled half is neutral
			if u.Stride == 2 && arch.PoolFirst {
				main = c - u.In
			}
			if main < 0 || main >= u.MainOut {
				colours[c] = neutral
			} else {
				colours[c] = featuremap.GroupColour(main / perGroup(u.MainOut))
			}
		default:
			colours[c] = neutral
		}
	}
}

// describeMaps names, for a text alternative, the three channels with the
// largest mean and counts the channels that are zero everywhere (ReLU
// silenced them for this picture).
func describeMaps(maps []float32, channels, hw int) (strongest []any, silent int) {
	best := [3]int{-1, -1, -1}
	var means [3]float32
	for c := range channels {
		var sum float32
		zero := true
		for _, v := range maps[c*hw : (c+1)*hw] {
			sum += v
			zero = zero && v == 0
		}
		if zero {
			silent++
		}
		mean := sum / float32(hw)
		for i := range best {
			if best[i] < 0 || mean > means[i] {
				copy(best[i+1:], best[i:len(best)-1])
				copy(means[i+1:], means[i:len(means)-1])
				best[i], means[i] = c, mean
				break
			}
		}
	}
	for _, c := range best {
		if c >= 0 {
			strongest = append(strongest, c)
		}
	}
	return strongest, silent
}

func milliseconds(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// topJS is a list of predictions as the page reads them.
func topJS(preds []classify.Prediction) []any {
	top := make([]any, len(preds))
	for i, p := range preds {
		top[i] = map[string]any{"index": p.Index, "label": p.Label, "prob": p.Prob}
	}
	return top
}

// pixelBuffers lists the buffers of an exploration's pictures.
func pixelBuffers(inside map[string]any) []any {
	var buffers []any
	pictures := inside["stages"].([]any)
	pictures = append(pictures, inside["unit"].(map[string]any)["steps"].([]any)...)
	for _, p := range pictures {
		buffers = append(buffers, p.(map[string]any)["pixels"].(js.Value).Get("buffer"))
	}
	return buffers
}
