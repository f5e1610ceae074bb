//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"slices"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/convert"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// The explorer's pass as the /inside/ page asks for it: four stage
// mosaics and a unit's four steps, each with as many pixels as it says,
// the model's own shuffle (a permutation, not the identity), and, without
// the shuffle, PyTorch's no-shuffle first class for the photo; with it,
// the classification's own classes.
func TestExplore(t *testing.T) {
	in := &inference{models: map[string]*loadedModel{}}
	if _, err := call(in.load, "megvii", uint8Array(weightstest.Megvii(t, weights.Float32))); err != "" {
		t.Fatal(err)
	}
	img, err := preprocess.Decode(context.Background(), shared.Read(t, "images/chelsea.png"), preprocess.DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	pixels := image.NewNRGBA(img.Bounds())
	draw.Draw(pixels, pixels.Rect, img, img.Bounds().Min, draw.Src)
	var ref map[string]struct {
		Chelsea struct {
			NoShuffleTop5 []int `json:"noshuffle_top5"`
		} `json:"chelsea"`
	}
	if err := json.Unmarshal(shared.Read(t, "testdata/stages/reference.json"), &ref); err != nil {
		t.Fatal(err)
	}

	for _, shuffle := range []bool{true, false} {
		look := map[string]any{"unit": "stage3.unit1", "shuffle": shuffle}
		answer, msg := call(in.classify, "megvii", uint8Array(pixels.Pix), pixels.Rect.Dx(), pixels.Rect.Dy(), 5, false, look)
		if msg != "" {
			t.Fatal(msg)
		}
		inside := answer.Get("inside")
		stages, steps := inside.Get("stages"), inside.Get("unit").Get("steps")
		if stages.Length() != 4 || steps.Length() != 4 {
			t.Fatalf("shuffle %v: %d stages and %d steps", shuffle, stages.Length(), steps.Length())
		}
		for i := range 8 {
			m := stages
			if i >= 4 {
				m = steps
			}
			m = m.Index(i % 4)
			if n, w, h := m.Get("pixels").Get("length").Int(), m.Get("width").Int(), m.Get("height").Int(); n != 4*w*h || w < m.Get("size").Int() {
				t.Errorf("shuffle %v, picture %d: %d bytes for %dx%d", shuffle, i, n, w, h)
			}
		}
		if got := answer.Get("transfer").Length(); got != 1+8 {
			t.Errorf("shuffle %v: %d buffers to move, want the crop's and 8 pictures'", shuffle, got)
		}
		perm := make([]int, inside.Get("unit").Get("perm").Length())
		for i := range perm {
			perm[i] = inside.Get("unit").Get("perm").Index(i).Int()
		}
		sorted := slices.Sorted(slices.Values(perm))
		if len(perm) != 60 || !slices.Equal(sorted, identity(60)) || slices.Equal(perm, identity(60)) {
			t.Errorf("shuffle %v: Figure 1's permutation %v is not the model's shuffle of 60 channels", shuffle, perm)
		}
		first := inside.Get("top").Index(0).Get("index").Int()
		switch {
		case shuffle && first != answer.Get("top").Index(0).Get("index").Int():
			t.Errorf("with the shuffle the explorer's first class %d differs from the classification's", first)
		case !shuffle && first != ref["megvii_g3_0.5x"].Chelsea.NoShuffleTop5[0]:
			t.Errorf("without the shuffle the first class is %d, PyTorch's %d", first, ref["megvii_g3_0.5x"].Chelsea.NoShuffleTop5[0])
		}
	}

	_, msg := call(in.classify, "megvii", uint8Array(pixels.Pix), pixels.Rect.Dx(), pixels.Rect.Dy(), 5, false, map[string]any{"unit": "stage9.unit0"})
	if !strings.Contains(msg, `no unit "stage9.unit0"`) {
		t.Errorf("an unknown unit: %q", msg)
	}
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// The explorer works on any model the server may list: the seed's g = 1
// (no shuffle: Figure 1's permutation is the identity), and g = 8 with its
// grouped 3x3 conv, from the seed checkpoints converted as the CLI does.
func TestExploreSeedModels(t *testing.T) {
	for _, c := range []struct {
		groups   int
		shuffles bool
	}{{1, false}, {8, true}} {
		name := fmt.Sprintf("seed_g%d_1x", c.groups)
		res, err := convert.Checkpoint(shared.Read(t, "testdata/"+name+".pth"), convert.Options{DType: weights.Float32})
		if err != nil {
			t.Fatal(err)
		}
		in := &inference{models: map[string]*loadedModel{}}
		if _, msg := call(in.load, name, uint8Array(res.File)); msg != "" {
			t.Fatal(msg)
		}
		picture := make([]byte, 4*300*200)
		for i := range picture {
			picture[i] = byte(i * 7)
		}
		for _, unit := range []string{"stage2.unit0", "stage4.unit3"} {
			answer, msg := call(in.classify, name, uint8Array(picture), 300, 200, 5, false, map[string]any{"unit": unit, "shuffle": true})
			if msg != "" {
				t.Fatalf("%s %s: %s", name, unit, msg)
			}
			p := answer.Get("inside").Get("unit").Get("perm")
			perm := make([]int, p.Length())
			for i := range perm {
				perm[i] = p.Index(i).Int()
			}
			if shuffled := !slices.Equal(perm, identity(len(perm))); shuffled != c.shuffles {
				t.Errorf("%s %s: Figure 1's permutation shuffles: %v, want %v", name, unit, shuffled, c.shuffles)
			}
			if n := answer.Get("inside").Get("unit").Get("steps").Length(); n != 4 {
				t.Errorf("%s %s: %d steps", name, unit, n)
			}
		}
	}
}
