package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/server"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// megviiInt8 is the Megvii g3 0.5x as `make weights` ships it (int8).
func megviiInt8(t testing.TB) []byte { return weightstest.Megvii(t, weights.Int8) }

const testEngine = `{"url": "/gen/shufflenet.0123456789.wasm", "bytes": 5636985, "wasm_exec": "/gen/wasm_exec.0123456789.js"}`

// get answers GET path from h.
func get(t testing.TB, h http.Handler, path string) (int, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.Bytes()
}

// A complete bundle serves the API; a broken one answers every request
// with a 500 that says what is missing.
func TestBundle(t *testing.T) {
	real := megviiInt8(t)
	readme := &fstest.MapFile{Data: []byte("# The worker's bundle")}
	for _, c := range []struct {
		name  string
		files fstest.MapFS
		want  string // in the error; "" for a working API
	}{
		{"complete", fstest.MapFS{"bundle/README.md": readme, "bundle/m.int8.safetensors": {Data: real}, "bundle/engine.json": {Data: []byte(testEngine)}}, ""},
		{"as on a clean clone", fstest.MapFS{"bundle/README.md": readme}, "no weights files"},
		{"no engine.json", fstest.MapFS{"bundle/m.int8.safetensors": {Data: real}}, "engine.json"},
		{"engine.json not JSON", fstest.MapFS{"bundle/m.int8.safetensors": {Data: real}, "bundle/engine.json": {Data: []byte("/gen/x.wasm")}}, "engine.json"},
		{"engine.json without the loader", fstest.MapFS{"bundle/m.int8.safetensors": {Data: real}, "bundle/engine.json": {Data: []byte(`{"url": "/x.wasm", "bytes": 5}`)}}, "does not locate"},
		{"not weights", fstest.MapFS{"bundle/m.safetensors": {Data: []byte("junk")}, "bundle/engine.json": {Data: []byte(testEngine)}}, "weights m.safetensors"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := get(t, handler(c.files), "/api/models")
			var got struct {
				Engine *server.EngineInfo `json:"engine"`
				Models []server.ModelInfo `json:"models"`
				Error  string             `json:"error"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("answer %q: %v", body, err)
			}
			if c.want != "" {
				if code != http.StatusInternalServerError || !strings.Contains(got.Error, c.want) {
					t.Errorf("%d %q, want a 500 saying %q", code, got.Error, c.want)
				}
				return
			}
			if code != 200 || got.Engine == nil || got.Engine.URL != "/gen/shufflenet.0123456789.wasm" || len(got.Models) != 1 {
				t.Fatalf("%d %s", code, body)
			}
			if m := got.Models[0]; m.Name != "m" || !strings.HasPrefix(m.URL, "/weights/m.int8.") || m.Bytes != len(real) {
				t.Errorf("model %+v", m)
			}
		})
	}
}

// The bundle `make worker` built in classifies natively as the worker
// does in workerd (TestWorkerdEndToEnd).
func TestEmbeddedBundle(t *testing.T) {
	dir, err := bundleDir(embedded)
	if err != nil {
		t.Fatal(err)
	}
	if w, _ := server.ReadWeightsFS(dir); len(w) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the worker's bundle is empty: run make worker before the tests")
		}
		t.Skip("skipping: the worker's bundle is empty (make worker)")
	}
	h := handler(embedded)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/classify", bytes.NewReader(shared.Read(t, "images/chelsea.png")))
	h.ServeHTTP(rec, req)
	var got server.Classification
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if top := got.Top[0]; top.Index < 281 || top.Index > 285 {
		t.Errorf("top-1 %+v, want a cat", top)
	}
}
