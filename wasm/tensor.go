//go:build js && wasm

package main

import (
	"fmt"
	"os"
	"unsafe"
)

// The tensor exports let a host that already has tensors in the model's
// input convention (a benchmark, a program of its own) run a loaded model
// without syscall/js: it writes the tensor into Go's memory where
// shufflenet_tensor says, calls shufflenet_forward, and reads the logits
// where that answers. run(name, input) does the same through js.Value
// calls, which in Chromium cost about 0.2 ms a call on top of the forward
// pass (2.2 ms for Megvii g3 0.5x): the values made and finalized, a
// Uint8Array over the input, and the round trip through Go's scheduler
// that every js.Func call takes. A wasmexport call is a plain call.
//
// The id is the one load answers; a model loaded again under its name
// keeps its id but has new buffers, so a host asks for the input's
// address again after a load. The addresses are byte offsets in the
// instance's memory; a call into Go may grow the memory, which detaches
// every view of it, so a host makes its views after the call. Both exports answer 0 for an id that
// names no model, and shufflenet_forward also for a pass that fails (a
// panic included: as with the js.Func exports, it must not end the
// program).
//
//	const at = exports.shufflenet_tensor(id);
//	new Float32Array(exports.mem.buffer, at, 3 * size * size).set(input);
//	const out = exports.shufflenet_forward(id);
//	const logits = new Float32Array(exports.mem.buffer, out, classes).slice();

// tensorModels is the program's inference, which the exports reach: an
// exported function can only be a top-level one (serveInference sets it;
// in the interface's role it stays nil and the exports answer 0).
var tensorModels *inference

// modelByID is the loaded model with id, or nil.
func modelByID(id int32) *loadedModel {
	if tensorModels == nil || id < 0 || int(id) >= len(tensorModels.byID) {
		return nil
	}
	return tensorModels.byID[id]
}

// exportedTensor answers the address of model id's input tensor
// (3 x size x size float32, planar).
//
//go:wasmexport shufflenet_tensor
func exportedTensor(id int32) unsafe.Pointer {
	m := modelByID(id)
	if m == nil {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(m.input))
}

// exportedForward runs model id on its input tensor and answers the
// address of its logits (classes float32), which the next pass overwrites.
//
//go:wasmexport shufflenet_forward
func exportedForward(id int32) (logitsAt unsafe.Pointer) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(os.Stderr, "shufflenet_forward: internal error:", r) // the console's
			logitsAt = nil
		}
	}()
	m := modelByID(id)
	if m == nil {
		return nil
	}
	logits, err := m.net.Forward(m.input)
	if err != nil {
		fmt.Fprintln(os.Stderr, "shufflenet_forward:", err)
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(logits))
}
