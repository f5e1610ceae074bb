package web_test

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/web"
)

// After a first visit, a docs page whose widget names the service worker
// (a copy of shufflenet-sw.js on the page's own origin) shows its label
// again with the widget's asset server down: every request to it fails as
// a stopped server's would. In Chromium and Firefox.
func TestWidgetOffline(t *testing.T) {
	var down atomic.Bool
	assets := startSiteWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				panic(http.ErrAbortHandler) // the connection closes unanswered
			}
			h.ServeHTTP(w, r)
		})
	})
	sw, err := fs.ReadFile(web.Static(), "shufflenet-sw.js")
	if err != nil {
		t.Fatal(err)
	}
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/shufflenet-sw.js":
			w.Header().Set("Content-Type", "text/javascript")
			w.Write(sw)
		case strings.HasPrefix(r.URL.Path, "/images/"):
			http.ServeFile(w, r, shared.Path(t, "images/"+strings.TrimPrefix(r.URL.Path, "/images/")))
		case r.URL.Path == "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html lang="en"><title>offline</title><link rel="icon" href="data:,">
<script>navigator.serviceWorker?.addEventListener('message', (e) => { if (e.data?.type === 'shufflenet-cached') window.cached = e.data.count; });</script>
<script type="module" src="%sembed.js"></script>
<main><shufflenet-classifier id="cat" src="/images/chelsea.png" top="3" service-worker="/shufflenet-sw.js"></shufflenet-classifier></main></html>`, assets)
		default:
			http.NotFound(w, r)
		}
	}))
	defer docs.Close()

	label := `document.getElementById('cat').shadowRoot.querySelector('.top li')`
	for _, br := range browsers[:2] {
		t.Run(br.name, func(t *testing.T) {
			down.Store(false)
			d := br.start(t, browsertest.Options{})
			d.Navigate(t, docs.URL+"/")
			browsertest.Poll(t, d, label, 60*time.Second)
			browsertest.Poll(t, d, `window.cached > 0`, 30*time.Second)
			var kept []string
			d.Eval(t, `caches.open('shufflenet-offline-1').then((c) => c.keys()).then((ks) => ks.map((r) => new URL(r.url).pathname))`, &kept)
			for _, want := range []string{"/embed.js", "/models.json", ".wasm", ".safetensors", "/images/chelsea.png"} {
				if !slices.ContainsFunc(kept, func(p string) bool { return strings.HasSuffix(p, want) }) {
					t.Errorf("the service worker kept no %s (it kept %v)", want, kept)
				}
			}

			down.Store(true)
			d.Navigate(t, docs.URL+"/")
			browsertest.Poll(t, d, label+` || document.getElementById('cat').shadowRoot.querySelector('[role=alert]:not([hidden])')`, 60*time.Second)
			var index int
			d.Eval(t, `+(`+label+`?.dataset.index ?? -1)`, &index)
			if index < 281 || index > 285 {
				var page string
				d.Eval(t, `document.getElementById('cat').shadowRoot.textContent`, &page)
				t.Fatalf("%s, offline: class %d, want a cat (the widget says %q)", d.Name(), index, page)
			}
		})
	}
}
