package engine_test

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/kshedden/gonpy"
	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights/checkpoint"
)

// These tests hold ForwardObserved and NewWithoutShuffle to PyTorch's own
// outputs (../shared/testdata/stages): each stage of the seed g3 1x and of
// the real Megvii g3 0.5x, and the logits with the shuffle removed.

// realModel is a checkpoint the stage references were computed from.
type realModel struct {
	name       string // its key in testdata/stages/reference.json
	checkpoint string
	input      string // the input of the stage references
	stages     string // the stage references' name, less _stageN.npy
	shuffle    engine.Shuffle
}

var realModels = []realModel{
	{"seed_g3_1x", "testdata/seed_g3_1x.pth", "testdata/seed_input.npy", "testdata/stages/seed_g3_1x", engine.ShuffleStandard},
	{"megvii_g3_0.5x", "weights/megvii-shufflenetv1-g3-0.5x.pth.tar", "testdata/megvii_input_chelsea.npy",
		"testdata/stages/megvii_g3_0.5x_chelsea", engine.ShuffleMegvii},
}

// The two photos other than chelsea, for the no-shuffle logits.
var megviiPhotos = []string{"chelsea", "coffee", "motorcycle_left"}

var checkpoints sync.Map // path in ../shared -> *checkpoint.Model

// model reads the checkpoint once per test binary.
func (m realModel) model(t testing.TB) *checkpoint.Model {
	t.Helper()
	if v, ok := checkpoints.Load(m.checkpoint); ok {
		return v.(*checkpoint.Model)
	}
	cm, err := checkpoint.Read(shared.Read(t, m.checkpoint), "")
	if err != nil {
		t.Fatal(err)
	}
	checkpoints.Store(m.checkpoint, cm)
	return cm
}

// networks builds the model's network and its no-shuffle ablation.
func (m realModel) networks(t testing.TB) (plain, noShuffle *engine.Network) {
	t.Helper()
	cm := m.model(t)
	p, err := engine.Fold(cm.Arch, cm.Trained)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err = engine.New(cm.Arch, p); err != nil {
		t.Fatal(err)
	}
	if noShuffle, err = engine.NewWithoutShuffle(cm.Arch, p); err != nil {
		t.Fatal(err)
	}
	return plain, noShuffle
}

// stagesReference is testdata/stages/reference.json: by model, the stage
// shapes (C, H, W), the no-shuffle top-5 (seed) and, by photo, the
// no-shuffle top-5 (Megvii).
type stagesReference map[string]map[string]json.RawMessage

func readStagesReference(t testing.TB) stagesReference {
	t.Helper()
	var ref stagesReference
	shared.JSON(t, "testdata/stages/reference.json", &ref)
	return ref
}

func (r stagesReference) get(t testing.TB, model, key string, v any) {
	t.Helper()
	raw, ok := r[model][key]
	if !ok {
		t.Fatalf("testdata/stages/reference.json has no %s.%s", model, key)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("testdata/stages/reference.json %s.%s: %v", model, key, err)
	}
}

