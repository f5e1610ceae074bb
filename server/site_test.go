package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// readHeadersFile parses a _headers file into each URL's headers.
func readHeadersFile(t testing.TB, name string) map[string]http.Header {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rules := map[string]http.Header{}
	var cur http.Header
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "  "):
			name, value, ok := strings.Cut(strings.TrimSpace(line), ": ")
			if !ok || cur == nil {
				t.Fatalf("bad header line %q", line)
			}
			cur.Add(name, value)
		default:
			if _, dup := rules[line]; dup {
				t.Fatalf("two rules for %s: hosts would join their headers", line)
			}
			cur = http.Header{}
			rules[line] = cur
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rules
}

// staticHeaders are the headers a static host takes from _headers; the
// others (ETag, encodings, length) it makes itself.
var staticHeaders = []string{
	"Content-Type", "Cache-Control", "Content-Security-Policy", "Access-Control-Allow-Origin",
	"Cross-Origin-Resource-Policy", "X-Content-Type-Options", "Referrer-Policy",
}

// The written site holds every file under the names Handler serves it at,
// and _headers gives each URL the headers Handler sends there.
func TestWriteSiteMatchesHandler(t *testing.T) {
	s := newTestServer(t, Limits{})
	static, _ := PrepareAssets(testSite)
	weights, err := PrepareWeights(tinyWeights(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "site")
	if err := WriteSite(dir, static, weights); err != nil {
		t.Fatal(err)
	}
	rules := readHeadersFile(t, filepath.Join(dir, headersFile))

	for _, c := range []struct {
		url, file string // file "": served by hosts but not by Handler (a pretty URL)
	}{
		{"/", "index.html"},
		{"/index.html", "index.html"},
		{"/examples/docs.html", "examples/docs.html"},
		{"/examples/docs", ""},
		{"/app.js", "app.js"},
		{static.HashedPath("/app.js"), strings.TrimPrefix(static.HashedPath("/app.js"), "/")},
		{static.HashedPath("/gen/engine.wasm"), strings.TrimPrefix(static.HashedPath("/gen/engine.wasm"), "/")},
		{"/style.css", "style.css"},
		{s.Models()[0].URL, strings.TrimPrefix(s.Models()[0].URL, "/")},
	} {
		t.Run(c.url, func(t *testing.T) {
			rule, ok := rules[c.url]
			if !ok {
				t.Fatalf("no _headers rule for %s", c.url)
			}
			if c.file == "" {
				if rule.Get("Content-Security-Policy") == "" {
					t.Errorf("the page's pretty URL has no policy: %v", rule)
				}
				return
			}
			r := get(t, s.Handler(), c.url)
			if r.StatusCode != 200 {
				t.Fatalf("Handler: status %d", r.StatusCode)
			}
			onDisk, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(c.file)))
			if err != nil || !bytes.Equal(onDisk, body(t, r)) {
				t.Errorf("%s on disk differs from what Handler serves (%v)", c.file, err)
			}
			for _, name := range staticHeaders {
				if got, want := rule.Get(name), r.Header.Get(name); got != want {
					t.Errorf("%s: _headers says %q, Handler sends %q", name, got, want)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "gen", "engine.wasm.br")); err == nil {
		t.Error("a precompressed sibling was written as a file of its own")
	}
}

func TestWriteSiteErrors(t *testing.T) {
	many := fstest.MapFS{}
	for i := range maxHeaderRules/2 + 1 {
		many[fmt.Sprintf("f%d.js", i)] = &fstest.MapFile{Data: []byte("// file")}
	}
	tooMany, err := PrepareAssets(many)
	if err != nil {
		t.Fatal(err)
	}
	colon, _ := PrepareAssets(fstest.MapFS{"a:b.js": {Data: []byte("x")}})
	small, _ := PrepareAssets(fstest.MapFS{"a.js": {Data: []byte("x")}})
	for _, c := range []struct {
		name  string
		setup func(dir string)
		sets  []*Assets
		want  string
	}{
		{"non-empty dir", func(dir string) { os.WriteFile(filepath.Join(dir, "old.js"), nil, 0o644) }, []*Assets{small}, "not empty"},
		{"over the rule limit", nil, []*Assets{tooMany}, "limit of 100"},
		{"a name hosts read as a pattern", nil, []*Assets{colon}, "cannot be written"},
		{"the same file twice", nil, []*Assets{small, small}, "two files"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.setup != nil {
				c.setup(dir)
			}
			err := WriteSite(dir, c.sets...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
}

// A server made by NewAPI reports the engine it is given and the weights
// under the names New serves them at, the names WriteSite writes.
func TestNewAPI(t *testing.T) {
	files := tinyWeights(t)
	engine := &EngineInfo{URL: "/gen/shufflenet.0123456789.wasm", Bytes: 42, WasmExec: "/gen/wasm_exec.0123456789.js"}
	api, err := NewAPI(Config{Weights: files, Engine: engine})
	if err != nil {
		t.Fatal(err)
	}
	full := newTestServer(t, Limits{})

	r := get(t, api.API(), "/api/models")
	var got ModelList
	if err := json.Unmarshal(body(t, r), &got); err != nil {
		t.Fatal(err)
	}
	if got.Engine == nil || *got.Engine != *engine {
		t.Errorf("engine %+v, want %+v", got.Engine, engine)
	}
	if len(got.Models) != 1 || got.Models[0] != full.Models()[0] {
		t.Errorf("models %+v, want %+v", got.Models, full.Models())
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") == "" {
		t.Errorf("API() alone leaves out the common headers: %v", r.Header)
	}
	// It keeps no files: its Handler serves the API and nothing else.
	if r := get(t, api.Handler(), got.Models[0].URL); r.StatusCode != http.StatusNotFound {
		t.Errorf("weights served by an API-only server: %d", r.StatusCode)
	}
}

// The engine comes from the assets unless the configuration names one.
func TestEngineInfo(t *testing.T) {
	withEngine, _ := PrepareAssets(fstest.MapFS{
		"gen/shufflenet.wasm": {Data: []byte("\x00asm\x01\x00\x00\x00")},
		"gen/wasm_exec.js":    {Data: []byte("// Go's loader")},
	})
	built := &EngineInfo{URL: withEngine.HashedPath("/gen/shufflenet.wasm"), Bytes: 8, WasmExec: withEngine.HashedPath("/gen/wasm_exec.js")}
	noEngine, _ := PrepareAssets(testSite)
	given := &EngineInfo{URL: "https://cdn.example/engine.wasm", Bytes: 1, WasmExec: "https://cdn.example/wasm_exec.js"}
	for _, c := range []struct {
		name   string
		static *Assets
		engine *EngineInfo
		want   *EngineInfo
	}{
		{"from the assets", withEngine, nil, built},
		{"not built", noEngine, nil, nil},
		{"given", noEngine, given, given},
		{"given wins", withEngine, given, given},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(Config{Static: c.static, Engine: c.engine})
			if err != nil {
				t.Fatal(err)
			}
			var got ModelList
			if err := json.Unmarshal(body(t, get(t, s.Handler(), "/api/models")), &got); err != nil {
				t.Fatal(err)
			}
			if (got.Engine == nil) != (c.want == nil) || got.Engine != nil && *got.Engine != *c.want {
				t.Errorf("engine %+v, want %+v", got.Engine, c.want)
			}
		})
	}
}

func TestReadWeightsFS(t *testing.T) {
	fsys := fstest.MapFS{
		"a.int8.safetensors":  {Data: []byte("a")},
		"README.md":           {Data: []byte("not weights")},
		"engine.json":         {Data: []byte("{}")},
		"cache/b.safetensors": {Data: []byte("in a subdirectory")},
	}
	got, err := ReadWeightsFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]byte{"a.int8.safetensors": []byte("a")}; !maps.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("got %v, want %v", got, want)
	}
}
