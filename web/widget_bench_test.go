package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
)

// requestLog counts what a server sent: requests by path, and the bytes
// written (as sent, so compressed where the server compressed).
type requestLog struct {
	mu    sync.Mutex
	paths map[string]int
	bytes int64
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		if l.paths == nil {
			l.paths = map[string]int{}
		}
		l.paths[r.URL.Path]++
		l.mu.Unlock()
		h.ServeHTTP(&countingWriter{ResponseWriter: w, log: l}, r)
	})
}

// reset forgets the requests so far.
func (l *requestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paths, l.bytes = nil, 0
}

// count is how many requests asked for path.
func (l *requestLog) count(path string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.paths[path]
}

func (l *requestLog) total() (requests int, bytes int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.paths {
		requests += n
	}
	return requests, l.bytes
}

type countingWriter struct {
	http.ResponseWriter
	log *requestLog
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.log.mu.Lock()
	w.log.bytes += int64(n)
	w.log.mu.Unlock()
	return n, err
}

// widgetHost serves a page on its own origin with n widgets of the cat
// photo from the asset server at main, far enough apart that only the
// first is in view (?top=N sets their top attribute, 3 by default), and
// the photo itself (with CORS). The page notes when the first result event
// arrives, in ms since navigation start, and counts the workers started.
func widgetHost(t testing.TB, main string, n int) string {
	t.Helper()
	mux := http.NewServeMux()
	var self string
	mux.HandleFunc("/widgets.html", func(w http.ResponseWriter, r *http.Request) {
		top := r.URL.Query().Get("top")
		if top == "" {
			top = "3"
		}
		var b strings.Builder
		fmt.Fprintf(&b, `<!doctype html><html lang="en"><title>widgets</title><link rel="icon" href="data:,">
<script>
document.addEventListener('result', () => { window.firstLabel ??= performance.now(); });
window.workersStarted = 0; // the tests count the workers the widgets start
window.Worker = class extends window.Worker { constructor(...args) { super(...args); window.workersStarted++; } };
</script>
<script type="module" src="%sembed.js"></script><main>`, main)
		for i := range n {
			fmt.Fprintf(&b, `<section style="min-height: 1500px"><h2>Photo %d</h2><shufflenet-classifier id="w%d" src="%simages/chelsea.png" top="%s"></shufflenet-classifier></section>`, i, i, self, top)
		}
		b.WriteString(`</main></html>`)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, b.String())
	})
	mux.HandleFunc("/images/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		http.ServeFile(w, r, shared.Path(t, "images/"+strings.TrimPrefix(r.URL.Path, "/images/")))
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	self = ts.URL + "/"
	return self + "widgets.html"
}

// rendererMemory is the resident memory, in bytes, of the browser's
// renderer processes: the page's and its workers' (a dedicated worker
// runs in its page's process), wasm memories included.
func rendererMemory(t testing.TB, b *browsertest.Browser) int64 {
	t.Helper()
	browser := chromedp.FromContext(b.Ctx).Browser.Process()
	if browser == nil {
		t.Fatal("no browser process")
	}
	children := map[int][]int{}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces.
		s := string(data)
		pid, _ := strconv.Atoi(strings.Fields(s)[0])
		rest := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		ppid, _ := strconv.Atoi(rest[1])
		children[ppid] = append(children[ppid], pid)
	}
	var total int64
	var walk func(pid int)
	walk = func(pid int) {
		for _, c := range children[pid] {
			walk(c)
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c))
			if !strings.Contains(string(cmd), "--type=renderer") {
				continue
			}
			status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", c))
			for line := range strings.Lines(string(status)) {
				if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
					kb, _ := strconv.ParseInt(f[1], 10, 64)
					total += kb * 1024
				}
			}
		}
	}
	walk(browser.Pid)
	return total
}

// BenchmarkWidget measures what one widget costs a docs page on another
// origin: a fresh browser with an empty profile opens a page whose first
// widget is in view; reported are the time from navigation start to its
// first classified event, the requests and bytes the widget's server sent
// (everything but the host page and its photo), and the renderer
// processes' resident memory once the label is shown. Run with
// -benchtime 1x and a few -count.
func BenchmarkWidget(b *testing.B) {
	var log requestLog
	main := startSiteWith(b, log.wrap)
	page := widgetHost(b, main, 1)
	var label, memory float64
	var requests int
	var bytes int64
	for b.Loop() {
		log = requestLog{}
		br := browsertest.New(b)
		br.Run(b, 60*time.Second, chromedp.Navigate(page),
			chromedp.Poll[chromedp.Void](`window.firstLabel`, chromedp.WithPollingTimeout(50*time.Second)))
		label = browsertest.Eval[float64](b, br, 5*time.Second, `window.firstLabel`)
		time.Sleep(500 * time.Millisecond) // let the post-load collection run
		memory = float64(rendererMemory(b, br))
		requests, bytes = log.total()
		b.Logf("first label %.0f ms, %d requests, %d bytes, renderer RSS %.1f MB", label, requests, bytes, memory/1e6)
	}
	b.ReportMetric(label, "ms-first-label")
	b.ReportMetric(float64(requests), "requests")
	b.ReportMetric(float64(bytes), "bytes-sent")
	b.ReportMetric(memory/1e6, "MB-renderer-RSS")
	b.ReportMetric(0, "ns/op")
}
