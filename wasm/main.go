//go:build js && wasm

// Command wasm is the engine compiled to WebAssembly for the browser. The
// one module plays two roles, so the browser downloads and compiles it once:
// inside a Web Worker it loads weights and classifies pixels (worker.go);
// on the page it is the controller of the demo's interface (page.go), which
// web/static/app.js starts after loading it.
package main

import "syscall/js"

func main() {
	if js.Global().Get("document").IsUndefined() {
		serveInference()
	} else {
		runPage()
	}
	select {} // keep the functions handed to JavaScript alive
}
