//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"
	"time"
)

// prime(name) -> {ms}: classifies a blank picture with a loaded model, as
// the page asks (the top 5 classes and the heat map), and forgets the
// answer. web/static/worker.js runs it a few times after each load, before
// it answers the load, so that the reader's first picture gets the
// optimized code.
//
// Why: Chromium runs a WebAssembly function on its baseline compiler's
// code (Liftoff) until the function has run for a while, then compiles it
// with its optimizing compiler (TurboFan) in the background, and a call
// already running stays on the baseline code; nothing lets a page ask for
// the optimized code sooner (V8's "compilation hints" section is behind a
// flag). So a worker's first classification ran mostly on baseline code,
// several times slower than the next ones. The model's own buffers are
// also in memory after it.
func (in *inference) prime(_ js.Value, args []js.Value) any {
	if len(args) < 1 {
		return failure("prime(name)")
	}
	m, ok := in.models[args[0].String()]
	if !ok {
		return failure(fmt.Sprintf("model %q is not loaded", args[0].String()))
	}
	// Larger than the crop and not square, so it is resized as a photo is.
	w, h := m.arch.InputSize()*3/2, m.arch.InputSize()*2
	picture := js.Global().Get("Uint8ClampedArray").New(4 * w * h)
	start := time.Now()
	res, _ := in.classify(js.Undefined(), []js.Value{js.ValueOf(m.name), picture, js.ValueOf(w), js.ValueOf(h),
		js.ValueOf(5), js.ValueOf(true)}).(js.Value)
	if res.Get("error").Truthy() {
		return res
	}
	return js.ValueOf(map[string]any{"ms": float64(time.Since(start).Microseconds()) / 1000})
}
