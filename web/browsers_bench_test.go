package web_test

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
)

// firstResultWatcher, run right after the page's load event, hands over
// the cat photo by a drop the moment the classifier is ready (its file
// input enabled, the model loaded in the workers), and notes that moment
// and the first result's, in ms since navigation start; then it has the
// photo classified again runs times, one after another, and keeps each
// forward pass's time (the worker's, crop and transfers left out).
const firstResultWatcher = `(() => {
	const times = window.firstResult = { forwardMs: [] };
	const picture = fetch(%q).then((r) => r.blob());
	const drop = async () => {
		const dt = new DataTransfer();
		dt.items.add(new File([await picture], 'chelsea.png', { type: 'image/png' }));
		document.querySelector('.classifier .drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
	};
	document.addEventListener('classified', (e) => {
		if (times.result === undefined) times.result = performance.now();
		else times.forwardMs.push(e.detail.ms);
		if (times.forwardMs.length < %d) drop(); else times.done = true;
	});
	const ready = () => document.querySelector('.classifier .file:not([disabled])');
	if (ready()) { times.lateMs = performance.now(); times.ready = times.lateMs; drop(); return true; }
	new MutationObserver((_, observer) => {
		if (!ready()) return;
		observer.disconnect();
		times.ready = performance.now();
		drop();
	}).observe(document, { subtree: true, childList: true, attributes: true });
	return true;
})()`

