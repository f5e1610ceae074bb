// The Go engine as an engine of the peer benchmark (../shared/bench): `make
// bench-peer` copies this module next to the engine's wasm, its SIMD128
// kernels (simd128.wasm and simd128-fused.wasm, which the page's
// compileKernels picks from), engine.js, wasm_exec.js, simd128.js and the bench models
// converted to f32 weights files (MODEL.safetensors), and serves that
// folder as /engine/.
//
// The engine runs in the page's main thread, as ONNX Runtime does there
// (proxy off), on one thread: Go's WebAssembly has no threads (stream.mjs
// measures a pool of workers instead). info.wasmMemoryBytes is the
// engine's WebAssembly memory after the latest run: a memory never
// shrinks, so that is its peak.
import { compileKernels } from './engine.js';

export async function create({ model, threads }) {
  await import('/engine/wasm_exec.js'); // defines globalThis.Go
  await import('/engine/simd128.js'); // defines globalThis.shufflenetSIMD128
  const go = new Go();
  go.argv = ['shufflenet', 'engine']; // the engine role, although this is a page
  const kernels = await compileKernels({ plain: '/engine/simd128.wasm', fused: '/engine/simd128-fused.wasm' });
  go.importObject.simd128 = shufflenetSIMD128(go, kernels);
  const weights = fetch(`/engine/${model}.safetensors`).then((r) => {
    if (!r.ok) throw new Error(`/engine/${model}.safetensors: HTTP ${r.status} (make bench-peer converts the checkpoints)`);
    return r.arrayBuffer();
  });
  const { instance } = await WebAssembly.instantiateStreaming(fetch('/engine/shufflenet.wasm'), go.importObject);
  go.run(instance); // returns when the program exits; by then it has set globalThis.shufflenet
  const engine = globalThis.shufflenet;
  const loaded = engine.load(model, new Uint8Array(await weights));
  if (loaded.error) throw new Error(loaded.error);
  // As the page's workers do after a load (web/static/worker.js): the
  // load's garbage is collected now, not in the middle of a pass.
  engine.collect();
  const { mem: memory, shufflenet_tensor: tensor, shufflenet_forward: forward } = instance.exports;
  // The tensor exports (wasm/tensor.go): the input goes straight into Go's
  // memory and the logits come straight out, with no js.Value calls.
  const inputLength = 3 * loaded.size * loaded.size;
  const run = (input) => {
    if (input.length !== inputLength) throw new Error(`got ${input.length} input values, want ${inputLength}`);
    const at = tensor(loaded.id); // first: a call into Go may grow the memory, which detaches its buffer
    new Float32Array(memory.buffer, at, inputLength).set(input);
    const out = forward(loaded.id);
    if (!out) throw new Error(`the engine could not run ${model}`);
    return new Float32Array(memory.buffer, out, loaded.classes).slice();
  };
  const blank = new Float32Array(inputLength);
  const warmupMs = warmUp(() => run(blank));
  const info = {
    name: 'shufflenet-go', kernels: loaded.kernels,
    numThreadsRequested: threads, numThreadsEffective: 1,
    wasmMemoryBytes: memory.buffer.byteLength, warmupMs,
  };
  return {
    info,
    run(input) {
      const logits = run(input);
      info.wasmMemoryBytes = memory.buffer.byteLength;
      return logits;
    },
  };
}

// warmUp runs the network on a blank input while the engine loads, as the
// page's workers do after a load (wasm/prime.go): browsers run a
// WebAssembly function on their baseline compiler's code until it has run
// a while, and compile it with their optimizing one in the background
// meanwhile, so a first inference on a cold engine is several times slower
// than the next ones; and when a pass is optimized depends on the browser's
// background compiler, so no pass time says it is done: it runs for half
// a second (on a 2-core machine Chromium needs about that; Firefox less),
// and answers each pass's ms.
function warmUp(pass) {
  const times = [];
  const start = performance.now();
  while (performance.now() - start < 500) {
    const t = performance.now();
    pass();
    times.push(performance.now() - t);
  }
  return times;
}
