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
	OK         bool    `json:"ok"`
	Error      string  `json:"error"`
	Median     float64 `json:"median_ms"`
	First      float64 `json:"firstRunMs"`
	EngineInfo struct {
		Kernels         string    `json:"kernels"`
		WasmMemoryBytes float64   `json:"wasmMemoryBytes"`
		WarmupMs        []float64 `json:"warmupMs"` // the passes on a blank input while it loads
	} `json:"engineInfo"`
	Load struct {
		PageToReady float64 `json:"pageToReadyMs"`
	} `json:"load"`
	Check struct {
		OK          bool    `json:"ok"`
		MaxAbsDiff  float64 `json:"maxAbsDiff"`
		Top5Matches bool    `json:"top5Match"`
	} `json:"check"`
}

// streamResult is what web/bench/stream.mjs measures: frames/s through a
// pool of engine workers.
type streamResult struct {
	FramesPerSecond float64 `json:"framesPerSecond"`
	MedianRunMs     float64 `json:"medianRunMs"` // one worker's forward pass
	MaxAbsDiff      float64 `json:"maxAbsDiff"`
	OK              bool    `json:"ok"`
}

// peerRow is one browser and model: ONNX Runtime Web at 1 and 2 threads,
// this engine in the page's main thread, and this engine's stream through
// 1 and 2 workers.
type peerRow struct {
	ort1, ort2, goMain peerResult
	stream             [2]streamResult
}

