package server

import (
	"testing"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// int8Weights is the real Megvii g3 0.5x as `make weights` ships it (int8).
func int8Weights(b *testing.B) map[string][]byte {
	return map[string][]byte{weightstest.MegviiFile: weightstest.Megvii(b, weights.Int8)}
}

// BenchmarkLoad measures what a fresh instance of the Cloudflare Worker
// spends on the model before it can answer (NewAPI), and its parts:
// decoding the weights file, building the network, hashing the file for
// its URL and checksum. Run it natively, or in V8 as the worker does:
//
//	GOOS=js GOARCH=wasm PATH="$(go env GOROOT)/lib/wasm:$PWD/server/edge/node_modules/.bin:$PATH" \
//	    go test -run '^$' -bench Load ./server
func BenchmarkLoad(b *testing.B) {
	files := int8Weights(b)
	data := files[weightstest.MegviiFile]
	b.Run("NewAPI", func(b *testing.B) {
		for b.Loop() {
			if _, err := NewAPI(Config{Weights: files}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := weights.Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	m, err := weights.Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Network", func(b *testing.B) {
		var net *engine.Network
		for b.Loop() {
			if net, err = m.Network(); err != nil {
				b.Fatal(err)
			}
		}
		_ = net
	})
	b.Run("SHA256", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			digest(data)
		}
	})
}
