package main

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kshedden/gonpy"
	"github.com/shufflenet-go/shufflenet/internal/shared"
)

// The command keeps the bench's contract: the first pass's logits, within
// the bench's tolerance of PyTorch's, and as its last line the times of
// --runs passes, one thread and a version.
func TestContract(t *testing.T) {
	out := filepath.Join(t.TempDir(), "logits.npy")
	var stdout bytes.Buffer
	err := run([]string{"--model", "megvii_g3_1.0x", "--checkpoint", shared.Path(t, "bench/models/megvii_g3_1.0x.pth.tar"),
		"--input", shared.Path(t, "bench/models/input.npy"), "--threads", "2", "--runs", "3", "--warmup", "2",
		"--min-warmup-s", "0.1", "--logits", out}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var r result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if len(r.TimesMs) != 3 || r.ThreadsEffective != 1 || r.Version == "" {
		t.Errorf("answer %+v: want 3 times, 1 thread, a version", r)
	}
	for _, ms := range r.TimesMs {
		if !(ms > 0) {
			t.Errorf("time %v ms", ms)
		}
	}
	got, err := readNPY(out)
	if err != nil {
		t.Fatal(err)
	}
	want := shared.NPY(t, "bench/models/megvii_g3_1.0x.logits.npy")
	if len(got) != len(want) {
		t.Fatalf("%d logits, want %d", len(got), len(want))
	}
	var diff, ref float64
	for i := range want {
		diff = max(diff, math.Abs(float64(got[i]-want[i])))
		ref = max(ref, math.Abs(float64(want[i])))
	}
	if diff > 1e-3*max(1, ref) {
		t.Errorf("max |diff| %g from PyTorch's logits (max |logit| %g)", diff, ref)
	}
}

// readNPY reads a float32 .npy of any shape.
func readNPY(path string) ([]float32, error) {
	r, err := gonpy.NewFileReader(path)
	if err != nil {
		return nil, err
	}
	return r.GetFloat32()
}
