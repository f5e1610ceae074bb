package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// teachClasses are the photos the training tests make classes of.
var teachClasses = map[string]string{"cat": "chelsea.png", "coffee": "coffee.png", "motorcycle": "motorcycle_left.png"}

// megviiWeightsFile writes the real Megvii g3 0.5x (float16, quick to make)
// into dir under the name the server would serve it as megvii-g3-0.5x.
func megviiWeightsFile(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "megvii-g3-0.5x.safetensors")
	if err := os.WriteFile(path, weightstest.Megvii(t, weights.Float16), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeCrops writes n different crops of a shared photo into dir as
// 00.png, 01.png, ...: squares of 45% to 81% of its shorter side at
// positions spread over it, so that no two files show the same pixels.
func writeCrops(t *testing.T, dir, photo string, n int) {
	t.Helper()
	img, err := preprocess.Decode(context.Background(), shared.Read(t, "images/"+photo), preprocess.DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	short := min(b.Dx(), b.Dy())
	for i := range n {
		side := short * (45 + 36*((i*7)%n)/n) / 100
		x := b.Min.X + (b.Dx()-side)*((i*3)%n)/max(n-1, 1)
		y := b.Min.Y + (b.Dy()-side)*((i*5)%n)/max(n-1, 1)
		var buf bytes.Buffer
		if err := png.Encode(&buf, img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(x, y, x+side, y+side))); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d.png", i)), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// heldOutAccuracy reads train's "held-out accuracy: 0.933 (14 of 15 images)".
var heldOutAccuracy = regexp.MustCompile(`held-out accuracy: ([0-9.]+) \(([0-9]+) of ([0-9]+) images\)`)

// train learns three classes from crops of three photos, ten crops each,
// with --augment; the held-out accuracy it prints is what classify --head
// gives on the held-out files (every fifth), and is high. A file that does
// not decode is skipped, files not named as images and files beside the
// class folders are ignored.
func TestTrainThenClassifyWithHead(t *testing.T) {
	dir, tmp := t.TempDir(), t.TempDir()
	w := megviiWeightsFile(t, tmp)
	for class, photo := range teachClasses {
		writeCrops(t, filepath.Join(dir, class), photo, 10)
	}
	os.WriteFile(filepath.Join(dir, "cat", "notes.txt"), []byte("not a photo"), 0o644)
	os.WriteFile(filepath.Join(dir, "cat", "0-broken.png"), []byte("not a PNG"), 0o644) // first by name: held out are still 04 and 09
	os.WriteFile(filepath.Join(dir, "README"), []byte("classes are folders"), 0o644)
	out := filepath.Join(tmp, "things.head.json")
	var report bytes.Buffer
	if err := run([]string{"train", "--weights", w, "--out", out, "--augment", dir}, &report); err != nil {
		t.Fatalf("%v\n%s", err, report.String())
	}
	t.Logf("train said:\n%s", report.String())
	for _, want := range []string{"model megvii-g3-0.5x: 480 features", "cat (8+2), coffee (8+2), motorcycle (8+2)",
		"1 file(s) skipped", "training on 144 samples (24 images, 6 crops each), 6 images held out", "epoch 100/100", "train accuracy: 1.000"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	m := heldOutAccuracy.FindStringSubmatch(report.String())
	if m == nil {
		t.Fatal("no held-out accuracy")
	}
	printed, _ := strconv.ParseFloat(m[1], 64)

	// The held-out files, classified with the head, one JSON line each.
	var heldOut []string
	for _, class := range []string{"cat", "coffee", "motorcycle"} {
		heldOut = append(heldOut, filepath.Join(dir, class, "04.png"), filepath.Join(dir, class, "09.png"))
	}
	var res bytes.Buffer
	if err := run(append([]string{"classify", "--weights", w, "--head", out, "--json", "--top", "5"}, heldOut...), &res); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&res)
	right := 0
	for _, path := range heldOut {
		var c classification
		if err := dec.Decode(&c); err != nil {
			t.Fatal(err)
		}
		want := filepath.Base(filepath.Dir(path))
		if c.Image != path || c.Classes != "head" || len(c.Top) != 3 || c.MS <= 0 || c.Top[0].Prob < c.Top[1].Prob {
			t.Errorf("%s: %+v, want the 3 classes of the head, most probable first", path, c)
		}
		if labels := []string{c.Top[0].Label, c.Top[1].Label, c.Top[2].Label}; !slices.Contains(labels, "cat") || !slices.Contains(labels, "motorcycle") {
			t.Errorf("%s: labels %v", path, labels)
		}
		if c.Top[0].Label == want {
			right++
		}
	}
	measured := float64(right) / float64(len(heldOut))
	t.Logf("held-out accuracy %.3f (%d of %d)", measured, right, len(heldOut))
	if fmt.Sprintf("%.3f", measured) != m[1] || m[2] != strconv.Itoa(right) || m[3] != strconv.Itoa(len(heldOut)) {
		t.Errorf("train printed %q, classify --head gives %d of %d", m[0], right, len(heldOut))
	}
	if printed < 0.9 {
		t.Errorf("held-out accuracy %.3f, want at least 0.9", printed)
	}

	// Without --head, the same model answers with ImageNet's classes.
	res.Reset()
	if err := run([]string{"classify", "--weights", w, "--json", "--top", "1", heldOut[0]}, &res); err != nil {
		t.Fatal(err)
	}
	var c classification
	if err := json.Unmarshal(res.Bytes(), &c); err != nil || c.Classes != "imagenet" || c.Top[0].Label == "cat" {
		t.Errorf("without --head: %s (%v)", res.String(), err)
	}

	// A head file for another network (another sha256) is refused, as is
	// one for this network run without its shuffles.
	otherPath := headForAnotherModel(t, out)
	err := run([]string{"classify", "--weights", w, "--head", otherPath, heldOut[0]}, &bytes.Buffer{})
	if !errors.Is(err, weights.ErrHeadMismatch) || !strings.Contains(err.Error(), otherPath) {
		t.Errorf("a head for another model: %v", err)
	}
	var usage usageError
	if err := run([]string{"classify", "--weights", w, "--head", out, "--no-shuffle", heldOut[0]}, &bytes.Buffer{}); !errors.As(err, &usage) {
		t.Errorf("--head with --no-shuffle: %v, want a usage error", err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Bad input to train is an error naming what is wrong, and leaves no file.
func TestTrainErrors(t *testing.T) {
	tmp := t.TempDir()
	w := megviiWeightsFile(t, tmp)
	folder := func(t *testing.T, classes map[string]int, extra ...string) string {
		dir := t.TempDir()
		for class, n := range classes {
			writeCrops(t, filepath.Join(dir, class), teachClasses[class], n)
		}
		for i := 0; i+1 < len(extra); i += 2 {
			p := filepath.Join(dir, filepath.FromSlash(extra[i]))
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(extra[i+1]), 0o644)
		}
		return dir
	}
	for _, c := range []struct {
		name  string
		dir   func(t *testing.T) string
		flags []string
		usage bool
		want  string
	}{
		{"missing folder", func(t *testing.T) string { return filepath.Join(tmp, "nowhere") }, nil, false, "no such file"},
		{"a file, not a folder", func(t *testing.T) string { return w }, nil, false, "is not a folder"},
		{"no class folders", func(t *testing.T) string { return folder(t, nil, "a.png", "x") }, nil, false, "no class folders"},
		{"a single class", func(t *testing.T) string { return folder(t, map[string]int{"cat": 2}) }, nil, false, "one class folder, cat"},
		{"an empty class", func(t *testing.T) string { return folder(t, map[string]int{"cat": 2}, "coffee/.hidden", "") }, nil, false, "coffee holds no images"},
		{"a class of files that do not decode", func(t *testing.T) string {
			return folder(t, map[string]int{"cat": 1}, "coffee/a.png", "not a png", "coffee/b.jpg", "")
		}, nil, false, `class "coffee" has no image to train on: 2 of its 2 files did not decode (a.png, b.jpg)`},
		{"no --out", func(t *testing.T) string { return folder(t, map[string]int{"cat": 1, "coffee": 1}) }, []string{"--out", ""}, true, "give --out"},
		{"--out in a missing folder", func(t *testing.T) string { return folder(t, map[string]int{"cat": 1, "coffee": 1}) },
			[]string{"--out", filepath.Join(tmp, "no", "h.json")}, false, "no such file"},
		{"--holdout 1", func(t *testing.T) string { return folder(t, map[string]int{"cat": 1, "coffee": 1}) }, []string{"--holdout", "1"}, true, "--holdout 1"},
		{"--epochs 0", func(t *testing.T) string { return folder(t, map[string]int{"cat": 1, "coffee": 1}) }, []string{"--epochs", "0"}, true, "--epochs"},
		{"no model", func(t *testing.T) string { return folder(t, map[string]int{"cat": 1, "coffee": 1}) }, []string{"--weights", ""}, true, "no model"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "h.json")
			args := append([]string{"train", "--weights", w, "--out", out}, c.flags...)
			err := run(append(args, c.dir(t)), &bytes.Buffer{})
			if err == nil {
				t.Fatal("no error")
			}
			var usage usageError
			if errors.As(err, &usage) != c.usage || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q (usage %t), want one mentioning %q (usage %t)", err, errors.As(err, &usage), c.want, c.usage)
			}
			if left, _ := os.ReadDir(filepath.Dir(out)); len(left) > 0 {
				t.Errorf("left %s behind", left[0].Name())
			}
		})
	}
}

// A folder of more images than train takes is refused before any is
// decoded (10,000 of them in the CLI; 3 here, which is quicker to make).
func TestTrainFolderOfTooManyImages(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a/1.png", "a/2.png", "b/1.png", "b/2.png"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(dir, filepath.FromSlash(f)), nil, 0o644)
	}
	if _, err := readTrainFolder(dir, 4, io.Discard); err != nil {
		t.Errorf("4 images, 4 at most: %v", err)
	}
	if _, err := readTrainFolder(dir, 3, io.Discard); err == nil || !strings.Contains(err.Error(), "more than 3 images") {
		t.Errorf("4 images, 3 at most: %v", err)
	}
}

// heldOut holds out a fifth of each class, spread evenly, at least one
// image of two, never all.
func TestHeldOut(t *testing.T) {
	for _, c := range []struct {
		n        int
		fraction float64
		want     []int
	}{
		{10, 0.2, []int{4, 9}},
		{5, 0.2, []int{4}},
		{3, 0.2, []int{2}},
		{2, 0.2, []int{1}},
		{1, 0.2, nil},
		{10, 0, nil},
		{4, 0.9, []int{1, 2, 3}},
		{7, 0.5, []int{1, 3, 5, 6}},
	} {
		var got []int
		for i, h := range heldOut(c.n, c.fraction) {
			if h {
				got = append(got, i)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("heldOut(%d, %g) holds out %v, want %v", c.n, c.fraction, got, c.want)
		}
	}
}

// serve --head answers /api/classify with the head's classes, and
// refuses to start with a head that none of its models matches, naming
// them.
func TestServeWithHead(t *testing.T) {
	dir, weightsDir := t.TempDir(), t.TempDir()
	w := megviiWeightsFile(t, weightsDir)
	for class, photo := range teachClasses {
		writeCrops(t, filepath.Join(dir, class), photo, 3)
	}
	out := filepath.Join(t.TempDir(), "things.json")
	if err := run([]string{"train", "--weights", w, "--out", out, "--holdout", "0", dir}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	base, _ := startServer(t, t.TempDir(), "serve", "--addr", "127.0.0.1:0", "--weights", weightsDir, "--fetch=false", "--head", out)
	for _, c := range []struct{ query, classes, label string }{{"", "head", "cat"}, {"&classes=imagenet", "imagenet", "Egyptian cat"}} {
		resp, err := http.Post(base+"api/classify?top=1"+c.query, "image/png", bytes.NewReader(shared.Read(t, "images/chelsea.png")))
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Model, Classes string
			Top            []struct{ Label string }
		}
		err = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || res.Model != "megvii-g3-0.5x" || res.Classes != c.classes || len(res.Top) != 1 || res.Top[0].Label != c.label {
			t.Errorf("classify%s: %d %+v (%v), want %s's %q", c.query, resp.StatusCode, res, err, c.classes, c.label)
		}
	}

	otherPath := headForAnotherModel(t, out)
	err := run([]string{"serve", "--addr", "127.0.0.1:0", "--weights", weightsDir, "--fetch=false", "--head", otherPath}, &bytes.Buffer{})
	if !errors.Is(err, weights.ErrHeadMismatch) || !strings.Contains(err.Error(), "served are megvii-g3-0.5x (sha256") {
		t.Errorf("serve with a head for no model it serves: %v", err)
	}
}

// A class of two images whose training one does not decode trains on its
// held-out one rather than failing: a class needs something to learn from
// more than something to test on.
func TestTrainOnHeldOutWhenTrainingImagesFail(t *testing.T) {
	dir := t.TempDir()
	writeCrops(t, filepath.Join(dir, "cat"), teachClasses["cat"], 3)
	writeCrops(t, filepath.Join(dir, "coffee"), teachClasses["coffee"], 2)
	// Of coffee's 00.png and 01.png the second is held out; the first breaks.
	if err := os.WriteFile(filepath.Join(dir, "coffee", "00.png"), []byte("not a PNG"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "h.json")
	var report bytes.Buffer
	if err := run([]string{"train", "--weights", megviiWeightsFile(t, t.TempDir()), "--out", out, dir}, &report); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(report.String(), "coffee (1+0)") {
		t.Errorf("the report does not show coffee training on its held-out image:\n%s", report.String())
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}

// headForAnotherModel writes the head file at path again as if trained on
// another network (another sha256), and answers the copy's path.
func headForAnotherModel(t *testing.T, path string) string {
	t.Helper()
	f, err := weights.DecodeHead(readFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	f.Base.SHA256 = strings.Repeat("ab", 32)
	other, err := weights.EncodeHead(f)
	if err != nil {
		t.Fatal(err)
	}
	otherPath := filepath.Join(t.TempDir(), "other.head.json")
	if err := os.WriteFile(otherPath, other, 0o644); err != nil {
		t.Fatal(err)
	}
	return otherPath
}
