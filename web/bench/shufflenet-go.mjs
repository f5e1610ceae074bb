// The Go engine as an engine of the peer benchmark (../shared/bench): `make
// bench-peer` copies this module next to the engine's wasm, its SIMD128
// kernels (simd128.wasm), wasm_exec.js, simd128.js and the bench models
// converted to f32 weights files (MODEL.safetensors), and serves that
// folder as /engine/.
//
// The engine runs in the page's main thread, as ONNX Runtime does there
// (proxy off), on one thread: Go's WebAssembly has no threads.
export async function create({ model, threads }) {
  await import('/engine/wasm_exec.js'); // defines globalThis.Go
  await import('/engine/simd128.js'); // defines globalThis.shufflenetSIMD128
  const go = new Go();
  go.argv = ['shufflenet', 'engine']; // the engine role, although this is a page
  go.importObject.simd128 = shufflenetSIMD128(go, await WebAssembly.compileStreaming(fetch('/engine/simd128.wasm')));
  const weights = fetch(`/engine/${model}.safetensors`).then((r) => {
    if (!r.ok) throw new Error(`/engine/${model}.safetensors: HTTP ${r.status} (make bench-peer converts the checkpoints)`);
    return r.arrayBuffer();
  });
  const { instance } = await WebAssembly.instantiateStreaming(fetch('/engine/shufflenet.wasm'), go.importObject);
  go.run(instance); // returns when the program exits; by then it has set globalThis.shufflenet
  const engine = globalThis.shufflenet;
  const loaded = engine.load(model, new Uint8Array(await weights));
  if (loaded.error) throw new Error(loaded.error);
  return {
    info: {
      name: 'shufflenet-go', kernels: loaded.kernels,
      numThreadsRequested: threads, numThreadsEffective: 1,
    },
    run(input) {
      const out = engine.run(model, input);
      if (out.error) throw new Error(out.error);
      return out.logits;
    },
  };
}
