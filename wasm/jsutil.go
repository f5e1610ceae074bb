//go:build js && wasm

package main

import (
	"errors"
	"syscall/js"
	"unsafe"
)

// await blocks the calling goroutine (never the browser) until a promise
// settles, and returns its value or its rejection as an error.
func await(promise js.Value) (js.Value, error) {
	type outcome struct {
		value js.Value
		err   error
	}
	done := make(chan outcome, 1)
	var resolve, reject js.Func
	resolve = js.FuncOf(func(_ js.Value, args []js.Value) any {
		done <- outcome{value: arg(args)}
		return nil
	})
	reject = js.FuncOf(func(_ js.Value, args []js.Value) any {
		// "NotAllowedError: Permission denied" for a DOMException, so
		// callers can tell the kinds of failure apart.
		reason := arg(args)
		msg := reason.String()
		if reason.Type() == js.TypeObject && reason.Get("message").Type() == js.TypeString {
			msg = reason.Get("message").String()
			if name := reason.Get("name"); name.Type() == js.TypeString && name.String() != "Error" {
				msg = name.String() + ": " + msg
			}
		}
		done <- outcome{err: errors.New(msg)}
		return nil
	})
	promise.Call("then", resolve, reject)
	o := <-done
	resolve.Release()
	reject.Release()
	return o.value, o.err
}

func arg(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// bytesOf copies a JavaScript Uint8Array (or ArrayBuffer) into Go.
func bytesOf(v js.Value) []byte {
	if v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		v = js.Global().Get("Uint8Array").New(v)
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b
}

// copyFloatsToGo copies a JavaScript Float32Array into dst, which has its
// length.
func copyFloatsToGo(dst []float32, src js.Value) {
	js.CopyBytesToGo(floatBytes(dst), bytesView(src))
}

// copyFloatsToJS copies src into a JavaScript Float32Array of its length.
func copyFloatsToJS(dst js.Value, src []float32) {
	js.CopyBytesToJS(bytesView(dst), floatBytes(src))
}

// floatBytes is the memory of floats as bytes (both sides little-endian).
func floatBytes(floats []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(floats))), 4*len(floats))
}

// bytesView is a Uint8Array over the memory of a typed array.
func bytesView(array js.Value) js.Value {
	return js.Global().Get("Uint8Array").New(array.Get("buffer"), array.Get("byteOffset"), array.Get("byteLength"))
}
