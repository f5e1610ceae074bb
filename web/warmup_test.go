package web_test

import (
	"testing"
	"time"

	"github.com/shufflenet-go/shufflenet/internal/browsertest"
)

// loadInNewPool starts a pool of one worker as the page does (web/static/
// engine.js), loads the default model into it and answers the load's
// answer.
const loadInNewPool = `(async () => {
	const { Pool, compileEngine, compileKernels, fetchBytes } = await import('/engine.js');
	const at = (path) => new URL(path, location.href).href;
	const list = await (await fetch('/models.json')).json();
	const model = list.models.find((m) => m.default);
	const pool = new Pool('/worker.js', 1, [at('/gen/wasm_exec.js'), at('/simd128.js')]);
	const [module, kernels] = await Promise.all([
		compileEngine(at(list.engine.url)),
		compileKernels({ plain: '/gen/simd128.wasm', fused: '/gen/simd128-fused.wasm' }),
	]);
	pool.init(module, kernels);
	return pool.load(model.name, await fetchBytes(at(model.url), model.bytes), model.sha256);
})()`

// A worker answers a load only once it has warmed up (warmUp in
// web/static/worker.js): the answer lists the warm-up's passes, each a
// classification of a blank picture, 2 to 8 of them (at least the first,
// which compiles the code, and one more, unless 8 ran first).
func TestWorkerWarmsUpBeforeAnsweringLoad(t *testing.T) {
	url := startSite(t)
	b := browsertest.New(t)
	openDemo(t, b, url) // for the site's origin; its own pool is not used
	loaded := browsertest.Eval[struct {
		Name     string    `json:"name"`
		WarmupMs []float64 `json:"warmupMs"`
	}](t, b, 60*time.Second, loadInNewPool)
	if loaded.Name == "" {
		t.Fatalf("the load answered no model: %+v", loaded)
	}
	if n := len(loaded.WarmupMs); n < 2 || n > 8 {
		t.Errorf("%d warm-up passes %v, want 2 to 8", n, loaded.WarmupMs)
	}
	for i, ms := range loaded.WarmupMs {
		if !(ms > 0) {
			t.Errorf("warm-up pass %d took %v ms, want a classification's time", i, ms)
		}
	}
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
