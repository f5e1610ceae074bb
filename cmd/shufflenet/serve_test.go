package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights/zoo"
)

// serve in an empty folder, as a release binary copied alone would be,
// fetches the default model (here from $SHUFFLENET_CHECKPOINTS), then
// serves the page and classifies.
func TestServeInAnEmptyFolderFetchesTheDefaultModel(t *testing.T) {
	t.Setenv("SHUFFLENET_CHECKPOINTS", filepath.Dir(shared.Path(t, "weights/megvii-shufflenetv1-g3-0.5x.pth.tar")))
	dir := t.TempDir()
	base, _ := startServer(t, dir, "serve", "--addr", "127.0.0.1:0")
	if _, err := os.Stat(filepath.Join(dir, "weights", zoo.Default()+".int8.safetensors")); err != nil {
		t.Errorf("the default model is not in ./weights: %v", err)
	}
	page, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	resp, err := http.Post(base+"api/classify?top=1", "image/png", bytes.NewReader(shared.Read(t, "images/chelsea.png")))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Model string
		Top   []struct{ Label string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	if page.StatusCode != 200 || resp.StatusCode != 200 || res.Model != zoo.Default() || len(res.Top) != 1 || res.Top[0].Label != "Egyptian cat" {
		t.Errorf("page %d; classify %d %+v", page.StatusCode, resp.StatusCode, res)
	}
}
