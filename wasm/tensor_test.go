//go:build js && wasm

package main

import (
	"testing"
	"unsafe"

	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// The tensor exports, as a host calls them: PyTorch's input tensor
// written where shufflenet_tensor says runs to PyTorch's logits; ids are
// load's, a reloaded model keeps its id, and an unknown id answers 0.
func TestTensorExports(t *testing.T) {
	in := &inference{models: map[string]*loadedModel{}}
	tensorModels = in
	defer func() { tensorModels = nil }()
	file := uint8Array(weightstest.Megvii(t, weights.Float32))
	ids := map[string]int{}
	for _, name := range []string{"megvii", "other", "megvii"} {
		desc, err := call(in.load, name, file)
		if err != "" {
			t.Fatal(err)
		}
		id := desc.Get("id").Int()
		if prev, ok := ids[name]; ok && prev != id {
			t.Errorf("%s reloaded with id %d, had %d", name, id, prev)
		}
		ids[name] = id
	}
	if ids["megvii"] == ids["other"] {
		t.Fatalf("two models with id %d", ids["megvii"])
	}

	id := int32(ids["megvii"])
	input := shared.NPY(t, "testdata/pipeline/megvii_g3_0.5x_chelsea_input.npy")
	copy(unsafe.Slice((*float32)(exportedTensor(id)), len(input)), input)
	out := exportedForward(id)
	if out == nil {
		t.Fatal("shufflenet_forward answered 0")
	}
	want := shared.NPY(t, "testdata/pipeline/megvii_g3_0.5x_chelsea_logits.npy")
	matchPyTorch(t, "shufflenet_forward", unsafe.Slice((*float32)(out), len(want)), want)

	for _, bad := range []int32{-1, int32(len(ids)), 1 << 30} {
		if exportedTensor(bad) != nil || exportedForward(bad) != nil {
			t.Errorf("id %d: an address, want 0", bad)
		}
	}
}
