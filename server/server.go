// Package server is the project's one-binary deployment: it hosts the web
// demo (the page, the engine compiled to WebAssembly, the weights) and runs
// the same engine natively behind /api/classify.
//
// Routes:
//
//	GET  /                 the demo page and every other static asset
//	GET  /weights/...      the weights files the page downloads
//	GET  /healthz          liveness
//	GET  /api/models       the models this server can serve
//	POST /api/classify     ?model=NAME&top=K&classes=head|imagenet, an image as the body or as multipart
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"golang.org/x/sync/semaphore"
)

// Limits bound what one request, and all of them together, may cost.
// Each zero field takes the default in brackets.
type Limits struct {
	MaxBody     int64         // bytes of an upload (10 MB)
	BodyTimeout time.Duration // to receive an upload; slower ones get 408 (20 s)
	// UploadMemory bounds the bytes of all uploads the server holds at once,
	// counted as they arrive, until their answer (128 MB).
	UploadMemory int64
	MaxPixels    int // pixels of a decoded image (50 megapixels)
	// DecodeMemory bounds what the decodes in progress may take together,
	// as preprocess.Header.DecodeBytes estimates it (1 GB: one 50-megapixel
	// JPEG, or five 12-megapixel ones). A decode waits for its share.
	DecodeMemory int64
	Concurrent   int           // inferences (decoding included) at once (GOMAXPROCS)
	Queue        int           // requests that may wait for one (4 x Concurrent)
	Timeout      time.Duration // for a classification once uploaded, waiting included (10 s)
	MaxTop       int           // largest top=K (20)
}

// withDefaults fills the zero fields of l.
func (l Limits) withDefaults() Limits {
	if l.MaxBody == 0 {
		l.MaxBody = 10 << 20
	}
	if l.BodyTimeout == 0 {
		l.BodyTimeout = 20 * time.Second
	}
	if l.UploadMemory == 0 {
		l.UploadMemory = 128 << 20
	}
	if l.MaxPixels == 0 {
		l.MaxPixels = preprocess.DefaultMaxPixels
	}
	if l.DecodeMemory == 0 {
		l.DecodeMemory = 1 << 30
	}
	if l.Concurrent == 0 {
		l.Concurrent = runtime.GOMAXPROCS(0)
	}
	if l.Queue == 0 {
		l.Queue = 4 * l.Concurrent
	}
	if l.Timeout == 0 {
		l.Timeout = 10 * time.Second
	}
	if l.MaxTop == 0 {
		l.MaxTop = 20
	}
	return l
}

// Config configures a Server. The zero value serves nothing; set Static
// (usually web.Static()) and Weights.
type Config struct {
	Static  *Assets           // front end, prepared by PrepareAssets
	Weights map[string][]byte // weights files by name, e.g. from ReadWeightsDir
	// Heads are head files (weights.DecodeHead) by name, at most one for each
	// model: each goes to the model it was trained on (matched by the
	// weights file's sha256), whose /api/classify then answers with the
	// head's classes unless asked for classes=imagenet. A head that
	// matches no model is an error.
	Heads map[string][]byte
	// ExampleImages are served at /examples/images/NAME for the example
	// documentation page (the project ships no photos of its own).
	ExampleImages map[string][]byte
	// Engine is what /api/models says of the page's engine. Nil: the engine
	// in Static, if any. A server made by NewAPI, which has no Static, needs
	// it for the page to start.
	Engine *EngineInfo
	Limits Limits
	Logger *slog.Logger // nil: discard
}

// Server serves the site and the API. Its handlers are safe for concurrent use.
type Server struct {
	static   *Assets
	weights  *Assets
	examples *Assets
	engine   *EngineInfo // nil: none built
	models   *Registry
	limits   Limits
	log      *slog.Logger
	// inflight holds a token for every admitted classification (running or
	// waiting); slots for every running one.
	inflight, slots chan struct{}
	// uploadMemory and decodeMemory hold Limits.UploadMemory and
	// Limits.DecodeMemory bytes.
	uploadMemory, decodeMemory *semaphore.Weighted
}

// New prepares a server: it prepares the weights files for serving,
// decodes each and builds each network once.
func New(cfg Config) (*Server, error) {
	weights, err := PrepareWeights(cfg.Weights)
	if err != nil {
		return nil, err
	}
	examples, err := prepareFiles(mount("/examples/images/", cfg.ExampleImages))
	if err != nil {
		return nil, err
	}
	return newServer(cfg, weights, examples, func(file, _ string) string { return weights.HashedPath(weightsPath(file)) })
}

