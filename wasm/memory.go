//go:build js && wasm

package main

import (
	"runtime"
	"syscall/js"
	"time"
)

// init exports globalThis.shufflenetCollect() -> Promise<{heap, sys}>, in
// the page and in each worker: a collection of this Go program's garbage,
// after which the JavaScript objects that only collected js.Values held
// are released too (their finalizers run on a goroutine of their own,
// given a moment). heap is Go's live heap, sys what Go took from the
// WebAssembly memory. The memory tests (web/memory_test.go) call it
// before they measure, so that what they see is what is kept, not garbage
// that neither collector has got to yet.
func init() {
	js.Global().Set("shufflenetCollect", js.FuncOf(func(js.Value, []js.Value) any {
		var executor js.Func
		executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
			resolve := args[0]
			go func() {
				runtime.GC()
				time.Sleep(time.Millisecond) // the finalizers run
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				resolve.Invoke(map[string]any{"heap": m.HeapAlloc, "sys": m.Sys})
				executor.Release()
			}()
			return nil
		})
		return js.Global().Get("Promise").New(executor)
	}))
}
