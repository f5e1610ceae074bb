package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"math/rand/v2"

	"github.com/andybalholm/brotli"
	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/internal/hostile"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// testSite is a small front end with the reference patterns the real one
// uses: a page loading a script, a script starting a worker, a worker
// loading the wasm.
var testSite = fstest.MapFS{
	"index.html":         {Data: []byte(`<!doctype html><script src="/app.js"></script><a href="/examples/docs.html">docs</a>`)},
	"app.js":             {Data: []byte(`new Worker("/worker.js"); // ` + strings.Repeat("shim ", 200))},
	"worker.js":          {Data: []byte(`fetch('/gen/engine.wasm'); // ` + strings.Repeat("worker ", 200))},
	"gen/engine.wasm":    {Data: append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte{1, 2, 3, 4}, 5000)...)},
	"examples/docs.html": {Data: []byte(`<!doctype html><p>docs</p>`)},
	"style.css":          {Data: []byte(`body { margin: 0 }`)},
}

// megviiWeights is the real Megvii g3 0.5x (float16: quick to make, small
// to compress; the int8 path is tested elsewhere).
func megviiWeights(t testing.TB) map[string][]byte {
	return map[string][]byte{"megvii-g3-0.5x.safetensors": weightstest.Megvii(t, weights.Float16)}
}

// tinyWeights is a small random network (16/32/64 channels): enough for
// tests that serve files and do not look at predictions.
func tinyWeights(t testing.TB) map[string][]byte {
	t.Helper()
	a, err := engine.NewArchitecture(engine.Pytorchcv, 2, 4, [3]int{16, 32, 64})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	p := engine.Params{Units: make([]engine.UnitParams, len(a.Units()))}
	conv := func(s engine.ConvShape) engine.Conv {
		c := engine.Conv{Weight: make([]float32, s.WeightLen()), Bias: make([]float32, s.Out)}
		for i := range c.Weight {
			c.Weight[i] = float32(rng.NormFloat64() * 0.1)
		}
		return c
	}
	p.Stem, p.Classifier = conv(a.StemConv()), conv(a.Classifier())
	for i, u := range a.Units() {
		p.Units[i] = engine.UnitParams{Compress: conv(u.Compress()), Spatial: conv(u.Spatial()), Expand: conv(u.Expand())}
	}
	data, err := weights.Encode(a, p, weights.Meta{Labels: "imagenet-1k"}, slices.Repeat([]weights.DType{weights.Int8}, 2+3*len(a.Units())))
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"tiny.int8.safetensors": data}
}

// newTestServer serves testSite and the tiny model.
func newTestServer(t testing.TB, limits Limits) *Server {
	return startServer(t, limits, tinyWeights(t))
}

// catServer serves testSite and the real Megvii g3 0.5x.
func catServer(t testing.TB, limits Limits) *Server {
	return startServer(t, limits, megviiWeights(t))
}

func startServer(t testing.TB, limits Limits, files map[string][]byte) *Server {
	t.Helper()
	static, err := PrepareAssets(testSite)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Static: static, Weights: files, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t testing.TB, h http.Handler, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t testing.TB, r *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStaticTypesHeadersAndCaching(t *testing.T) {
	s := newTestServer(t, Limits{})
	h := s.Handler()
	for _, c := range []struct {
		path, contentType, cache string
		csp, cors                bool
	}{
		{"/", "text/html; charset=utf-8", "no-cache", true, false},
		{"/examples/docs.html", "text/html; charset=utf-8", "no-cache", true, false},
		{"/app.js", "text/javascript; charset=utf-8", "no-cache", false, true},
		{s.static.HashedPath("/app.js"), "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", false, true},
		{s.static.HashedPath("/gen/engine.wasm"), "application/wasm", "public, max-age=31536000, immutable", false, true},
		{"/style.css", "text/css; charset=utf-8", "no-cache", false, true},
		{s.Models()[0].URL, "application/octet-stream", "public, max-age=31536000, immutable", false, true},
	} {
		t.Run(c.path, func(t *testing.T) {
			r := get(t, h, c.path)
			if r.StatusCode != 200 {
				t.Fatalf("status %d", r.StatusCode)
			}
			hd := r.Header
			if hd.Get("Content-Type") != c.contentType || hd.Get("Cache-Control") != c.cache {
				t.Errorf("type %q cache %q, want %q and %q", hd.Get("Content-Type"), hd.Get("Cache-Control"), c.contentType, c.cache)
			}
			if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Referrer-Policy") == "" {
				t.Error("missing nosniff or Referrer-Policy")
			}
			if csp := hd.Get("Content-Security-Policy"); c.csp != (csp != "") || (c.csp && !strings.Contains(csp, "'wasm-unsafe-eval'")) {
				t.Errorf("CSP %q", csp)
			}
			if c.cors != (hd.Get("Access-Control-Allow-Origin") == "*" && hd.Get("Cross-Origin-Resource-Policy") == "cross-origin") {
				t.Errorf("CORS headers %q %q", hd.Get("Access-Control-Allow-Origin"), hd.Get("Cross-Origin-Resource-Policy"))
			}
			if !strings.HasPrefix(hd.Get("ETag"), `"`) {
				t.Errorf("ETag %q is not strong", hd.Get("ETag"))
			}
		})
	}
}