// npyShape is the shape a shared .npy file states.
func npyShape(t testing.TB, rel string) []int {
	t.Helper()
	r, err := gonpy.NewFileReader(shared.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return r.Shape
}

// withinPyTorch checks got against PyTorch's want to 1e-3 of want's
// largest magnitude (or 1e-3 absolute, if that is under 1).
func withinPyTorch(t *testing.T, got, want []float32) {
	t.Helper()
	withinOf(t, got, want, 1e-3)
}

func withinOf(t *testing.T, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	var worst, scale float64
	at := 0
	for i := range want {
		if d := math.Abs(float64(got[i]) - float64(want[i])); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
		scale = max(scale, math.Abs(float64(want[i])))
	}
	t.Logf("max abs diff %.3g (values up to %.3g)", worst, scale)
	if !(worst <= tol*max(1, scale)) {
		t.Errorf("value %d: %g, want %g: diff %.3g over %.0e of %.3g", at, got[at], want[at], worst, tol, max(1, scale))
	}
}

// copier keeps a copy of every activation a pass reports, in buffers it
// reuses from one pass to the next, as the browser's explorer does.
type copier struct {
	acts []engine.Activation
	next int
}

func (c *copier) observe(a engine.Activation) {
	if c.next == len(c.acts) {
		c.acts = append(c.acts, engine.Activation{Maps: make([]float32, 0, len(a.Maps))})
	}
	keep := &c.acts[c.next]
	maps := append(keep.Maps[:0], a.Maps...)
	*keep = a
	keep.Maps = maps
	c.next++
}

// pass runs one observed forward pass and returns its activations, which
// the next pass overwrites.
func (c *copier) pass(t testing.TB, n *engine.Network, obs engine.Observer, input []float32) []engine.Activation {
	t.Helper()
	c.next = 0
	if _, err := n.ForwardObserved(input, obs); err != nil {
		t.Fatal(err)
	}
	return c.acts[:c.next]
}

// Each stage's output (the stem's after its max pool, then stages 2-4) is
// PyTorch's, in the shape reference.json gives.
func TestStageOutputsMatchPyTorch(t *testing.T) {
	ref := readStagesReference(t)
	for _, m := range realModels {
		t.Run(m.name, func(t *testing.T) {
			var shapes [][3]int
			ref.get(t, m.name, "stage_shapes", &shapes)
			if len(shapes) != 4 {
				t.Fatalf("reference.json: %d stage shapes", len(shapes))
			}
			n, _ := m.networks(t)
			var c copier
			var stages []engine.Activation
			for _, a := range c.pass(t, n, c.observe, shared.NPY(t, m.input)) {
				if a.Step == engine.StageOutput {
					stages = append(stages, a)
				}
			}
			if len(stages) != 4 {
				t.Fatalf("%d stage outputs reported, want 4", len(stages))
			}
			for i, a := range stages {
				t.Run(fmt.Sprintf("stage%d", i+1), func(t *testing.T) {
					rel := fmt.Sprintf("%s_stage%d.npy", m.stages, i+1)
					want := shapes[i]
					if got := [3]int{a.Channels, a.Size, a.Size}; a.Stage != i+1 || got != want {
						t.Errorf("reported stage %d, %v; reference.json: stage %d, %v", a.Stage, got, i+1, want)
					}
					if got := npyShape(t, rel); !slices.Equal(got, []int{1, want[0], want[1], want[2]}) {
						t.Errorf("%s has shape %v, reference.json %v", rel, got, want)
					}
					withinPyTorch(t, a.Maps, shared.NPY(t, rel))
				})
			}
		})
	}
}

// The network without the shuffle gives PyTorch's logits of the same
// weights with the shuffle removed, and its top-5.
func TestNoShuffleMatchesPyTorch(t *testing.T) {
	ref := readStagesReference(t)
	type ablation struct {
		name         string
		model        realModel
		input, want  string
		ref, top5Key string // where reference.json has the top-5
	}
	seed, megvii := realModels[0], realModels[1]
	cases := []ablation{{"seed_g3_1x", seed, "testdata/seed_input.npy", "testdata/stages/seed_g3_1x_noshuffle_logits.npy", seed.name, "noshuffle_top5"}}
	for _, img := range megviiPhotos {
		cases = append(cases, ablation{"megvii_g3_0.5x/" + img, megvii, "testdata/megvii_input_" + img + ".npy",
			"testdata/stages/megvii_g3_0.5x_" + img + "_noshuffle_logits.npy", megvii.name, img})
	}
	nets := map[string]*engine.Network{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := nets[c.model.name]
			if n == nil {
				_, n = c.model.networks(t)
				nets[c.model.name] = n
			}
			var top5 []int
			if c.top5Key == "noshuffle_top5" {
				ref.get(t, c.ref, c.top5Key, &top5)
			} else {
				var photo struct {
					Top5 []int `json:"noshuffle_top5"`
				}
				ref.get(t, c.ref, c.top5Key, &photo)
				top5 = photo.Top5
			}
			if got := npyShape(t, c.want); !slices.Equal(got, []int{1, 1000}) {
				t.Fatalf("%s has shape %v", c.want, got)
			}
			logits, err := n.Forward(shared.NPY(t, c.input))
			if err != nil {
				t.Fatal(err)
			}
			withinPyTorch(t, logits, shared.NPY(t, c.want))
			if got := engine.TopK(logits, 5); !slices.Equal(got, top5) {
				t.Errorf("top-5 %v, PyTorch %v", got, top5)
			}
		})
	}
}

// ForwardObserved's logits are Forward's, bit for bit, with and without
// the shuffle; and observing leaves the next plain pass as it was.
func TestForwardObservedIsForward(t *testing.T) {
	for _, m := range realModels {
		plain, noShuffle := m.networks(t)
		input := shared.NPY(t, m.input)
		for name, n := range map[string]*engine.Network{"plain": plain, "noshuffle": noShuffle} {
			t.Run(m.name+"/"+name, func(t *testing.T) {
				forward := func() []float32 {
					logits, err := n.Forward(input)
					if err != nil {
						t.Fatal(err)
					}
					return slices.Clone(logits)
				}
				want := forward()
				var c copier
				observed, err := n.ForwardObserved(input, c.observe)
				if err != nil {
					t.Fatal(err)
				}
				sameBits(t, "ForwardObserved", observed, want)
				sameBits(t, "Forward after ForwardObserved", forward(), want)
			})
		}
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: logit %d is %g, Forward's %g", what, i, got[i], want[i])
		}
	}
}

