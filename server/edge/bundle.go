package main

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/shufflenet-go/shufflenet/server"
)

// embedded is the bundle `make worker` lays out in bundle/ before building:
// the weights files and engine.json (see bundle/README.md).
//
//go:embed bundle
var embedded embed.FS

// engineFile names where the page's engine is, as /api/models reports it.
const engineFile = "engine.json"

// bundleDir is the bundle's folder in a file system that holds bundle/.
func bundleDir(bundle fs.FS) (fs.FS, error) {
	dir, err := fs.Sub(bundle, "bundle")
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return dir, nil
}

// newAPI makes the API server from a bundle (a file system holding bundle/).
func newAPI(bundle fs.FS) (*server.Server, error) {
	dir, err := bundleDir(bundle)
	if err != nil {
		return nil, err
	}
	weights, err := server.ReadWeightsFS(dir)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if len(weights) == 0 {
		return nil, errors.New("bundle: no weights files (build with make worker)")
	}
	engine, err := readEngine(dir)
	if err != nil {
		return nil, err
	}
	return server.NewAPI(server.Config{Weights: weights, Engine: engine})
}

// readEngine reads engine.json, which must locate both the engine and its loader.
func readEngine(dir fs.FS) (*server.EngineInfo, error) {
	data, err := fs.ReadFile(dir, engineFile)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w (build with make worker)", err)
	}
	var e server.EngineInfo
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("bundle: %s: %w", engineFile, err)
	}
	if e.URL == "" || e.WasmExec == "" || e.Bytes <= 0 {
		return nil, fmt.Errorf("bundle: %s does not locate the engine: %s", engineFile, data)
	}
	return &e, nil
}

// handler serves the API made from bundle or, when the bundle is broken,
// answers every request with a 500 that says why: the Workers runtime would
// otherwise report only that the Go program exited.
func handler(bundle fs.FS) http.Handler {
	s, err := newAPI(bundle)
	if err == nil {
		return s.API()
	}
	msg, _ := json.Marshal(map[string]string{"error": "the worker cannot start: " + err.Error()})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(msg)
	})
}