// A page refers to its scripts by content-hashed names, and a script to
// the worker and the wasm, so a change anywhere renames everything above.
func TestReferencesAreRewrittenToHashedNames(t *testing.T) {
	s := newTestServer(t, Limits{})
	page := string(body(t, get(t, s.Handler(), "/")))
	app := s.static.HashedPath("/app.js")
	if !strings.Contains(page, `"`+app+`"`) || app == "/app.js" {
		t.Errorf("page %q does not load %s", page, app)
	}
	if !strings.Contains(page, `"/examples/docs.html"`) {
		t.Error("a link to a page was renamed")
	}
	appJS := string(body(t, get(t, s.Handler(), app)))
	if !strings.Contains(appJS, s.static.HashedPath("/worker.js")) {
		t.Errorf("app.js does not start the hashed worker: %.60q", appJS)
	}
	worker := string(body(t, get(t, s.Handler(), "/worker.js")))
	if !strings.Contains(worker, `'`+s.static.HashedPath("/gen/engine.wasm")+`'`) {
		t.Errorf("worker.js does not load the hashed wasm: %.60q", worker)
	}
}

func TestEncodingsAndConditionalRequests(t *testing.T) {
	s := newTestServer(t, Limits{})
	h := s.Handler()
	plain := body(t, get(t, h, "/app.js"))
	for _, c := range []struct {
		accept, encoding string
		decode           func(io.Reader) io.Reader
	}{
		{"br, gzip", "br", func(r io.Reader) io.Reader { return brotli.NewReader(r) }},
		{"gzip, deflate", "gzip", func(r io.Reader) io.Reader { z, _ := gzip.NewReader(r); return z }},
		{"gzip;q=1, br;q=0", "gzip", func(r io.Reader) io.Reader { z, _ := gzip.NewReader(r); return z }},
		{"*", "br", func(r io.Reader) io.Reader { return brotli.NewReader(r) }},
		{"identity", "", func(r io.Reader) io.Reader { return r }},
		{"", "", func(r io.Reader) io.Reader { return r }},
	} {
		r := get(t, h, "/app.js", "Accept-Encoding", c.accept)
		if got := r.Header.Get("Content-Encoding"); got != c.encoding {
			t.Errorf("Accept-Encoding %q: got %q, want %q", c.accept, got, c.encoding)
			continue
		}
		decoded, err := io.ReadAll(c.decode(r.Body))
		if err != nil || !bytes.Equal(decoded, plain) {
			t.Errorf("Accept-Encoding %q: body does not decode to the file (%v)", c.accept, err)
		}
		if !strings.Contains(r.Header.Get("Vary"), "Accept-Encoding") {
			t.Error("no Vary: Accept-Encoding")
		}
		etag := r.Header.Get("ETag")
		if again := get(t, h, "/app.js", "Accept-Encoding", c.accept, "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match %s: status %d, want 304", etag, again.StatusCode)
		}
	}
	// A representation's ETag does not validate another encoding's.
	br := get(t, h, "/app.js", "Accept-Encoding", "br").Header.Get("ETag")
	if r := get(t, h, "/app.js", "Accept-Encoding", "gzip", "If-None-Match", br); r.StatusCode != 200 {
		t.Errorf("brotli ETag validated the gzip body: %d", r.StatusCode)
	}
}

