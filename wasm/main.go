//go:build js && wasm

// Command wasm is the engine compiled to WebAssembly for the browser. The
// one module plays two roles, so the browser downloads and compiles it once:
// the engine loads weights and classifies pixels or tensors (worker.go),
// inside a Web Worker unless the host asks for it elsewhere; on the page it
// is the classifier's interface (ui.go), which the demo page and every
// widget of a page share (web/static/engine.js starts it).
package main

import (
	"os"
	"syscall/js"
)

func main() {
	if role() == "engine" {
		serveInference()
	} else {
		serveInterface()
	}
	select {} // keep the functions handed to JavaScript alive
}

// role is the one the host names as the program's first argument
// (go.argv = ['shufflenet', 'engine'] runs the engine on a page, as the
// benchmarks do), or else the engine in a worker and the interface on a
// page, which has a document.
func role() string {
	if len(os.Args) > 1 {
		return os.Args[1]
	}
	if js.Global().Get("document").IsUndefined() {
		return "engine"
	}
	return "ui"
}
