package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/shufflenet-go/shufflenet/internal/browsertest"
)

// memoryProbe, run in the page before its scripts, lets the test read the
// WebAssembly memories of the page and of its inference workers without
// the page knowing: it keeps every memory an instantiated module exports
// (the Go engine's; Go's memory only grows, so its size is its peak), and
// starts each worker behind a script that does the same in the worker and
// answers a {memoryProbe} message (which the worker's own handler never
// sees) with the sizes, after a garbage collection (Go's, whose
// finalizers release the JavaScript objects Go held, then V8's: gc() with
// --expose-gc). memoryUse() answers {frames, wasm: [page's, workers'...]
// bytes, goHeap: the same instances' live Go heaps, heap: the page's live
// JS heap, peakHeap: the largest JS heap, garbage and all, seen so far}.
const memoryProbe = `(() => {
	const keepMemories = () => {
		self.wasmMemories = new Set();
		const keep = (r) => {
			const instance = r instanceof WebAssembly.Instance ? r : r.instance;
			for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory) self.wasmMemories.add(v);
			return r;
		};
		for (const name of ['instantiate', 'instantiateStreaming']) {
			const f = WebAssembly[name];
			if (f) WebAssembly[name] = function (...args) { return f.apply(this, args).then(keep); };
		}
	};
	const wasmBytes = () => [...self.wasmMemories].reduce((n, m) => n + m.buffer.byteLength, 0);
	keepMemories();
	const Native = Worker, workers = [];
	globalThis.Worker = class extends Native {
		constructor(url, options) {
			const source = '(' + keepMemories + ')();\n' +
				'const wasmBytes = ' + wasmBytes + ';\n' +
				'self.addEventListener("message", (e) => {\n' +
				'  if (!e.data || !e.data.memoryProbe) return;\n' +
				'  e.stopImmediatePropagation();\n' +
				'  (self.shufflenetCollect?.() ?? Promise.resolve({})).then((go) => {\n' +
				'    self.gc?.();\n' +
				'    self.postMessage({ memoryProbe: e.data.memoryProbe, wasm: wasmBytes(), goHeap: go.heap ?? 0 });\n' +
				'  });\n' +
				'});\n' +
				'importScripts(' + JSON.stringify(new URL(url, location.href).href) + ');\n';
			super(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), options);
			workers.push(this);
		}
	};
	// The page's JS heap as it goes, garbage and all.
	let peakHeap = 0;
	setInterval(() => { peakHeap = Math.max(peakHeap, performance.memory.usedJSHeapSize); }, 50);
	let asked = 0;
	const ask = (w) => new Promise((resolve) => {
		const id = ++asked;
		const on = (e) => {
			if (e.data?.memoryProbe !== id) return;
			w.removeEventListener('message', on);
			resolve(e.data);
		};
		w.addEventListener('message', on);
		w.postMessage({ memoryProbe: id });
	});
	globalThis.memoryUse = async () => {
		const inWorkers = await Promise.all(workers.map(ask));
		const go = await globalThis.shufflenetCollect?.() ?? {};
		globalThis.gc?.();
		return { frames: globalThis.shufflenetFrames ?? 0, heap: performance.memory.usedJSHeapSize, peakHeap,
			wasm: [wasmBytes(), ...inWorkers.map((w) => w.wasm)], goHeap: [go.heap ?? 0, ...inWorkers.map((w) => w.goHeap)] };
	};
})()`

type memoryUse struct {
	Frames   int     `json:"frames"`
	Wasm     []int64 `json:"wasm"`
	GoHeap   []int64 `json:"goHeap"`
	Heap     int64   `json:"heap"`
	PeakHeap int64   `json:"peakHeap"`
}

// The webcam memory check's sizes: the frames before the first
// measurement, the frames wanted in all (and the time they may take, with
// the fewest that still make a check), and the growth allowed in between.
//
// By webcamWarmup frames every worker has started, loaded the model and
// classified, so the buffers it keeps (the network's, the picture's, the
// crop's, allocated once) exist. After that a frame allocates only its
// answer, so nothing should grow. A leak of the smallest buffer a frame
// makes (the 224x224 RGBA crop, 200 kB) would add 180 MB over 900 frames,
// of a 2 kB object (a result's bars and labels) 1.8 MB.
//   - goHeap, Go's live heap in the page and in each worker after a
//     collection: measured growth under 0.1 MB; goGrowth allows 1 MB.
//   - wasm, each instance's WebAssembly memory, its peak (it only grows):
//     Go's heap grows to its collector's goal, twice what is live
//     (measured: up to +3.2 MB in a worker, +0 on the page), so wasmGrowth
//     allows 8 MB.
//   - heap, the page's live JS heap: measured within ±2 MB (what is kept
//     changes with the frame in flight); heapGrowth allows 4 MB.
const (
	webcamWarmup = 100
	webcamFrames = 1000
	webcamTime   = 35 * time.Second
	webcamFewest = 500
	goGrowth     = 1 << 20
	wasmGrowth   = 8 << 20
	heapGrowth   = 4 << 20
)