// No request reaches a file outside the assets, however its path is spelled.
func TestPathTraversal(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.safetensors")
	os.WriteFile(secret, []byte("top secret"), 0o644)
	wdir := filepath.Join(dir, "weights")
	os.Mkdir(wdir, 0o755)
	for name, data := range tinyWeights(t) {
		os.WriteFile(filepath.Join(wdir, name), data, 0o644)
	}
	if err := os.Symlink(secret, filepath.Join(wdir, "linked.safetensors")); err != nil {
		t.Fatal(err)
	}
	files, err := ReadWeightsDir(wdir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["linked.safetensors"]; ok {
		t.Fatal("a symbolic link was read as weights")
	}
	static, _ := PrepareAssets(testSite)
	s, err := New(Config{Static: static, Weights: files})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	for _, p := range []string{
		"/../secret.safetensors", "/weights/../secret.safetensors", "/weights/../../secret.safetensors",
		"/%2e%2e/secret.safetensors", "/weights/%2e%2e/secret.safetensors", "/weights%2f..%2fsecret.safetensors",
		"/weights/..%2fsecret.safetensors", "/weights/linked.safetensors", "//etc/passwd", "/etc/passwd",
		"/" + secret, "/weights/" + secret, "/weights/tiny.int8.safetensors/..", "/.%2e/.%2e/etc/passwd",
		"/weights/cache/", "/server.go", "/index.html%00.js",
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
		req.URL.Opaque = p // send the path exactly as written
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got := body(t, resp)
		if bytes.Contains(got, []byte("top secret")) || bytes.Contains(got, []byte("root:")) || resp.StatusCode == 200 && !bytes.Contains(got, []byte("<!doctype html>")) {
			t.Errorf("%s: status %d served %.40q", p, resp.StatusCode, got)
		}
	}
}

func TestMethods(t *testing.T) {
	s := newTestServer(t, Limits{})
	h := s.Handler()
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/", 405},
		{http.MethodDelete, "/app.js", 405},
		{http.MethodHead, "/app.js", 200},
		{http.MethodGet, "/api/classify", 405},
		{http.MethodPut, "/api/classify", 405},
		{http.MethodOptions, "/api/classify", 204},
		{http.MethodPost, "/api/models", 405},
		{http.MethodGet, "/api/nothing", 404},
		{http.MethodGet, "/healthz", 200},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if rec.Code != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, rec.Code, c.want)
		}
		if rec.Code == 405 && rec.Header().Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", c.method, c.path)
		}
	}
}

func TestModelsAPI(t *testing.T) {
	s := catServer(t, Limits{})
	var got struct{ Models []ModelInfo }
	if err := json.Unmarshal(body(t, get(t, s.Handler(), "/api/models")), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Models) != 1 {
		t.Fatalf("%d models", len(got.Models))
	}
	m := got.Models[0]
	if m.Name != "megvii-g3-0.5x" || !m.Default || m.Top1 != 57.3 || m.Family != "megvii" || m.Bytes == 0 || !strings.HasPrefix(m.URL, "/weights/") {
		t.Errorf("model %+v", m)
	}
	if r := get(t, s.Handler(), m.URL); r.StatusCode != 200 || len(body(t, r)) != m.Bytes {
		t.Errorf("weights URL %s: status %d", m.URL, r.StatusCode)
	}
	// The page reads the same list from /models.json, which an exported
	// site holds as a file (ModelListAssets).
	api := body(t, get(t, s.Handler(), "/api/models"))
	if file := body(t, get(t, s.Handler(), "/models.json")); !bytes.Equal(file, api) {
		t.Errorf("/models.json is %s, /api/models %s", file, api)
	}
	exported, err := ModelListAssets(s.ModelList())
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := exported.Lookup("/models.json"); !ok || !bytes.Equal(a.Body, api) || a.ContentType != "application/json" {
		t.Errorf("the exported /models.json differs from /api/models")
	}
}

func post(t testing.TB, h http.Handler, path, contentType string, data []byte) (*http.Response, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(data))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var v map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("%s: answer %q is not JSON", path, rec.Body.String())
	}
	return rec.Result(), v
}

