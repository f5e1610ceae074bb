package zoo

import (
	"strings"
	"testing"
)

// The manifest's MACs and parameter counts are the architecture's own.
func TestManifestMatchesArchitectures(t *testing.T) {
	models := Models()
	if len(models) != 14 {
		t.Errorf("%d models, want 14 (2 Megvii, 11 pytorchcv, 1 mmpretrain)", len(models))
	}
	seen := map[string]bool{}
	for _, e := range models {
		if seen[e.Name] {
			t.Errorf("duplicate name %s", e.Name)
		}
		seen[e.Name] = true
		a, err := e.Architecture()
		if err != nil {
			t.Errorf("%s: %v", e.Name, err)
			continue
		}
		if a.MACs() != e.MACs || a.ParamCount() != e.Params {
			t.Errorf("%s: manifest says %d MACs %d params, architecture %d and %d", e.Name, e.MACs, e.Params, a.MACs(), a.ParamCount())
		}
		if !strings.HasPrefix(e.URL, "https://") || e.File == "" || e.Top1 <= 0 || e.Top5 <= e.Top1 || e.License == "" {
			t.Errorf("%s: incomplete entry %+v", e.Name, e)
		}
		if err := Verify(e, nil); err == nil || strings.Contains(err.Error(), "malformed") || strings.Contains(err.Error(), "unknown checksum") {
			t.Errorf("%s: checksum %q: %v", e.Name, e.Checksum, err)
		}
	}
	if _, err := Lookup(Default()); err != nil {
		t.Error(err)
	}
	if _, err := Lookup("resnet50"); err == nil {
		t.Error("unknown model found")
	}
}