// Once an observer's buffers exist, an observed pass allocates nothing.
func TestForwardObservedAllocatesNothing(t *testing.T) {
	for _, m := range realModels {
		t.Run(m.name, func(t *testing.T) {
			n, _ := m.networks(t)
			input := shared.NPY(t, m.input)
			var c copier
			obs := engine.Observer(c.observe)
			c.pass(t, n, obs, input) // the observer's buffers and the network's own
			if allocs := testing.AllocsPerRun(2, func() { c.pass(t, n, obs, input) }); allocs != 0 {
				t.Errorf("a second observed pass allocates %v times", allocs)
			}
		})
	}
}

// transposed reads channels 0..rows*cols-1 as a rows x cols grid and
// returns them column by column: view(rows, cols).transpose(0, 1).flatten().
func transposed(rows, cols int) []int {
	perm := make([]int, 0, rows*cols)
	for c := range cols {
		for r := range rows {
			perm = append(perm, r*cols+c)
		}
	}
	return perm
}

// paperShuffle is the permutation each family's PyTorch code applies to C
// channels in g groups: the paper's view(g, C/g), transpose, flatten, or
// Megvii's reshape(C/g, g), permute.
func paperShuffle(kind engine.Shuffle, channels, groups int) []int {
	switch kind {
	case engine.ShuffleStandard:
		return transposed(groups, channels/groups)
	case engine.ShuffleMegvii:
		return transposed(channels/groups, groups)
	}
	return transposed(1, channels) // the identity
}

// Network.Shuffle is each unit's shuffle as the family's code applies it,
// and the identity in the network without it.
func TestShuffleIsThePapers(t *testing.T) {
	for _, m := range realModels {
		t.Run(m.name, func(t *testing.T) {
			plain, noShuffle := m.networks(t)
			a := plain.Architecture()
			for _, u := range a.Units() {
				for _, c := range []struct {
					n    *engine.Network
					want []int
				}{
					{plain, paperShuffle(m.shuffle, u.Mid, a.Groups)},
					{noShuffle, paperShuffle(engine.ShuffleNone, u.Mid, a.Groups)},
				} {
					got, err := c.n.Shuffle(u.Stage, u.Index)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, c.want) {
						t.Errorf("%s: shuffle %v, want %v", u.Name, got, c.want)
					}
				}
			}
			units := len(a.Units())
			for _, bad := range [][2]int{{1, 0}, {5, 0}, {2, -1}, {4, units}} {
				if _, err := plain.Shuffle(bad[0], bad[1]); err == nil {
					t.Errorf("Shuffle(%d, %d): no error", bad[0], bad[1])
				}
			}
		})
	}
}