func multipartBody(t testing.TB, field, filename string, data []byte) (string, []byte) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	w.WriteField("note", "a text field comes first")
	part, _ := w.CreateFormFile(field, filename)
	part.Write(data)
	w.Close()
	return w.FormDataContentType(), b.Bytes()
}

func TestClassify(t *testing.T) {
	s := catServer(t, Limits{})
	h := s.Handler()
	cat := shared.Read(t, "images/chelsea.png")
	isCat := func(v map[string]any) bool {
		top := v["top"].([]any)
		first := top[0].(map[string]any)
		idx := int(first["index"].(float64))
		return idx >= 281 && idx <= 285 && first["prob"].(float64) > 0.3 && first["label"] != ""
	}
	r, v := post(t, h, "/api/classify", "image/png", cat)
	if r.StatusCode != 200 || !isCat(v) || v["model"] != "megvii-g3-0.5x" || len(v["top"].([]any)) != 5 || v["ms"].(float64) <= 0 {
		t.Fatalf("raw body: %d %v", r.StatusCode, v)
	}
	ct, form := multipartBody(t, "file", "chelsea.png", cat)
	r, v = post(t, h, "/api/classify?model=megvii-g3-0.5x&top=2", ct, form)
	if r.StatusCode != 200 || !isCat(v) || len(v["top"].([]any)) != 2 {
		t.Fatalf("multipart: %d %v", r.StatusCode, v)
	}
}

// Each bad request gets its status and an error, from a model with a head
// as from one without.
func TestClassifyErrors(t *testing.T) {
	plain, withHead := catServer(t, Limits{MaxBody: 1 << 20}), headServer(t, Limits{MaxBody: 1 << 20})
	cat := shared.Read(t, "images/chelsea.png")
	big := bytes.Repeat([]byte{0xff}, 1<<20+1)
	bigForm, bigFormBody := multipartBody(t, "image", "big.png", big)
	noFileType, noFile := func() (string, []byte) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		w.WriteField("note", "no file here")
		w.Close()
		return w.FormDataContentType(), b.Bytes()
	}()
	for _, c := range []struct {
		name, path, contentType string
		data                    []byte
		want                    int
	}{
		{"oversized body", "/api/classify", "image/png", big, 413},
		{"oversized multipart", "/api/classify", bigForm, bigFormBody, 413},
		{"not an image", "/api/classify", "image/png", []byte("<html>not an image</html>"), 415},
		{"decompression bomb", "/api/classify", "image/png", hostile.BombPNG(100000, 100000), 422},
		{"just over 50 megapixels", "/api/classify", "image/png", hostile.BombPNG(10000, 5001), 422},
		{"empty body", "/api/classify", "image/png", nil, 400},
		{"form without a file", "/api/classify", noFileType, noFile, 400},
		{"broken multipart", "/api/classify", "multipart/form-data; boundary=xyz", []byte("--xyz\r\nnot a header\r\n"), 400},
		{"unknown model", "/api/classify?model=resnet", "image/png", cat, 404},
		{"top too large", "/api/classify?top=1000", "image/png", cat, 400},
		{"top not a number", "/api/classify?top=five", "image/png", cat, 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, s := range []*Server{plain, withHead} {
				r, v := post(t, s.Handler(), c.path, c.contentType, c.data)
				if r.StatusCode != c.want {
					t.Errorf("head %t: status %d, want %d (%v)", s.Models()[0].Head != nil, r.StatusCode, c.want, v)
				}
				if msg, _ := v["error"].(string); msg == "" {
					t.Errorf("head %t: no error message: %v", s.Models()[0].Head != nil, v)
				}
			}
		})
	}
}

