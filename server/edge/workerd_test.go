//go:build unix

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/internal/wranglertest"
	"github.com/shufflenet-go/shufflenet/server"
	"github.com/shufflenet-go/shufflenet/web"
)

// requestTimeout bounds each request to the worker. The first one that
// reaches Go also compiles the worker's WebAssembly.
const requestTimeout = 30 * time.Second

// startWorker runs the worker that `make worker` built (build/site and
// build/worker, here) in workerd, through wrangler dev on 127.0.0.1.
func startWorker(t testing.TB) *wranglertest.Dev {
	t.Helper()
	root, err := filepath.Abs(".") // wrangler.toml, node_modules and build/ are beside this file
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"build/worker/app.wasm", "build/worker/worker.mjs", "build/site/index.html", "build/site/_headers"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the worker is not built (%v): run make worker before the tests", err)
			}
			t.Skipf("skipping: the worker is not built (make worker): %v", err)
		}
	}
	return wranglertest.Start(t, root)
}

// fetch makes a request and reads the whole answer, failing the test
// with wrangler's output when the request fails.
func fetch(t testing.TB, dev *wranglertest.Dev, method, path, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, dev.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := &http.Client{Timeout: requestTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\nwrangler:\n%s", method, path, err, dev.Log())
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, data
}

// TestWorkerdEndToEnd is what a browser and an API client get from the
// worker in workerd: the page, the engine as application/wasm, the
// weights the API names, a cat for chelsea.png, for every file the bytes
// and headers that 'shufflenet serve' gives, and in Chromium a page that
// classifies an upload.
func TestWorkerdEndToEnd(t *testing.T) {
	dev := startWorker(t)

	resp, page := fetch(t, dev, http.MethodGet, "/", "", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !bytes.Contains(page, []byte("<title>ShuffleNet V1")) {
		t.Fatalf("GET /: %d %s %.80q", resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}

	resp, data := fetch(t, dev, http.MethodGet, "/api/models", "", nil)
	var list server.ModelList
	if err := json.Unmarshal(data, &list); err != nil || resp.StatusCode != 200 || list.Engine == nil || len(list.Models) == 0 {
		t.Fatalf("GET /api/models: %d %s (%v)\nwrangler:\n%s", resp.StatusCode, data, err, dev.Log())
	}
	model := list.Models[0]

	resp, wasm := fetch(t, dev, http.MethodGet, list.Engine.URL, "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/wasm" || len(wasm) != list.Engine.Bytes || !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		t.Errorf("GET %s: %d %q, %d bytes (the API says %d)", list.Engine.URL, resp.StatusCode, resp.Header.Get("Content-Type"), len(wasm), list.Engine.Bytes)
	}

	resp, file := fetch(t, dev, http.MethodGet, model.URL, "", nil)
	if sum := sha256.Sum256(file); resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != model.SHA256 {
		t.Errorf("GET %s: %d, %d bytes that do not match the API's checksum", model.URL, resp.StatusCode, len(file))
	}

	resp, data = fetch(t, dev, http.MethodPost, "/api/classify", "image/png", shared.Read(t, "images/chelsea.png"))
	var got server.Classification
	if err := json.Unmarshal(data, &got); err != nil || resp.StatusCode != 200 || len(got.Top) == 0 {
		t.Fatalf("POST /api/classify: %d %s (%v)\nwrangler:\n%s", resp.StatusCode, data, err, dev.Log())
	}
	if top := got.Top[0]; top.Index < 281 || top.Index > 285 {
		t.Errorf("top-1 %+v, want a cat", top)
	}
	t.Logf("chelsea.png: %s (%.2f), forward pass %.0f ms", got.Top[0].Label, got.Top[0].Prob, got.MS)

	t.Run("same as the native server", func(t *testing.T) {
		sameAsNative(t, dev, list, model)
	})
	t.Run("the page classifies an upload", func(t *testing.T) {
		pageClassifies(t, dev)
	})
}

// pageClassifies loads the page from the worker in Chromium, as a user
// would, and uploads chelsea.png: the engine and weights come from the
// static assets under the page's policy, and the result is a cat.
func pageClassifies(t *testing.T, dev *wranglertest.Dev) {
	b := browsertest.New(t)
	b.Run(t, 60*time.Second, chromedp.Navigate(dev.URL+"/"), chromedp.WaitEnabled(chromedp.CSS(".classifier .file")))
	cat, err := filepath.Abs(shared.Path(t, "images/chelsea.png"))
	if err != nil {
		t.Fatal(err)
	}
	b.Run(t, 30*time.Second,
		chromedp.SetUploadFiles(chromedp.CSS(".classifier .file"), []string{cat}),
		chromedp.WaitVisible(chromedp.CSS(".classifier .top li")),
	)
	top := browsertest.Eval[int](t, b, 5*time.Second, `+document.querySelector('.classifier .top li').dataset.index`)
	if top < 281 || top > 285 {
		t.Errorf("the page's top-1 is class %d, want a cat", top)
	}
	b.Screenshot(t, "worker-result.png")
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// sameAsNative compares the worker with 'shufflenet serve' built from the
// same sources, path by path: bodies, and the headers _headers and the
// API set.
func sameAsNative(t *testing.T, dev *wranglertest.Dev, list server.ModelList, model server.ModelInfo) {
	static, err := server.PrepareAssets(web.Static())
	if err != nil {
		t.Fatal(err)
	}
	dir, err := bundleDir(embedded)
	if err != nil {
		t.Fatal(err)
	}
	weights, err := server.ReadWeightsFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	native, err := server.New(server.Config{Static: static, Weights: weights})
	if err != nil {
		t.Fatal(err)
	}
	if e := static.Engine(); e == nil || *e != *list.Engine {
		t.Fatalf("the worker's engine %+v is not this build's %+v: run make worker", list.Engine, e)
	}
	headers := []string{
		"Content-Type", "Cache-Control", "Content-Security-Policy", "Access-Control-Allow-Origin",
		"Cross-Origin-Resource-Policy", "X-Content-Type-Options", "Referrer-Policy",
	}
	for _, p := range []string{"/", "/app.js", static.HashedPath("/app.js"), list.Engine.WasmExec, static.HashedPath("/style.css"), model.URL, "/api/models"} {
		resp, body := fetch(t, dev, http.MethodGet, p, "", nil)
		rec := httptest.NewRecorder()
		native.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if resp.StatusCode != rec.Code || !bytes.Equal(body, rec.Body.Bytes()) {
			t.Errorf("%s: the worker answers %d with %d bytes, the server %d with %d", p, resp.StatusCode, len(body), rec.Code, rec.Body.Len())
		}
		for _, h := range headers {
			if got, want := resp.Header.Get(h), rec.Header().Get(h); got != want {
				t.Errorf("%s: %s is %q in the worker, %q in the server", p, h, got, want)
			}
		}
	}
}

// BenchmarkWorkerd measures requests to the worker in workerd: the CPU
// time that workerd spends on each (what Workers limits and bills; from
// /proc, so Linux only) and the wall time. /api/models is the cost of a
// fresh Go instance with the model loaded; /api/classify adds decoding,
// preprocessing and the forward pass. Build first with make worker:
//
//	go test -run '^$' -bench Workerd -benchtime 20x ./server/edge
func BenchmarkWorkerd(b *testing.B) {
	dev := startWorker(b)
	cat := shared.Read(b, "images/chelsea.png")
	for _, c := range []struct {
		name, method, path, contentType string
		body                            []byte
	}{
		{"models", http.MethodGet, "/api/models", "", nil},
		{"classify", http.MethodPost, "/api/classify", "image/png", cat},
	} {
		b.Run(c.name, func(b *testing.B) {
			if resp, data := fetch(b, dev, c.method, c.path, c.contentType, c.body); resp.StatusCode != 200 {
				b.Fatalf("%d %s", resp.StatusCode, data) // also the warm-up: the first request compiles the wasm
			}
			before, err := dev.CPUTime()
			if err != nil {
				b.Skip(err)
			}
			b.ResetTimer()
			for range b.N {
				fetch(b, dev, c.method, c.path, c.contentType, c.body)
			}
			b.StopTimer()
			after, _ := dev.CPUTime()
			b.ReportMetric(float64(after-before)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		})
	}
}
