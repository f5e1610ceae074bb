package weights_test

import (
	"testing"

	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// BenchmarkDecode measures reading the default model's int8 weights file,
// its JSON header and architecture included: what a page's worker does
// before it can build the network. Under GOOS=js it runs in Node's V8:
//
//	PATH="$PWD/internal/wasmexec:$PATH" GOOS=js GOARCH=wasm go test -run '^$' -bench Decode ./weights
func BenchmarkDecode(b *testing.B) {
	file := weightstest.Megvii(b, weights.Int8)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := weights.Decode(file); err != nil {
			b.Fatal(err)
		}
	}
}