// A unit's Compress maps are its conv's own channels, in the checkpoint's
// order: the trained conv (batch norm, ReLU) of the unit's input, computed
// here without folding. Shuffled is them in the shuffle's order, and
// Spatial the trained 3x3 conv of the maps it reads (Megvii's shuffle
// after its 3x3 applied after it). The steps come unit by unit, and each
// stage's output is its last unit's.
func TestObservedStepsAreTheCheckpoints(t *testing.T) {
	for _, m := range realModels {
		t.Run(m.name, func(t *testing.T) {
			n, _ := m.networks(t)
			cm := m.model(t)
			a := cm.Arch
			var c copier
			acts := c.pass(t, n, c.observe, shared.NPY(t, m.input))
			units := a.Units()
			if want := 1 + 4*len(units) + 3; len(acts) != want {
				t.Fatalf("%d activations reported, want %d", len(acts), want)
			}
			in, acts := acts[0], acts[1:]
			for i, u := range units {
				steps := acts[:4]
				acts = acts[4:]
				for k, step := range []engine.Step{engine.Compress, engine.Shuffled, engine.Spatial, engine.UnitOutput} {
					if s := steps[k]; s.Step != step || s.Stage != u.Stage || s.Unit != u.Index {
						t.Fatalf("%s: got %v of stage %d unit %d, want %v", u.Name, s.Step, s.Stage, s.Unit, step)
					}
				}
				compress, shuffled, spatial := steps[0], steps[1], steps[2]
				if compress.Channels != u.Mid || compress.Size != u.InSize || spatial.Channels != u.Mid || spatial.Size != u.OutSize() {
					t.Fatalf("%s: compress %dx%d, 3x3 %dx%d", u.Name, compress.Channels, compress.Size, spatial.Channels, spatial.Size)
				}
				tr := cm.Trained.Units[i]
				t.Run(u.Name, func(t *testing.T) {
					want := naiveConv(in.Maps, u.InSize, tr.Compress, u.Compress())
					for k := range want {
						want[k] = max(want[k], 0)
					}
					withinOf(t, compress.Maps, want, 1e-4)
					perm := paperShuffle(m.shuffle, u.Mid, a.Groups)
					hw := u.InSize * u.InSize
					for j, from := range perm {
						if !slices.Equal(shuffled.Maps[j*hw:(j+1)*hw], compress.Maps[from*hw:(from+1)*hw]) {
							t.Fatalf("shuffled channel %d is not compress channel %d", j, from)
						}
					}
					if a.ShufflePosition == engine.AfterSpatial {
						out := u.OutSize() * u.OutSize()
						conv := naiveConv(compress.Maps, u.InSize, tr.Spatial, u.Spatial())
						want = make([]float32, len(conv))
						for j, from := range perm {
							copy(want[j*out:(j+1)*out], conv[from*out:(from+1)*out])
						}
					} else {
						want = naiveConv(shuffled.Maps, u.InSize, tr.Spatial, u.Spatial())
					}
					withinOf(t, spatial.Maps, want, 1e-4)
				})
				in = steps[3]
				if i+1 == len(units) || units[i+1].Stage != u.Stage {
					stage := acts[0]
					acts = acts[1:]
					if stage.Step != engine.StageOutput || stage.Stage != u.Stage || stage.Unit != u.Index || !slices.Equal(stage.Maps, in.Maps) {
						t.Fatalf("after %s: %v of stage %d unit %d, not the unit's output", u.Name, stage.Step, stage.Stage, stage.Unit)
					}
				}
			}
		})
	}
}

// naiveConv is the trained layer l (conv, bias, batch norm) of shape s on
// the size x size maps in, in float64, straight from the definitions.
func naiveConv(in []float32, size int, l engine.Layer, s engine.ConvShape) []float32 {
	k, pad, outSize := s.Kernel, s.Kernel/2, s.OutSize
	inPer, outPer := s.In/s.Groups, s.Out/s.Groups
	out := make([]float32, s.Out*outSize*outSize)
	for o := range s.Out {
		g := o / outPer
		scale, shift := 1.0, 0.0
		if l.Bias != nil {
			shift = float64(l.Bias[o])
		}
		if bn := l.Norm; bn != nil {
			bnScale := float64(bn.Weight[o]) / math.Sqrt(float64(bn.Var[o])+float64(bn.Eps))
			scale, shift = bnScale, (shift-float64(bn.Mean[o]))*bnScale+float64(bn.Bias[o])
		}
		for y := range outSize {
			for x := range outSize {
				var sum float64
				for i := range inPer {
					plane := in[(g*inPer+i)*size*size:]
					for ky := range k {
						iy := y*s.Stride - pad + ky
						if iy < 0 || iy >= size {
							continue
						}
						for kx := range k {
							ix := x*s.Stride - pad + kx
							if ix < 0 || ix >= size {
								continue
							}
							sum += float64(l.Weight[((o*inPer+i)*k+ky)*k+kx]) * float64(plane[iy*size+ix])
						}
					}
				}
				out[(o*outSize+y)*outSize+x] = float32(sum*scale + shift)
			}
		}
	}
	return out
}

// The pooled features a head is trained on (Network.Features) are the
// average of PyTorch's stage-4 output over its 7x7 positions.
func TestFeaturesMatchPyTorch(t *testing.T) {
	ref := readStagesReference(t)
	for _, m := range realModels {
		t.Run(m.name, func(t *testing.T) {
			var shapes [][3]int
			ref.get(t, m.name, "stage_shapes", &shapes)
			stage4 := shared.NPY(t, m.stages+"_stage4.npy")
			channels, hw := shapes[3][0], shapes[3][1]*shapes[3][2]
			want := make([]float32, channels)
			for c := range want {
				var sum float64
				for _, v := range stage4[c*hw : (c+1)*hw] {
					sum += float64(v)
				}
				want[c] = float32(sum / float64(hw))
			}
			n, _ := m.networks(t)
			if _, err := n.Forward(shared.NPY(t, m.input)); err != nil {
				t.Fatal(err)
			}
			got, err := n.Features()
			if err != nil {
				t.Fatal(err)
			}
			withinPyTorch(t, got, want)
		})
	}
}