// When every slot and the queue are taken, a request is turned away at
// once with 503 and Retry-After instead of waiting forever; one that waits
// longer than the timeout for a slot is turned away too.
func TestBusy(t *testing.T) {
	// The timeout bounds the classification after the load too: under the
	// race detector on a 2-core Zen 3 that took 0.21-0.25 s, and with a
	// 200 ms timeout 5 of 12 runs failed.
	const timeout = 2 * time.Second
	s := newTestServer(t, Limits{Concurrent: 1, Queue: 1, Timeout: timeout})
	cat := shared.Read(t, "images/chelsea.png")
	// Hold the only slot (and so one of the two places).
	leave, _ := s.enter()
	release, err := s.slot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The second place waits for the slot, and times out.
	start := time.Now()
	r, v := post(t, s.Handler(), "/api/classify", "image/png", cat)
	if r.StatusCode != 503 || r.Header.Get("Retry-After") == "" || time.Since(start) < timeout*3/4 {
		t.Errorf("waiting past the timeout: %d %v after %v", r.StatusCode, v, time.Since(start))
	}
	// With both places taken, a request is refused at once.
	leave2, _ := s.enter()
	start = time.Now()
	r, _ = post(t, s.Handler(), "/api/classify", "image/png", cat)
	if r.StatusCode != 503 || time.Since(start) > 100*time.Millisecond {
		t.Errorf("full server: %d after %v", r.StatusCode, time.Since(start))
	}
	leave2()
	release()
	leave()
	if r, _ := post(t, s.Handler(), "/api/classify", "image/png", cat); r.StatusCode != 200 {
		t.Errorf("after the load: %d", r.StatusCode)
	}
}

// 64 clients send 20 requests each to a real listener on 127.0.0.1: every
// answer is a 200 with a cat, and the latency percentiles are reported.
func TestConcurrentClients(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	s := catServer(t, Limits{Queue: 128, Timeout: 2 * time.Minute})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	cat := shared.Read(t, "images/chelsea.png")
	clients, each := 64, 20
	if raceEnabled {
		clients, each = 8, 2 // the race detector makes inference ~10x slower
	}
	latencies := make([]time.Duration, 0, clients*each)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for range each {
				t0 := time.Now()
				resp, err := http.Post(srv.URL+"/api/classify?top=1", "image/png", bytes.NewReader(cat))
				if err != nil {
					t.Error(err)
					return
				}
				var res Classification
				err = json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || res.Top[0].Index < 281 || res.Top[0].Index > 285 {
					t.Errorf("status %d, %+v, %v", resp.StatusCode, res, err)
					return
				}
				mu.Lock()
				latencies = append(latencies, time.Since(t0))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	slices.Sort(latencies)
	if len(latencies) != clients*each {
		t.Fatalf("%d answers, want %d", len(latencies), clients*each)
	}
	t.Logf("%d requests in %v: %.1f req/s, p50 %v, p99 %v", len(latencies), took.Round(time.Millisecond),
		float64(len(latencies))/took.Seconds(), latencies[len(latencies)/2], latencies[len(latencies)*99/100])
}

// On shutdown, a request in flight completes before the server returns.
func TestGracefulShutdown(t *testing.T) {
	s := catServer(t, Limits{})
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, "127.0.0.1:0", func(u string) { urls <- u }) }()
	url := <-urls

	// Hold the inference slots so the request below is in flight (queued)
	// when shutdown starts.
	var releases []func()
	for range s.limits.Concurrent {
		r, _ := s.slot(context.Background())
		releases = append(releases, r)
	}
	answer := make(chan int, 1)
	go func() {
		resp, err := http.Post(url+"api/classify", "image/png", bytes.NewReader(shared.Read(t, "images/chelsea.png")))
		if err != nil {
			answer <- -1
			return
		}
		resp.Body.Close()
		answer <- resp.StatusCode
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	time.Sleep(100 * time.Millisecond)
	for _, r := range releases {
		r()
	}
	if code := <-answer; code != 200 {
		t.Errorf("request in flight during shutdown got %d", code)
	}
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe: %v", err)
	}
}

// FuzzReadImage feeds arbitrary bodies and content types to the upload
// parser: it returns bytes or an error, within the limit, never panics.
func FuzzReadImage(f *testing.F) {
	ct, form := multipartBody(f, "image", "a.png", []byte("\x89PNG fake"))
	f.Add(ct, form)
	f.Add("image/png", []byte("\x89PNG"))
	f.Add("multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x\"\r\n\r\nabc\r\n--b--\r\n"))
	f.Add("multipart/form-data", []byte("--"))
	f.Fuzz(func(t *testing.T, contentType string, data []byte) {
		const limit = 1 << 16
		img, err := readImage(contentType, io.LimitReader(bytes.NewReader(data), limit), limit)
		if err == nil && (len(img) == 0 || len(img) > limit+1) {
			t.Fatalf("%d bytes returned", len(img))
		}
	})
}
