// Command worker is the site's API on Cloudflare Workers: /api/models and
// /api/classify, answered by the handlers of 'shufflenet serve'
// (server.(*Server).API) with the Go engine running inside the worker.
// Workers static assets serve everything else (the page, its engine, the
// weights) from the folder 'shufflenet export' writes; see the README's
// "Run at the edge" and wrangler.toml.
//
// `make worker` builds it for GOOS=js GOARCH=wasm with the tag nosimd128,
// with github.com/syumai/workers between net/http and the Workers runtime:
// the engine runs its portable kernels here, because Workers compile no
// WebAssembly at run time and the browser's SIMD128 kernel module is made
// for that (see engine/simd128_wasm.go). That
// runtime may start a fresh Go instance for each request, which runs main
// again: the weights are embedded (bundle/) so that loading the model is
// decoding them, with no fetch.
//
// Built natively, github.com/syumai/workers serves the same API on port
// 9900 ($PORT) of every interface, to try a worker outside the runtime;
// 'shufflenet serve' is the native server.
package main

import "github.com/syumai/workers"

func main() {
	workers.Serve(handler(embedded))
}
