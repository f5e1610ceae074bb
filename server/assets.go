package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"path"
	"slices"
	"strings"

	"github.com/andybalholm/brotli"
)

// Asset is one file the server hosts, prepared once at start: its bytes
// in every encoding worth offering, its type and its strong ETag.
type Asset struct {
	Path        string // URL path, e.g. "/app.js"
	HashedPath  string // e.g. "/app.1f2e3d4c5b.js"; "" for HTML, which is never renamed
	ContentType string
	Body        []byte
	Gzip        []byte // nil when compressing does not pay
	Brotli      []byte
	Hash        string // hex digest of Body
}

// Immutable reports whether the asset is cached forever under its hashed name.
func (a *Asset) Immutable(urlPath string) bool { return a.HashedPath != "" && urlPath == a.HashedPath }

// Assets is the set of files the server hosts, by URL path (both the plain
// and the content-hashed names).
type Assets struct {
	byPath map[string]*Asset
	list   []*Asset
}

// Lookup returns the asset served at urlPath.
func (s *Assets) Lookup(urlPath string) (*Asset, bool) {
	a, ok := s.byPath[urlPath]
	return a, ok
}

// List returns every asset, sorted by path.
func (s *Assets) List() []*Asset { return s.list }

// HashedPath is the content-hashed URL of the asset at urlPath, or urlPath
// itself when there is none.
func (s *Assets) HashedPath(urlPath string) string {
	if a, ok := s.byPath[urlPath]; ok && a.HashedPath != "" {
		return a.HashedPath
	}
	return urlPath
}

// engineWasm and wasmExec are where `make wasm` puts the engine and Go's loader.
const (
	engineWasm = "/gen/shufflenet.wasm"
	wasmExec   = "/gen/wasm_exec.js"
)

// Engine locates the page's engine among the assets, by the names the
// page loads it under; nil when it was not built in (see `make wasm`).
func (s *Assets) Engine() *EngineInfo {
	a, ok := s.Lookup(engineWasm)
	if !ok {
		return nil
	}
	return &EngineInfo{URL: a.HashedPath, Bytes: len(a.Body), WasmExec: s.HashedPath(wasmExec)}
}

// emptyAssets serves nothing.
func emptyAssets() *Assets { return &Assets{byPath: map[string]*Asset{}} }

// PrepareWeights prepares weights files (by file name) for serving under
// /weights/, like PrepareAssets.
func PrepareWeights(files map[string][]byte) (*Assets, error) {
	return prepareFiles(mount(weightsPrefix, files))
}

// weightsPrefix is where weights files are served.
const weightsPrefix = "/weights/"

// weightsPath is the URL path of a weights file by its plain name.
func weightsPath(file string) string { return weightsPrefix + file }

// mount keys files by URL path under prefix.
func mount(prefix string, files map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(files))
	for name, data := range files {
		out[prefix+name] = data
	}
	return out
}

// PrepareAssets reads every file of fsys and prepares it for serving at
// the site's root:
//
//   - Every file but HTML also gets a content-hashed name (app.js is also
//     served as app.<hash>.js, cached forever), and every quoted reference
//     to another asset's path ("/app.js") in HTML, JavaScript and CSS is
//     rewritten to its hashed name, leaves first, so a page always loads
//     matching files and a changed file changes every name above it.
//   - Compressible files are compressed with brotli and gzip, once. A
//     precompressed sibling in fsys (x.wasm.br, made at build time at
//     brotli's slowest, best setting) is used when it matches.
func PrepareAssets(fsys fs.FS) (*Assets, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			return nil // never follow links out of the asset tree
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files["/"+p] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read assets: %w", err)
	}
	return prepareFiles(files)
}

// prepareFiles prepares files keyed by URL path (see PrepareAssets).
func prepareFiles(files map[string][]byte) (*Assets, error) {
	precompressed := map[string][]byte{}
	for p, data := range files {
		if strings.HasSuffix(p, ".br") && files[strings.TrimSuffix(p, ".br")] != nil {
			precompressed[strings.TrimSuffix(p, ".br")] = data
			delete(files, p)
		}
	}

	bodies, hashes, err := rewriteReferences(files)
	if err != nil {
		return nil, err
	}
	s := &Assets{byPath: map[string]*Asset{}}
	for p, body := range bodies {
		a := &Asset{Path: p, ContentType: contentType(p), Body: body, Hash: hashes[p]}
		if !isHTML(p) {
			a.HashedPath = hashedName(p, a.Hash)
			s.byPath[a.HashedPath] = a
		}
		if compressible(a.ContentType) {
			a.Brotli = precompressedBrotli(precompressed[p], body)
			if a.Brotli == nil {
				a.Brotli = compressBrotli(body, brotliLevel(a.ContentType, len(body)))
			}
			a.Gzip = compressGzip(body)
			if len(a.Brotli) >= len(body) {
				a.Brotli = nil
			}
			if len(a.Gzip) >= len(body) {
				a.Gzip = nil
			}
		}
		s.byPath[p] = a
		s.list = append(s.list, a)
	}
	slices.SortFunc(s.list, func(a, b *Asset) int { return strings.Compare(a.Path, b.Path) })
	return s, nil
}

