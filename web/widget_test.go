package web_test

import (
	"fmt"
	"io/fs"
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

// The page and a widget render a result with the same Go code: the same
// photo at the same top-5 gives the same markup, to the byte.
func TestPageAndWidgetShowTheSameResult(t *testing.T) {
	main := startSite(t)
	page := widgetHost(t, main, 1)
	b := browsertest.New(t)
	openDemo(t, b, main)
	upload(t, b, shared.Path(t, "images/chelsea.png"))
	fromPage := browsertest.Eval[string](t, b, 5*time.Second, `document.querySelector('.classifier .top').outerHTML`)

	b.Run(t, 60*time.Second, chromedp.Navigate(page+"?top=5"))
	widgetTop(t, b, "w0")
	fromWidget := browsertest.Eval[string](t, b, 5*time.Second, `document.getElementById('w0').shadowRoot.querySelector('.classifier .top').outerHTML`)
	if fromPage != fromWidget || !strings.Contains(fromPage, `class="label"`) {
		t.Errorf("the page's result\n%s\ndiffers from the widget's\n%s", fromPage, fromWidget)
	}
}

// widgetQuery is a JavaScript expression for an element inside a widget.
func widgetQuery(id, selector string) string {
	return fmt.Sprintf(`document.getElementById(%q).shadowRoot.querySelector(%q)`, id, selector)
}

// A widget with upload classifies the reader's file, and says so when the
// file is not a picture.
func TestWidgetUpload(t *testing.T) {
	main := startSite(t)
	docs := docsSite(t, main)
	b := browsertest.New(t)
	b.Run(t, 30*time.Second, chromedp.Navigate(docs+"docs.html"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('yours').scrollIntoView()`),
		chromedp.Poll[chromedp.Void](widgetQuery("yours", ".file:enabled"), chromedp.WithPollingTimeout(25*time.Second)),
	)
	notes := filepath.Join(t.TempDir(), "notes.png")
	os.WriteFile(notes, []byte("these are notes, not pixels"), 0o644)
	b.Run(t, 20*time.Second,
		chromedp.SetUploadFiles(chromedp.JSPath(widgetQuery("yours", ".file")), []string{notes}),
		chromedp.Poll[chromedp.Void](widgetQuery("yours", ".error:not([hidden])"), chromedp.WithPollingTimeout(15*time.Second)),
	)
	if msg := browsertest.Eval[string](t, b, 5*time.Second, widgetQuery("yours", ".error")+".textContent"); !strings.Contains(msg, "not a picture") {
		t.Errorf("error %q", msg)
	}
	b.Run(t, 20*time.Second,
		chromedp.SetUploadFiles(chromedp.JSPath(widgetQuery("yours", ".file")), []string{shared.Path(t, "images/coffee.png")}),
		chromedp.Poll[chromedp.Void](widgetQuery("yours", ".top li"), chromedp.WithPollingTimeout(15*time.Second)),
	)
	if got := widgetTop(t, b, "yours"); got < 967 || got > 968 {
		t.Errorf("top-1 %d, want espresso or a cup", got)
	}
	if hidden := browsertest.Eval[bool](t, b, 5*time.Second, widgetQuery("yours", ".error")+".hidden"); !hidden {
		t.Error("the error is still shown after a good upload")
	}
}

// A widget with webcam classifies the (fake) camera's frames live.
func TestWidgetWebcam(t *testing.T) {
	main := startSite(t)
	docs := docsSite(t, main)
	b := browsertest.New(t, fakeCamera(catVideo(t, 30))...)
	b.Run(t, 60*time.Second, chromedp.Navigate(docs+"docs.html"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('yours').scrollIntoView()`),
		chromedp.Poll[chromedp.Void](widgetQuery("yours", ".camera:enabled"), chromedp.WithPollingTimeout(25*time.Second)),
		chromedp.Evaluate[chromedp.Void](widgetQuery("yours", ".camera")+".click()"),
		chromedp.Poll[chromedp.Void](widgetQuery("yours", ".fps")+".textContent.includes('frames/s')", chromedp.WithPollingTimeout(20*time.Second)),
	)
	if got := widgetTop(t, b, "yours"); got < 281 || got > 285 {
		t.Errorf("webcam top-1 %d, want the photo's cat", got)
	}
	b.Run(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](widgetQuery("yours", ".camera")+".click()"))
	if pressed := browsertest.Eval[string](t, b, 5*time.Second, widgetQuery("yours", ".camera")+".getAttribute('aria-pressed')"); pressed != "false" {
		t.Errorf("the webcam button stays pressed (%q) after stopping", pressed)
	}
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// Twenty widgets on one page start one engine: the engine, its kernels,
// the worker script, the model list and the weights are each fetched once,
// one worker runs; a widget below the fold starts only when scrolled into
// view, and then shows its label. The test logs the requests and bytes the
// asset server sent.
func TestTwentyWidgetsShareOneEngine(t *testing.T) {
	var log requestLog
	main := startSiteWith(t, log.wrap)
	page := widgetHost(t, main, 20)
	for _, br := range browsers[:2] {
		t.Run(br.name, func(t *testing.T) {
			d := br.start(t, browsertest.Options{})
			log.reset()
			d.Navigate(t, page)
			top := func(i int) {
				w := fmt.Sprintf(`document.getElementById('w%d')`, i)
				d.Eval(t, "("+w+".scrollIntoView(), true)", nil)
				browsertest.Poll(t, d, w+`.shadowRoot.querySelector('.top li')`, 60*time.Second)
			}
			top(0)
			time.Sleep(time.Second) // time enough for any other widget to (wrongly) start
			var started int
			d.Eval(t, `[...document.querySelectorAll('shufflenet-classifier')].filter((w) => w.shadowRoot.querySelector('.classifier')).length`, &started)
			if started != 1 {
				t.Errorf("%d widgets started with only the first in view, want 1", started)
			}
			for i := range 20 {
				top(i)
			}
			requests, bytes := log.total()
			t.Logf("%s, twenty widgets: the asset server answered %d requests, %d bytes", d.Name(), requests, bytes)
			var workers int
			if d.Eval(t, `window.workersStarted`, &workers); workers != 1 {
				t.Errorf("%d workers started, want 1", workers)
			}
			log.mu.Lock()
			defer log.mu.Unlock()
			var engines, kernels, workerScripts, lists, weights int
			for path, n := range log.paths {
				switch {
				case strings.Contains(path, "shufflenet") && strings.HasSuffix(path, ".wasm"):
					engines += n
				case strings.Contains(path, "simd128") && strings.HasSuffix(path, ".wasm"):
					kernels += n
				case strings.HasPrefix(path, "/worker"):
					workerScripts += n
				case path == "/models.json":
					lists += n
				case strings.HasPrefix(path, "/weights/"):
					weights += n
				}
			}
			if engines != 1 || kernels != 1 || workerScripts != 1 || lists != 1 || weights != 1 {
				t.Errorf("fetched the engine %d times, its kernels %d, the worker %d, the model list %d, the weights %d; want each once (requests: %v)",
					engines, kernels, workerScripts, lists, weights, log.paths)
			}
		})
	}
}

// A widget takes a theme and its words from attributes (the example's
// dark, French one), and fires a result event with its labels.
func TestWidgetThemeTextsAndResultEvent(t *testing.T) {
	main := startSite(t)
	docs := docsSite(t, main)
	b := browsertest.New(t)
	b.Run(t, 60*time.Second,
		chromedp.Navigate(docs+"docs.html"),
		chromedp.Evaluate[chromedp.Void](`window.results = []; document.addEventListener('result', (e) => window.results.push(e.detail))`),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('dark').scrollIntoView()`),
		chromedp.Poll[chromedp.Void](widgetQuery("dark", ".file:not([disabled])"), chromedp.WithPollingTimeout(50*time.Second)),
	)
	got := browsertest.Eval[map[string]string](t, b, 5*time.Second, `({
		drop: `+widgetQuery("dark", ".drop")+`.textContent,
		status: `+widgetQuery("dark", ".status")+`.textContent,
		theme: `+widgetQuery("dark", ".classifier")+`.className,
		ink: getComputedStyle(`+widgetQuery("dark", ".classifier")+`).color,
	})`)
	if !strings.Contains(got["drop"], "Déposez une image ici ou choisissez un fichier") || !strings.HasPrefix(got["status"], "Prêt : megvii-g3-0.5x tourne") {
		t.Errorf("the French widget says %q and %q", got["drop"], got["status"])
	}
	if !strings.Contains(got["theme"], "dark") || got["ink"] != "rgb(232, 234, 240)" {
		t.Errorf("the dark widget has classes %q and ink %s", got["theme"], got["ink"])
	}
	// The motorcycle's widget, below the fold, starts after the listener.
	b.Run(t, 30*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.getElementById('motorcycle').scrollIntoView()`),
		chromedp.Poll[chromedp.Void](`window.results.some((r) => r.src.endsWith('motorcycle_left.png'))`, chromedp.WithPollingTimeout(25*time.Second)),
	)
	result := browsertest.Eval[map[string]any](t, b, 5*time.Second, `window.results.find((r) => r.src.endsWith('motorcycle_left.png'))`)
	if top, ok := result["top"].([]any); !ok || len(top) != 5 {
		t.Errorf("the result event's detail %v", result)
	}
}
