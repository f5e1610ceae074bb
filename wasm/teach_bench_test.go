//go:build js && wasm

package main

import (
	"fmt"
	"strings"
	"syscall/js"
	"testing"

	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// BenchmarkTeach times the Teach mode's work in the worker's code under
// Node's V8 (the engine Chromium runs), with the real Megvii g3 0.5x: one
// example's features from a 640x480 picture, and training a head for 10
// classes x 50 examples (features of ten pictures, each varied slightly,
// as webcam frames of one object are).
//
//	PATH=$PWD/internal/wasmexec:$PATH GOOS=js GOARCH=wasm SHUFFLENET_SHARED=../shared \
//	  go test ./wasm -run '^$' -bench Teach
func BenchmarkTeach(b *testing.B) {
	in := &inference{models: map[string]*loadedModel{}}
	if _, msg := call(in.load, "megvii", uint8Array(weightstest.Megvii(b, weights.Int8)), strings.Repeat("ab", 32)); msg != "" {
		b.Fatal(msg)
	}
	picture := func(seed int) js.Value {
		p := make([]byte, 4*640*480)
		for i := range p {
			p[i] = byte((i*seed)>>3 + 25*seed)
		}
		return uint8Array(p)
	}
	b.Run("features-640x480", func(b *testing.B) {
		p := picture(7)
		for b.Loop() {
			if _, msg := call(in.features, "megvii", p, 640, 480); msg != "" {
				b.Fatal(msg)
			}
		}
	})

	const classes, perClass = 10, 50
	var all []float32
	labels := js.Global().Get("Int32Array").New(classes * perClass)
	names := make([]any, classes)
	for c := range classes {
		names[c] = fmt.Sprintf("class %d", c)
		answer, msg := call(in.features, "megvii", picture(c+1), 640, 480)
		if msg != "" {
			b.Fatal(msg)
		}
		f := make([]float32, answer.Get("features").Length())
		copyFloatsToGo(f, answer.Get("features"))
		for e := range perClass {
			for i, v := range f {
				all = append(all, v*(1+0.05*float32((e*31+i*7)%11-5)/5))
			}
			labels.SetIndex(c*perClass+e, c)
		}
	}
	features := float32Array(all)
	b.Run(fmt.Sprintf("train-%dx%d", classes, perClass), func(b *testing.B) {
		for b.Loop() {
			if _, msg := call(in.train, "megvii", names, features, labels); msg != "" {
				b.Fatal(msg)
			}
		}
	})
}