// BenchmarkPageInBrowsers measures the page in each browser, with a fresh
// profile (no cache) on 127.0.0.1: when it is ready (the model loaded),
// when its first prediction shows (the photo dropped the moment it is
// ready), and the median forward pass of 30 more classifications of it
// (the page's default model, megvii g3 0.5x, int8). Run with -benchtime 1x.
func BenchmarkPageInBrowsers(b *testing.B) {
	site := startSite(b)
	for _, br := range browsers {
		b.Run(br.name, func(b *testing.B) {
			var ready, first, steady float64
			for b.Loop() {
				d := br.start(b, browsertest.Options{})
				d.Navigate(b, site)
				d.Eval(b, fmt.Sprintf(firstResultWatcher, site+"examples/images/chelsea.png", 30), nil)
				browsertest.Poll(b, d, `window.firstResult.done`, 120*time.Second)
				var times struct {
					Ready, Result, LateMs float64
					ForwardMs             []float64
				}
				d.Eval(b, `window.firstResult`, &times)
				if times.LateMs > 0 {
					b.Logf("%s was ready before the watcher ran (%.0f ms): its ready time is late", d.Name(), times.LateMs)
				}
				slices.Sort(times.ForwardMs)
				ready, first, steady = times.Ready, times.Result, times.ForwardMs[len(times.ForwardMs)/2]
				b.Logf("%s: ready %.0f ms, first prediction %.0f ms, steady forward pass %.1f ms", d.Name(), ready, first, steady)
			}
			b.ReportMetric(ready, "ms-ready")
			b.ReportMetric(first, "ms-first-prediction")
			b.ReportMetric(steady, "ms-steady")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// peerResult is what the peer benchmark's page (../shared/bench/web)
// answers for one engine, model and thread count.
type peerResult struct {
	OK     bool    `json:"ok"`
	Error  string  `json:"error"`
	Median float64 `json:"median_ms"`
	First  float64 `json:"firstRunMs"`
	Load   struct {
		PageToReady float64 `json:"pageToReadyMs"`
	} `json:"load"`
	Check struct {
		OK          bool    `json:"ok"`
		MaxAbsDiff  float64 `json:"maxAbsDiff"`
		Top5Matches bool    `json:"top5Match"`
	} `json:"check"`
}

// BenchmarkPeerBrowsers times this engine and ONNX Runtime Web in each
// browser on the peer benchmark's own page (../shared/bench/web, served by
// its server.js, cross-origin isolated), one thread, each (browser, model,
// engine) in a fresh browser: the peer benchmark itself drives only
// Chromium. It needs what make bench-peer prepares: the bench's
// node_modules in $BENCH_WORK and the engine with the bench models
// converted in build/bench-peer (make bench-peer runs it after the
// bench). Knobs: MODELS, RUNS (default 50), ENGINES (default
// ort-wasm,shufflenet-go). Run with -benchtime 1x -v: it logs the table.
func BenchmarkPeerBrowsers(b *testing.B) {
	bench := shared.Path(b, "bench")
	work := cmp.Or(os.Getenv("BENCH_WORK"), "/tmp/shufflenet-bench")
	root, err := filepath.Abs("../build/bench-peer")
	if err != nil {
		b.Fatal(err)
	}
	for _, need := range []string{filepath.Join(work, "node_modules", "onnxruntime-web"), filepath.Join(root, "shufflenet-go.mjs")} {
		if _, err := os.Stat(need); err != nil {
			b.Skipf("skipping: %s is missing (make bench-peer prepares it)", need)
		}
	}
	models := strings.Split(cmp.Or(os.Getenv("MODELS"), "megvii_g3_0.5x,megvii_g3_1.0x,seed_g3_1x,seed_g8_1x"), ",")
	engines := strings.Split(cmp.Or(os.Getenv("ENGINES"), "ort-wasm,shufflenet-go"), ",")
	runs := cmp.Or(os.Getenv("RUNS"), "50")

	base := startHTTPCommand(b, func(port string) *exec.Cmd {
		server := exec.Command("node", filepath.Join(bench, "server.js"), port)
		server.Env = append(os.Environ(), "BENCH_WORK="+work, "ENGINE_ROOT="+root)
		return server
	})

	results := map[string]peerResult{} // browser/engine/model
	var names []string
	for _, br := range browsers {
		b.Run(br.name, func(b *testing.B) {
			for b.Loop() {
				for _, model := range models {
					for _, engine := range engines {
						d := br.start(b, browsertest.Options{})
						if !slices.Contains(names, d.Name()) {
							names = append(names, d.Name())
						}
						url := fmt.Sprintf("%s/bench.html?engine=%s&model=%s&threads=1&runs=%s&minWarmupMs=2000", base, engine, model, runs)
						if engine != "ort-wasm" {
							url += "&module=/engine/" + engine + ".mjs"
						}
						d.Navigate(b, url)
						var r peerResult
						d.Eval(b, `window.__benchDone`, &r)
						if !r.OK || !r.Check.OK {
							b.Errorf("%s, %s, %s: %s (logits check ok=%v, max |diff| %.3g)", d.Name(), engine, model, r.Error, r.Check.OK, r.Check.MaxAbsDiff)
						}
						results[d.Name()+"/"+engine+"/"+model] = r
					}
				}
			}
		})
	}

	// The table: median ms per model, engine and browser; then the first
	// load (page start to engine ready) and the first run.
	var t strings.Builder
	fmt.Fprintf(&t, "median ms of %s runs, 1 thread (first load ms; first run ms)\n| model |", runs)
	for _, name := range names {
		for _, engine := range engines {
			fmt.Fprintf(&t, " %s %s |", name, engine)
		}
	}
	fmt.Fprintf(&t, "\n|---|%s\n", strings.Repeat("---|", len(names)*len(engines)))
	for _, model := range models {
		fmt.Fprintf(&t, "| %s |", model)
		for _, name := range names {
			for _, engine := range engines {
				r, ok := results[name+"/"+engine+"/"+model]
				if !ok || !r.OK {
					t.WriteString(" FAILED |")
					continue
				}
				mark := ""
				if !r.Check.OK {
					mark = " (logits wrong)"
				}
				fmt.Fprintf(&t, " %.2f (%.0f; %.1f)%s |", r.Median, r.Load.PageToReady, r.First, mark)
			}
		}
		t.WriteString("\n")
	}
	b.Logf("\n%s", t.String())
	os.WriteFile(filepath.Join(browsertest.ArtifactDir(b), "peer-browsers.md"), []byte(t.String()), 0o644)
}
