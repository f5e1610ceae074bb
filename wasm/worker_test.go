//go:build js && wasm

package main

import (
	"strings"
	"syscall/js"
	"testing"
)

// A panic in an exported function answers an error and leaves the
// program running.
func TestGuardedAnswersPanicsAsErrors(t *testing.T) {
	f := guarded(func(js.Value, []js.Value) any { panic("boom") })
	defer f.Release()
	for range 2 { // the program is still there to answer the second call
		got := f.Invoke()
		if msg := got.Get("error"); msg.Type() != js.TypeString || !strings.Contains(msg.String(), "internal error: boom") {
			t.Fatalf("answer %v, want an error mentioning the panic", got)
		}
	}
	ok := guarded(func(js.Value, []js.Value) any { return "fine" })
	defer ok.Release()
	if got := ok.Invoke().String(); got != "fine" {
		t.Fatalf("answer %q, want fine", got)
	}
}
