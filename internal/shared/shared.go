// Package shared gives tests the project's shared reference data: real
// checkpoints, PyTorch's reference logits, test photos and labels. It
// lives outside the repository (../shared from the repository root, or
// $SHUFFLENET_SHARED). A test that needs it is skipped with a message when
// it is missing, and fails instead when CI=true, so that CI never passes
// without running the exactness tests.
package shared

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/kshedden/gonpy"
)

// Dir returns the shared data directory.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SHUFFLENET_SHARED")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			missing(t, err.Error())
		}
		dir = filepath.Join(root, "..", "shared")
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		missing(t, "no shared data at "+dir+" (set SHUFFLENET_SHARED)")
	}
	return dir
}

// Path returns the path of a file in the shared directory, which must exist.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(t), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		missing(t, err.Error())
	}
	return p
}

// Read returns the bytes of a shared file.
func Read(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// NPY reads a float32 .npy file of the shared directory.
func NPY(t testing.TB, rel string) []float32 {
	t.Helper()
	r, err := gonpy.NewFileReader(Path(t, rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	v, err := r.GetFloat32()
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return v
}

// JSON decodes a shared JSON file into v.
func JSON(t testing.TB, rel string, v any) {
	t.Helper()
	if err := json.Unmarshal(Read(t, rel), v); err != nil {
		t.Fatalf("decode %s: %v", rel, err)
	}
}

// Pipeline is testdata/pipeline/reference.json: for one checkpoint of each
// input convention, by model name, each photo through the family's own
// published preprocessing (PIL) into PyTorch, with the top-5 classes and
// their probabilities.
type Pipeline struct {
	Models map[string]struct {
		Checkpoint string `json:"checkpoint"`
		Images     map[string]struct {
			Top5  []int     `json:"top5"`
			Prob5 []float64 `json:"prob5"`
		} `json:"images"`
	} `json:"models"`
}

// PipelineReference reads testdata/pipeline/reference.json.
func PipelineReference(t testing.TB) Pipeline {
	t.Helper()
	var p Pipeline
	JSON(t, "testdata/pipeline/reference.json", &p)
	return p
}

func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("shared test data is required in CI: %s", why)
	}
	t.Skipf("skipping: %s", why)
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