// NewAPI prepares a server of which only API() is of use, for hosts that
// serve the page and the weights files themselves, as WriteSite wrote them
// (the Cloudflare Worker, whose static assets do). Like New it decodes the
// weights and builds each network, but it neither compresses the files nor
// keeps them for serving, which matters where every request may start a
// fresh instance. /api/models gives each file's content-hashed URL, the
// name WriteSite writes it under, and cfg.Engine; cfg.Static is ignored.
func NewAPI(cfg Config) (*Server, error) {
	cfg.Static = nil
	// Nothing here prepares files: that would link the brotli encoder
	// into the Worker, whose upload size is limited.
	return newServer(cfg, emptyAssets(), emptyAssets(), func(file, sha256 string) string {
		return hashedName(weightsPath(file), sha256)
	})
}

// newServer makes a server that serves weights and example images
// (prepared or empty) and reports weightsURL(file, sha256) as each
// file's URL.
func newServer(cfg Config, weights, examples *Assets, weightsURL func(file, sha256 string) string) (*Server, error) {
	s := &Server{static: cfg.Static, weights: weights, examples: examples, limits: cfg.Limits.withDefaults(), log: cfg.Logger}
	if s.static == nil {
		s.static = emptyAssets()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.engine = cfg.Engine
	if s.engine == nil {
		s.engine = s.static.Engine()
	}
	var err error
	if s.models, err = LoadModels(maps.Clone(cfg.Weights), s.limits.Concurrent, weightsURL); err != nil {
		return nil, err
	}
	if err := s.models.attachHeads(cfg.Heads); err != nil {
		return nil, err
	}
	s.inflight = make(chan struct{}, s.limits.Concurrent+s.limits.Queue)
	s.slots = make(chan struct{}, s.limits.Concurrent)
	s.uploadMemory = semaphore.NewWeighted(s.limits.UploadMemory)
	s.decodeMemory = semaphore.NewWeighted(s.limits.DecodeMemory)
	return s, nil
}

// Models lists the models the server runs.
func (s *Server) Models() []ModelInfo { return s.models.Infos() }

// ModelList is what /api/models answers, and what the page and the widget
// read from /models.json, which WriteModelList writes into an exported
// site: a static file, so that the site needs no server route.
func (s *Server) ModelList() ModelList { return ModelList{Engine: s.engine, Models: s.models.Infos()} }

// Handler serves the whole site: static files, weights, /models.json and
// the API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", s.API())
	mux.HandleFunc("/models.json", s.listModels)
	mux.HandleFunc("/healthz", s.healthz)
	mux.HandleFunc("/", s.serveStatic)
	return s.middleware(mux)
}

// API serves /api/models and /api/classify alone, for hosts that serve
// static files themselves (the Cloudflare Worker). Its responses carry the
// headers that every response of Handler does.
func (s *Server) API() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/models", s.listModels)
	mux.HandleFunc("/api/classify", s.classify)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API: "+r.URL.Path)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setCommonHeaders(w.Header())
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/"):
		p += "index.html"
	case p == "/embed":
		p = "/embed.html" // the widget's iframe form: /embed?src=...
	}
	a, ok := s.static.Lookup(p)
	if !ok {
		a, ok = s.weights.Lookup(p)
	}
	if !ok {
		a, ok = s.examples.Lookup(p)
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	serveAsset(w, r, a, p)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "models": len(s.models.order)})
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, s.ModelList())
}

// ModelList is /api/models' answer: the engine the browser downloads and
// the models it can load, with sizes so that a page can show the progress
// of the first load in bytes.
type ModelList struct {
	Engine *EngineInfo `json:"engine,omitempty"`
	Models []ModelInfo `json:"models"`
}

// EngineInfo locates the engine compiled to WebAssembly and Go's loader for it.
type EngineInfo struct {
	URL      string `json:"url"`
	Bytes    int    `json:"bytes"`
	WasmExec string `json:"wasm_exec"`
}

// middleware adds the headers every response carries and logs each request.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		setCommonHeaders(w.Header())
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes), slog.Duration("took", time.Since(start)))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers {"error": msg} with status.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// ListenAndServe serves on addr until ctx is done, then shuts down
// gracefully: it stops accepting connections and lets requests in flight
// finish (for up to 20 seconds). ready is called with the URL once the
// listener is open.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(url string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second, // a 10 MB upload on a slow link
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	if ready != nil {
		ready(fmt.Sprintf("http://%s/", ln.Addr()))
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