// TestWebcamMemory plays the webcam (Chromium's fake camera, 60 frames/s)
// for webcamFrames classified frames, or as many as webcamTime allows, and
// checks that neither the WebAssembly memory of the page and its workers,
// nor their Go heaps, nor the page's JS heap grew between frame
// webcamWarmup and the last (see the bounds above). It logs each figure,
// and the largest JS heap the page had, garbage and all.
func TestWebcamMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 webcam frames")
	}
	url := startSite(t)
	b := browsertest.New(t, append(fakeCamera(catVideo(t, 60)),
		chromedp.Flag("enable-precise-memory-info", true), // performance.memory unrounded
		chromedp.Flag("js-flags", "--expose-gc"))...)
	b.Run(t, 10*time.Second, chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tgt, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: memoryProbe})
		return err
	}))
	openDemo(t, b, url)
	start := time.Now()
	b.Run(t, 30*time.Second,
		chromedp.Click(chromedp.CSS(".camera")),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`(window.shufflenetFrames ?? 0) >= %d`, webcamWarmup), chromedp.WithPollingTimeout(25*time.Second)),
	)
	warm, warmAt := settled(t, b), time.Now()
	// Poll until the frames are there or the time is up, whichever first.
	b.Run(t, webcamTime+10*time.Second, chromedp.Poll[chromedp.Void](
		fmt.Sprintf(`(window.shufflenetFrames ?? 0) >= %d || performance.now() >= %f`,
			webcamFrames, browsertest.Eval[float64](t, b, 5*time.Second, `performance.now()`)+float64(webcamTime.Milliseconds())),
		chromedp.WithPollingTimeout(webcamTime+5*time.Second)))
	end := settled(t, b)
	b.Run(t, 10*time.Second, chromedp.Click(chromedp.CSS(".camera")))
	frames := end.Frames - warm.Frames
	t.Logf("%d frames in %.1f s (%.0f frames/s after the first %d)", end.Frames, time.Since(start).Seconds(),
		float64(frames)/time.Since(warmAt).Seconds(), warm.Frames)
	t.Logf("wasm memory, peak (page, workers...): %v MB at frame %d, %v MB at frame %d",
		megabytes(warm.Wasm), warm.Frames, megabytes(end.Wasm), end.Frames)
	t.Logf("Go heap, live (page, workers...): %v MB at frame %d, %v MB at frame %d",
		megabytes(warm.GoHeap), warm.Frames, megabytes(end.GoHeap), end.Frames)
	t.Logf("page JS heap, live: %.1f MB at frame %d, %.1f MB at frame %d (%+.2f MB); largest seen %.1f MB",
		mib(warm.Heap), warm.Frames, mib(end.Heap), end.Frames, mib(end.Heap-warm.Heap), mib(end.PeakHeap))
	if frames < webcamFewest {
		t.Fatalf("only %d frames classified in %v after the first %d; want %d to judge", frames, webcamTime, warm.Frames, webcamFewest)
	}
	if len(end.Wasm) != len(warm.Wasm) || len(end.Wasm) < 2 || len(end.GoHeap) != len(end.Wasm) || len(warm.GoHeap) != len(warm.Wasm) {
		t.Fatalf("wasm memories %v then %v, Go heaps %v then %v: want the page's and at least one worker's, the same ones",
			warm.Wasm, end.Wasm, warm.GoHeap, end.GoHeap)
	}
	for i := range end.Wasm {
		if end.Wasm[i]-warm.Wasm[i] > wasmGrowth {
			t.Errorf("wasm memory %d (0: the page's) grew from %.1f to %.1f MB over %d frames", i, mib(warm.Wasm[i]), mib(end.Wasm[i]), frames)
		}
		if end.GoHeap[i]-warm.GoHeap[i] > goGrowth {
			t.Errorf("Go heap %d (0: the page's) grew from %.1f to %.1f MB over %d frames", i, mib(warm.GoHeap[i]), mib(end.GoHeap[i]), frames)
		}
	}
	if end.Heap-warm.Heap > heapGrowth {
		t.Errorf("the page's JS heap grew from %.1f to %.1f MB over %d frames", mib(warm.Heap), mib(end.Heap), frames)
	}
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// settled measures three times, a quarter of a second apart, and answers
// the largest memories and the smallest heaps: what is kept, without the
// frames in flight at one moment. (The first measurement after a while
// often finds garbage that Go's finalizers released only as it collected.)
func settled(t *testing.T, b *browsertest.Browser) memoryUse {
	t.Helper()
	u := browsertest.Eval[memoryUse](t, b, 10*time.Second, `memoryUse()`)
	for range 2 {
		time.Sleep(250 * time.Millisecond)
		v := browsertest.Eval[memoryUse](t, b, 10*time.Second, `memoryUse()`)
		u.Frames, u.PeakHeap, u.Heap = v.Frames, v.PeakHeap, min(u.Heap, v.Heap)
		for i := range min(len(u.Wasm), len(v.Wasm), len(u.GoHeap), len(v.GoHeap)) {
			u.Wasm[i], u.GoHeap[i] = max(u.Wasm[i], v.Wasm[i]), min(u.GoHeap[i], v.GoHeap[i])
		}
	}
	return u
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func megabytes(bytes []int64) []string {
	var s []string
	for _, n := range bytes {
		s = append(s, fmt.Sprintf("%.1f", mib(n)))
	}
	return s
}