// rewriteReferences replaces quoted references to other assets in text
// files with their hashed names, resolving files only after everything
// they reference, and returns the final bodies with their hashes.
func rewriteReferences(files map[string][]byte) (map[string][]byte, map[string]string, error) {
	bodies, hashes := map[string][]byte{}, map[string]string{}
	var pending []string
	for p, data := range files {
		if isText(p) {
			pending = append(pending, p)
			continue
		}
		bodies[p], hashes[p] = data, digest(data)
	}
	slices.Sort(pending)
	for len(pending) > 0 {
		var next []string
		for _, p := range pending {
			refs, ready := references(files[p], files, p), true
			for _, r := range refs {
				if _, done := hashes[r]; !done && !isHTML(r) {
					ready = false
				}
			}
			if !ready {
				next = append(next, p)
				continue
			}
			body := files[p]
			for _, r := range refs {
				if isHTML(r) {
					continue
				}
				for _, q := range []string{`"`, `'`, "`"} {
					body = bytes.ReplaceAll(body, []byte(q+r+q), []byte(q+hashedName(r, hashes[r])+q))
				}
			}
			bodies[p], hashes[p] = body, digest(body)
		}
		if len(next) == len(pending) {
			return nil, nil, fmt.Errorf("assets reference each other in a cycle: %v", next)
		}
		pending = next
	}
	return bodies, hashes, nil
}

// references lists the assets that data mentions as a quoted path.
func references(data []byte, files map[string][]byte, self string) []string {
	var refs []string
	for p := range files {
		if p == self {
			continue
		}
		for _, q := range []string{`"`, `'`, "`"} {
			if bytes.Contains(data, []byte(q+p+q)) {
				refs = append(refs, p)
				break
			}
		}
	}
	slices.Sort(refs)
	return refs
}

// hashedName is the content-hashed name of the file at p whose digest is
// hash: app.js becomes app.<first 10 hex digits>.js.
func hashedName(p, hash string) string {
	ext := path.Ext(p)
	return strings.TrimSuffix(p, ext) + "." + hash[:10] + ext
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func isHTML(p string) bool { return path.Ext(p) == ".html" }

func isText(p string) bool {
	switch path.Ext(p) {
	case ".html", ".js", ".mjs", ".css":
		return true
	}
	return false
}

// contentType maps an extension to the type browsers need: application/wasm
// above all, so that they compile while the module downloads.
func contentType(p string) string {
	switch path.Ext(p) {
	case ".wasm":
		return "application/wasm"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json":
		return "application/json"
	case ".safetensors":
		return "application/octet-stream"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || contentType == "application/wasm" ||
		contentType == "application/json" || contentType == "image/svg+xml" || contentType == "application/octet-stream"
}

// brotliLevel trades start-up time for size. Small text gets the best
// setting. Large files (the wasm, when it was not precompressed at build
// time) get a fast one within 15% of it, and weights a fast one because
// the slow settings gain under 1% on int8 data.
func brotliLevel(contentType string, size int) int {
	switch {
	case contentType == "application/octet-stream":
		return 5
	case size < 256<<10:
		return brotli.BestCompression
	}
	return 6
}

// compressBrotli compresses at the given level (0-11).
func compressBrotli(data []byte, level int) []byte {
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, level)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func compressGzip(data []byte) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// precompressedBrotli returns br if it decompresses to body, else nil.
func precompressedBrotli(br, body []byte) []byte {
	if br == nil {
		return nil
	}
	got, err := io.ReadAll(io.LimitReader(brotli.NewReader(bytes.NewReader(br)), int64(len(body))+1))
	if err != nil || !bytes.Equal(got, body) {
		return nil
	}
	return br
}
