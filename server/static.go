package server

import (
	"bytes"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// pagePolicy is the Content-Security-Policy of the site's pages: scripts
// from this origin only, plus 'wasm-unsafe-eval' so that they may compile
// WebAssembly; workers from this origin or blob: URLs; pictures from files
// the user picks (blob:) or the camera; nothing else.
const pagePolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; " +
	"connect-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"

// framePolicy is the policy of /embed, the widget's iframe form: other
// sites may frame it, and it may fetch the picture it is given from anywhere.
const framePolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; " +
	"connect-src *; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors *"

// pagePolicies maps the pages that need another policy than pagePolicy.
var pagePolicies = map[string]string{"/embed.html": framePolicy}

// serveAsset writes a prepared asset: the encoding the client prefers,
// a strong ETag per encoding (so If-None-Match gives 304), and caching that
// fits the name: forever for content-hashed names, revalidate otherwise.
func serveAsset(w http.ResponseWriter, r *http.Request, a *Asset, urlPath string) {
	h := w.Header()
	maps.Copy(h, a.Headers(urlPath))
	body, tag := a.Body, a.Hash[:20]
	if a.Brotli != nil || a.Gzip != nil {
		h.Add("Vary", "Accept-Encoding")
		switch preferredEncoding(r.Header.Get("Accept-Encoding"), a.Brotli != nil, a.Gzip != nil) {
		case "br":
			body, tag = a.Brotli, tag+"-br"
			h.Set("Content-Encoding", "br")
		case "gzip":
			body, tag = a.Gzip, tag+"-gz"
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", `"`+tag+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// Headers are the headers the asset is served with at urlPath, but for
// those that depend on the request's encoding (Content-Encoding, Vary,
// ETag): its type; caching, forever under a content-hashed name and
// revalidated otherwise; the page policy on HTML, and cross-origin access
// on everything else; and the headers every response carries. It is the
// one source of these headers for this server and for static hosts (see
// WriteSite).
func (a *Asset) Headers(urlPath string) http.Header {
	h := http.Header{}
	setCommonHeaders(h)
	h.Set("Content-Type", a.ContentType)
	if a.Immutable(urlPath) {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if isHTML(a.Path) {
		policy, ok := pagePolicies[a.Path]
		if !ok {
			policy = pagePolicy
		}
		h.Set("Content-Security-Policy", policy)
	} else {
		// Scripts, the wasm and the weights may be loaded by other sites (the widget).
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
	return h
}

// setCommonHeaders sets the headers that every response carries, the
// API's included.
func setCommonHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
}

// preferredEncoding picks br, then gzip, then identity ("") among what the
// client accepts (q > 0) and what the asset has.
func preferredEncoding(accept string, haveBrotli, haveGzip bool) string {
	q := map[string]float64{}
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		weight := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				weight = f
			}
		}
		q[strings.ToLower(strings.TrimSpace(name))] = weight
	}
	accepts := func(enc string) bool {
		if w, ok := q[enc]; ok {
			return w > 0
		}
		w, ok := q["*"]
		return ok && w > 0
	}
	switch {
	case haveBrotli && accepts("br"):
		return "br"
	case haveGzip && accepts("gzip"):
		return "gzip"
	}
	return ""
}
