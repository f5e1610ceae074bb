package web_test

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/web"
)

// docsSite is a documentation site on a second origin that embeds the
// widget from the main server: the example page (its embed.js pointed at
// the main server), its own script and style, and the shared photos,
// which it serves with CORS so that the iframe form may read them.
func docsSite(t *testing.T, main string) string {
	t.Helper()
	page, err := fs.ReadFile(web.Static(), "examples/docs.html")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	var self string
	mux.HandleFunc("/docs.html", func(w http.ResponseWriter, r *http.Request) {
		html := strings.Replace(string(page), `"/embed.js"`, `"`+main+`embed.js"`, 1)
		if r.URL.Query().Has("hostile") {
			html = strings.Replace(html, "</head>", "<style>div, span { display:none !important }</style></head>", 1)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, html)
	})
	mux.HandleFunc("/frame.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>iframe host</title><ul id="events"></ul>
<script type="module" src="/examples/docs.js"></script>
<iframe src="%sembed?src=%s&top=3" width="360" height="480"></iframe>`, main, self+"images/chelsea.png")
	})
	mux.Handle("/examples/", http.FileServerFS(web.Static()))
	mux.HandleFunc("/images/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		http.ServeFile(w, r, shared.Path(t, "images/"+strings.TrimPrefix(r.URL.Path, "/images/")))
	})
	mux.HandleFunc("/favicon.svg", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	self = ts.URL + "/"
	return self
}

// widgetTop waits until the widget with this id shows a result (scrolling
// it into view first: widgets load when they become visible) and returns
// its top-1 class.
func widgetTop(t *testing.T, b *browsertest.Browser, id string) int {
	t.Helper()
	b.Run(t, 60*time.Second,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).scrollIntoView()`, id)),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).shadowRoot.querySelector('li')`, id), chromedp.WithPollingTimeout(50*time.Second)),
	)
	return browsertest.Eval[int](t, b, 5*time.Second, fmt.Sprintf(`+document.getElementById(%q).shadowRoot.querySelector('li').dataset.index`, id))
}

func TestWidgetFromAnotherOrigin(t *testing.T) {
	main := startSite(t)
	docs := docsSite(t, main)
	b := browsertest.New(t)
	b.Run(t, 30*time.Second, chromedp.Navigate(docs+"docs.html"))
	for _, c := range []struct {
		id       string
		lo, hi   int
		category string
	}{{"cat", 281, 285, "a cat"}, {"coffee", 967, 968, "espresso or a cup"}, {"motorcycle", 665, 670, "a moped or motor scooter"}} {
		if got := widgetTop(t, b, c.id); got < c.lo || got > c.hi {
			t.Errorf("widget %s: top-1 %d, want %s (%d-%d)", c.id, got, c.category, c.lo, c.hi)
		}
	}
	events := browsertest.Eval[[]string](t, b, 5*time.Second, `[...document.querySelectorAll('#events li')].map((li) => li.dataset.source)`)
	for _, id := range []string{"cat", "coffee", "motorcycle"} {
		if !strings.Contains(strings.Join(events, " "), id) {
			t.Errorf("no classified event from %s reached the page (events: %v)", id, events)
		}
	}
	// All widgets share one engine: the engine and its SIMD128 kernels
	// were downloaded once each.
	wasm := browsertest.Eval[[]string](t, b, 5*time.Second, `performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.wasm')).map((e) => new URL(e.name).pathname)`)
	if len(wasm) != 2 || !strings.Contains(strings.Join(wasm, " "), "shufflenet") || !strings.Contains(strings.Join(wasm, " "), "simd128") {
		t.Errorf("wasm downloads %v, want the engine and its kernels once each", wasm)
	}
	heatmap := browsertest.Eval[bool](t, b, 5*time.Second, `!document.getElementById('coffee').shadowRoot.querySelector('.overlay').hidden`)
	if !heatmap {
		t.Error("the coffee widget's heat map is not shown")
	}
	b.Screenshot(t, "widget-docs.png")
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// The page's CSS cannot reach inside the widget: a stylesheet hiding every
// div and span leaves the result visible.
func TestWidgetSurvivesHostileCSS(t *testing.T) {
	main := startSite(t)
	docs := docsSite(t, main)
	b := browsertest.New(t)
	b.Run(t, 30*time.Second, chromedp.Navigate(docs+"docs.html?hostile"))
	if got := widgetTop(t, b, "cat"); got < 281 || got > 285 {
		t.Errorf("top-1 %d, want a cat", got)
	}
	visible := browsertest.Eval[bool](t, b, 5*time.Second, `(() => {
		const root = document.getElementById('cat').shadowRoot;
		return [root.querySelector('li .label'), root.querySelector('.picture')].every((el) => el.checkVisibility() && el.getBoundingClientRect().height > 0);
	})()`)
	if !visible {
		t.Error("the hostile stylesheet hid the widget's result")
	}
}

// The iframe form (/embed?src=...) on another site shows the same top-1 as
// the widget, and tells the embedding page.
func TestIframeForm(t *testing.T) {
	main := startSite(t)
	docs := docsSite(t, main)
	b := browsertest.New(t)
	b.Run(t, 30*time.Second, chromedp.Navigate(docs+"docs.html"))
	want := widgetTop(t, b, "cat")
	b.Run(t, 60*time.Second,
		chromedp.Navigate(docs+"frame.html"),
		chromedp.Poll[chromedp.Void](`document.querySelector('#events li[data-source=iframe]')`, chromedp.WithPollingTimeout(50*time.Second)),
	)
	got := browsertest.Eval[int](t, b, 5*time.Second, `+document.querySelector('#events li[data-source=iframe]').dataset.index`)
	if got != want {
		t.Errorf("iframe top-1 %d, widget %d", got, want)
	}
}

// A picture whose server allows no cross-origin reads gives an error that
// says so, in the widget.
func TestWidgetExplainsCORSRefusal(t *testing.T) {
	main := startSite(t)
	noCORS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, shared.Path(t, "images/chelsea.png"))
	}))
	defer noCORS.Close()
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>host</title><link rel="icon" href="data:,">
<script type="module" src="%sembed.js"></script>
<shufflenet-classifier id="w" src="%s/cat.png"></shufflenet-classifier>`, main, noCORS.URL)
	}))
	defer host.Close()
	b := browsertest.New(t)
	b.Run(t, 60*time.Second,
		chromedp.Navigate(host.URL),
		chromedp.Poll[chromedp.Void](`document.getElementById('w').shadowRoot.querySelector('.error:not([hidden])')`, chromedp.WithPollingTimeout(50*time.Second)),
	)
	msg := browsertest.Eval[string](t, b, 5*time.Second, `document.getElementById('w').shadowRoot.querySelector('.error').textContent`)
	if !strings.Contains(msg, "CORS") {
		t.Errorf("error %q does not name the CORS refusal", msg)
	}
}