// BenchmarkPeerBrowsers times this engine and ONNX Runtime Web in each
// browser on the peer benchmark's own page (../shared/bench/web, served by
// its server.js, cross-origin isolated), each (browser, model, engine,
// threads) in a fresh browser: the peer benchmark itself drives only
// Chromium. ONNX Runtime runs with 1 and 2 threads, this engine on one;
// after its latency run, the same page measures frames/s of a stream
// through 1 and 2 engine workers (web/bench/stream.mjs), beside ONNX
// Runtime's at its best thread count (1000 / its best median). It needs
// what make bench-peer prepares: the bench's node_modules in $BENCH_WORK
// and the engine with the bench models converted in build/bench-peer
// (make bench-peer runs it after the bench). Knobs: MODELS, RUNS (default
// 50), BROWSERS (default chromium,firefox,webkit). Run with -benchtime 1x
// -v: it logs the table and writes it to artifacts/peer-browsers.md.
func BenchmarkPeerBrowsers(b *testing.B) {
	bench := shared.Path(b, "bench")
	work := cmp.Or(os.Getenv("BENCH_WORK"), "/tmp/shufflenet-bench")
	root, err := filepath.Abs("../build/bench-peer")
	if err != nil {
		b.Fatal(err)
	}
	for _, need := range []string{filepath.Join(work, "node_modules", "onnxruntime-web"), filepath.Join(root, "shufflenet-go.mjs"), filepath.Join(root, "stream.mjs")} {
		if _, err := os.Stat(need); err != nil {
			b.Skipf("skipping: %s is missing (make bench-peer prepares it)", need)
		}
	}
	models := strings.Split(cmp.Or(os.Getenv("MODELS"), "megvii_g3_0.5x,megvii_g3_1.0x,seed_g3_1x,seed_g8_1x"), ",")
	wanted := strings.Split(cmp.Or(os.Getenv("BROWSERS"), "chromium,firefox,webkit"), ",")
	runs := cmp.Or(os.Getenv("RUNS"), "50")

	base := startHTTPCommand(b, func(port string) *exec.Cmd {
		server := exec.Command("node", filepath.Join(bench, "server.js"), port)
		server.Env = append(os.Environ(), "BENCH_WORK="+work, "ENGINE_ROOT="+root)
		return server
	})

	var t strings.Builder
	fmt.Fprintf(&t, "median ms of %s runs; Go/ORT is this engine's median over ONNX Runtime Web's at 1 thread; first run: this engine's first run over its median; "+
		"load: page start to engine ready, ms (this engine's includes its 0.5 s warm-up); stream: frames/s, ORT at its best thread count beside this engine with 1 and 2 workers; "+
		"memory: this engine's wasm memory; FAILED: a page that failed twice\n", runs)
	for _, br := range browsers {
		if !slices.Contains(wanted, br.name) {
			continue
		}
		b.Run(br.name, func(b *testing.B) {
			rows := map[string]*peerRow{}
			var name string
			for b.Loop() {
				for _, model := range models {
					row := &peerRow{}
					rows[model] = row
					// page runs the bench's page in a fresh browser; a page
					// that fails gets one more try in another, because
					// ONNX Runtime Web sometimes fails to start in WebKitGTK.
					page := func(engine string, threads int, r *peerResult) browsertest.Driver {
						url := fmt.Sprintf("%s/bench.html?engine=%s&model=%s&threads=%d&runs=%s&minWarmupMs=2000", base, engine, model, threads, runs)
						if engine != "ort-wasm" {
							url += "&module=/engine/" + engine + ".mjs"
						}
						var d browsertest.Driver
						for try := range 2 {
							d = br.start(b, browsertest.Options{})
							name = d.Name()
							d.Navigate(b, url)
							*r = peerResult{}
							d.Eval(b, `window.__benchDone`, r)
							if r.OK || try > 0 {
								break
							}
							b.Logf("%s, %s %d threads, %s failed, once more: %s", d.Name(), engine, threads, model, r.Error)
						}
						if !r.OK || !r.Check.OK {
							b.Errorf("%s, %s %d threads, %s: %s (logits check ok=%v, max |diff| %.3g)", d.Name(), engine, threads, model, r.Error, r.Check.OK, r.Check.MaxAbsDiff)
						}
						return d
					}
					page("ort-wasm", 1, &row.ort1)
					page("ort-wasm", 2, &row.ort2)
					d := page("shufflenet-go", 1, &row.goMain)
					warmup := row.goMain.EngineInfo.WarmupMs
					b.Logf("%s, %s, %s kernels: %d warm-up passes, %.1f ms then %.1f ms; first run %.1f ms, median %.2f ms", d.Name(), model,
						row.goMain.EngineInfo.Kernels, len(warmup), warmup[0], warmup[len(warmup)-1], row.goMain.First, row.goMain.Median)
					for i := range row.stream {
						s := &row.stream[i]
						d.Eval(b, fmt.Sprintf(`import('/engine/stream.mjs').then((m) => m.measure({ model: %q, workers: %d }))`, model, i+1), s)
						b.Logf("%s, %s, %d workers: %.0f frames/s, median forward pass %.2f ms in a worker", d.Name(), model, i+1, s.FramesPerSecond, s.MedianRunMs)
						if !s.OK {
							b.Errorf("%s, %s, stream of %d workers: logits off by %.3g", d.Name(), model, i+1, s.MaxAbsDiff)
						}
					}
				}
			}
			fmt.Fprintf(&t, "\n%s\n\n| model | ORT 1T | ORT 2T | Go | Go/ORT | first run | load ORT 1T | load Go | stream ORT best | Go 1 worker | Go 2 workers | memory |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n", name)
			for _, model := range models {
				r := rows[model]
				if !r.ort1.OK || !r.ort2.OK || !r.goMain.OK {
					fmt.Fprintf(&t, "| %s | FAILED |\n", model)
					continue
				}
				ortBest := 1000 / min(r.ort1.Median, r.ort2.Median)
				fmt.Fprintf(&t, "| %s | %.2f | %.2f | %.2f | %.2fx | %.1fx | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f MB |\n",
					model, r.ort1.Median, r.ort2.Median, r.goMain.Median, r.goMain.Median/r.ort1.Median, r.goMain.First/r.goMain.Median,
					r.ort1.Load.PageToReady, r.goMain.Load.PageToReady, ortBest, r.stream[0].FramesPerSecond, r.stream[1].FramesPerSecond,
					r.goMain.EngineInfo.WasmMemoryBytes/1e6)
			}
		})
	}
	b.Logf("\n%s", t.String())
	os.WriteFile(filepath.Join(browsertest.ArtifactDir(b), "peer-browsers.md"), []byte(t.String()), 0o644)
}
