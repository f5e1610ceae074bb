//go:build js && wasm

package main

import (
	"testing"

	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/convert"
)

// BenchmarkExplore is what one look inside costs over a plain
// classification, per model, in the worker's code under Node's V8 (the
// engine Chromium runs): classify alone, then with the explorer's pass
// with the shuffle (which replaces the plain pass) and without it (which
// comes on top of it). Each includes the crop of a 640x480 picture.
//
//	PATH=$PWD/internal/wasmexec:$PATH GOOS=js GOARCH=wasm SHUFFLENET_SHARED=../shared \
//	  go test ./wasm -run '^$' -bench Explore
func BenchmarkExplore(b *testing.B) {
	for _, name := range []string{"megvii-shufflenetv1-g3-0.5x.pth.tar", "megvii-shufflenetv1-g8-0.5x.pth.tar"} {
		res, err := convert.Checkpoint(shared.Read(b, "weights/"+name), convert.Options{DType: weights.Int8})
		if err != nil {
			b.Fatal(err)
		}
		in := &inference{models: map[string]*loadedModel{}}
		if _, msg := call(in.load, name, uint8Array(res.File)); msg != "" {
			b.Fatal(msg)
		}
		picture := make([]byte, 4*640*480)
		for i := range picture {
			picture[i] = byte(i * 7)
		}
		pixels := uint8Array(picture)
		for _, c := range []struct {
			name string
			look any
		}{
			{"classify", nil},
			{"explore", map[string]any{"unit": "stage3.unit1", "shuffle": true}},
			{"explore-without-shuffle", map[string]any{"unit": "stage3.unit1", "shuffle": false}},
		} {
			b.Run(name[len("megvii-shufflenetv1-"):len(name)-len(".pth.tar")]+"/"+c.name, func(b *testing.B) {
				for b.Loop() {
					if _, msg := call(in.classify, name, pixels, 640, 480, 5, false, c.look); msg != "" {
						b.Fatal(msg)
					}
				}
			})
		}
	}
}
