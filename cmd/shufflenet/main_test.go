package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kshedden/gonpy"
	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/internal/shared"
)

func TestClassifyChelseaIsACat(t *testing.T) {
	ckpt := shared.Path(t, "weights/megvii-shufflenetv1-g3-0.5x.pth.tar")
	var out bytes.Buffer
	err := run([]string{"classify", "--checkpoint", ckpt, "--json", "--top", "3", shared.Path(t, "images/chelsea.png")}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var res classification
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if len(res.Top) != 3 || res.Top[0].Index < 281 || res.Top[0].Index > 285 || res.MS <= 0 {
		t.Fatalf("result %+v: want 3 classes, a cat (281-285) first, and a time", res)
	}
	if res.Top[0].Label != "Egyptian cat" || res.Top[0].Prob < 0.3 || res.Top[0].Prob > 1 {
		t.Errorf("top-1 %+v", res.Top[0])
	}
}

// The Megvii top-1 of each photo, preprocessed natively, is the one
// PyTorch gives on Megvii's own preprocessing.
func TestClassifyMatchesReferenceTop1(t *testing.T) {
	var ref struct {
		Megvii map[string]map[string][]int `json:"megvii"`
	}
	shared.JSON(t, "testdata/reference.json", &ref)
	for _, g := range []string{"3", "8"} {
		ckpt := shared.Path(t, "weights/megvii-shufflenetv1-g"+g+"-0.5x.pth.tar")
		for img, top5 := range ref.Megvii["megvii_g"+g+"_0.5x"] {
			var out bytes.Buffer
			if err := run([]string{"classify", "--checkpoint", ckpt, "--json", shared.Path(t, "images/"+img+".png")}, &out); err != nil {
				t.Fatal(err)
			}
			var res classification
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			if res.Top[0].Index != top5[0] {
				t.Errorf("g%s %s: top-1 %d, PyTorch %d", g, img, res.Top[0].Index, top5[0])
			}
		}
	}
}

func TestLogitsMatchPyTorch(t *testing.T) {
	out := filepath.Join(t.TempDir(), "logits.npy")
	err := run([]string{"logits", "--checkpoint", shared.Path(t, "testdata/seed_g2_1x.pth"),
		"--input", shared.Path(t, "testdata/seed_input.npy"), "--out", out}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := gonpy.NewFileReader(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.GetFloat32()
	if err != nil {
		t.Fatal(err)
	}
	want := shared.NPY(t, "testdata/seed_g2_1x_logits.npy")
	if len(got) != len(want) || r.Shape[0] != 1 || r.Shape[1] != 1000 {
		t.Fatalf("shape %v", r.Shape)
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 5e-4 {
			t.Fatalf("logit %d: %g, PyTorch %g", i, got[i], want[i])
		}
	}
}

func TestConvertAndClassifyWithWeights(t *testing.T) {
	out := filepath.Join(t.TempDir(), "g3.safetensors")
	var msg bytes.Buffer
	if err := run([]string{"convert", "--checkpoint", shared.Path(t, "weights/megvii-shufflenetv1-g3-0.5x.pth.tar"), "--out", out}, &msg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.String(), "float16 stem") {
		t.Errorf("convert said %q", msg.String())
	}
	var res bytes.Buffer
	if err := run([]string{"classify", "--weights", out, "--json", shared.Path(t, "images/chelsea.png")}, &res); err != nil {
		t.Fatal(err)
	}
	var c classification
	if err := json.Unmarshal(res.Bytes(), &c); err != nil || c.Top[0].Index < 281 || c.Top[0].Index > 285 {
		t.Errorf("int8 weights: %s (%v)", res.String(), err)
	}
}

// fetch finds the checkpoint through $SHUFFLENET_CHECKPOINTS, converts it,
// and leaves a file that a second fetch recognises as up to date.
func TestFetchFromCopies(t *testing.T) {
	t.Setenv("SHUFFLENET_CHECKPOINTS", filepath.Dir(shared.Path(t, "weights/megvii-shufflenetv1-g3-0.5x.pth.tar")))
	dir := t.TempDir()
	args := []string{"fetch", "--dir", dir, "--cache", filepath.Join(dir, "cache"), "megvii-g3-0.5x"}
	var out bytes.Buffer
	if err := run(args, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "megvii-g3-0.5x.int8.safetensors")); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(args, &out); err != nil || !strings.Contains(out.String(), "up to date") {
		t.Errorf("second fetch: %q, %v", out.String(), err)
	}
}

// export writes the page, the engine and the weights under the names the
// server uses, a _headers file, and the engine's location for the worker.
func TestExport(t *testing.T) {
	weightsDir, out := t.TempDir(), filepath.Join(t.TempDir(), "site")
	ckpt := shared.Path(t, "weights/megvii-shufflenetv1-g3-0.5x.pth.tar")
	if err := run([]string{"convert", "--checkpoint", ckpt, "--out", filepath.Join(weightsDir, "megvii-g3-0.5x.int8.safetensors")}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	engineJSON := filepath.Join(t.TempDir(), "engine.json")
	err := run([]string{"export", "--weights", weightsDir, "--engine-json", engineJSON, out}, &bytes.Buffer{})
	if errors.Is(err, errNoEngine) {
		if os.Getenv("CI") == "true" {
			t.Fatal("the engine is not built into the CLI: run make wasm before the tests")
		}
		t.Skip("skipping: the engine is not built (make wasm)")
	}
	if err != nil {
		t.Fatal(err)
	}
	var engine struct {
		URL      string `json:"url"`
		Bytes    int64  `json:"bytes"`
		WasmExec string `json:"wasm_exec"`
	}
	data, _ := os.ReadFile(engineJSON)
	if err := json.Unmarshal(data, &engine); err != nil {
		t.Fatalf("engine.json %q: %v", data, err)
	}
	wasm, err := os.Stat(filepath.Join(out, filepath.FromSlash(engine.URL)))
	if err != nil || wasm.Size() != engine.Bytes {
		t.Errorf("the engine at %s: %v", engine.URL, err)
	}
	for _, p := range []string{"index.html", "inside/index.html", "_headers", "models.json", engine.WasmExec} {
		if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(p))); err != nil {
			t.Error(err)
		}
	}
	if w, _ := filepath.Glob(filepath.Join(out, "weights", "megvii-g3-0.5x.int8.*.safetensors")); len(w) != 1 {
		t.Errorf("hashed weights files: %v", w)
	}
	if err := run([]string{"export", "--weights", weightsDir, out}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a second export into the same folder: %v", err)
	}
}

func TestSummaryTotals(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"summary", "--family", "seed", "--groups", "8"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Total params: 3,457,984", "Total MACs: 256,003,584", "Conv2d-1", "Linear-"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}

// Bad input anywhere is an error (a non-zero exit with one line on stderr), never a panic.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	notImage := filepath.Join(dir, "notes.png")
	os.WriteFile(notImage, []byte("these are notes, not pixels"), 0o644)
	notCheckpoint := filepath.Join(dir, "model.pth")
	os.WriteFile(notCheckpoint, make([]byte, 1000), 0o644)
	ckpt := shared.Path(t, "weights/megvii-shufflenetv1-g3-0.5x.pth.tar")
	for _, c := range []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"unknown command", []string{"learn"}, true, "unknown command"},
		{"unknown flag", []string{"classify", "--colour"}, true, "flag provided but not defined"},
		{"no images", []string{"classify", "--checkpoint", ckpt}, true, "no images"},
		{"no model", []string{"classify", "x.png"}, true, "no model"},
		{"two models", []string{"classify", "--weights", "a", "--checkpoint", "b", "x.png"}, true, "not both"},
		{"not a weights file", []string{"classify", "--weights", notCheckpoint, "x.png"}, false, "not a valid ShuffleNet weights file"},
		{"missing checkpoint", []string{"classify", "--checkpoint", filepath.Join(dir, "nope.pth"), "x.png"}, false, "no such file"},
		{"not a checkpoint", []string{"classify", "--checkpoint", notCheckpoint, "x.png"}, false, "not a PyTorch checkpoint"},
		{"not an image", []string{"classify", "--checkpoint", ckpt, notImage}, false, "1 of 1 images failed"},
		{"groups 5", []string{"summary", "--family", "seed", "--groups", "5"}, false, "24 channels do not divide into 5 groups"},
		{"unknown zoo model", []string{"fetch", "resnet50"}, true, "no model"},
		{"bad dtype", []string{"convert", "--checkpoint", ckpt, "--dtype", "int4", "--out", filepath.Join(dir, "x")}, false, "unknown dtype"},
		{"export where to", []string{"export"}, true, "one output directory"},
		{"export without weights", []string{"export", "--weights", dir, filepath.Join(dir, "site")}, false, "no weights files"},
		{"logits bad shape", []string{"logits", "--checkpoint", ckpt, "--input", shared.Path(t, "testdata/seed_g3_1x_logits.npy"), "--out", filepath.Join(dir, "o.npy")}, false, "shape"},
		{"stage 0", []string{"logits", "--checkpoint", ckpt, "--stage", "0", "--input", "x.npy", "--out", filepath.Join(dir, "o.npy")}, true, "--stage 0: give 1"},
		{"stage 5", []string{"logits", "--checkpoint", ckpt, "--stage", "5", "--input", "x.npy", "--out", filepath.Join(dir, "o.npy")}, true, "--stage 5: give 1"},
		{"no-shuffle on summary", []string{"summary", "--family", "seed", "--no-shuffle"}, true, "flag provided but not defined"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := run(c.args, &bytes.Buffer{})
			if err == nil {
				t.Fatal("no error")
			}
			var usage usageError
			if errors.As(err, &usage) != c.usage || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q (usage %t), want one mentioning %q (usage %t)", err, errors.As(err, &usage), c.want, c.usage)
			}
		})
	}
}

// version names the build and the kernels the engine runs here.
func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"version"}, &out); err != nil {
		t.Fatal(err)
	}
	want := []string{"shufflenet " + version, runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH, "kernels  " + engine.Kernels() + "\n"}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("version printed %q, want it to mention %q", out.String(), w)
		}
	}
	if k := engine.Kernels(); k != "avx512" && k != "avx2" && k != "portable" {
		t.Errorf("kernels %q", k)
	}
}
