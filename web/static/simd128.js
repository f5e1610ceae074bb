// The link between the Go engine (compiled to WebAssembly) and its SIMD128
// kernels, for every place that starts the engine: the page, the workers,
// the benchmarks and the Node test runner. Load it next to wasm_exec.js
// (a classic script, an ES module import or a require all work), then,
// before instantiating the engine:
//
//   const go = new Go();
//   go.importObject.simd128 = shufflenetSIMD128(go, kernels);
//
// kernels is the compiled kernel module (/gen/simd128-fused.wasm where the
// browser has relaxed SIMD, else /gen/simd128.wasm: Go code writes both,
// internal/simd128; see compileKernels in engine.js), or null where it
// could not be compiled (a browser without SIMD128). Go's wasm backend emits no vector
// instructions, so the engine's layers call these kernels instead, once per
// layer, through the trampolines below. The engine asks for them with
// simd128.instantiate, which instantiates the kernels with Go's own memory
// as their memory: they then work on Go's buffers in place. Without them
// the engine runs its plain Go kernels, with the plain build's results.
//
// The kernels share Go's memory, and a memory that grows detaches every
// view of it: so nothing here keeps a view across calls.
'use strict';

globalThis.shufflenetSIMD128 = (go, kernels) => {
  let exports = null;
  const linker = {
    // instantiate() -> which build of the kernels runs here: 2 the fused
    // one (marked with a custom section), 1 the plain one, 0 none
    // (internal/simd128/abi: Fused, Plain, Unavailable).
    instantiate() {
      if (!kernels) return 0;
      try {
        const memory = go._inst.exports.mem; // wasm_exec.js keeps the running instance there
        exports = new WebAssembly.Instance(kernels, { go: { mem: memory } }).exports;
        return WebAssembly.Module.customSections(kernels, 'shufflenet.fused').length > 0 ? 2 : 1;
      } catch (e) {
        console.warn(`SIMD128 kernels unavailable, using plain Go kernels: ${e.message}`);
        return 0;
      }
    },
  };
  // Any other name is a kernel; Go calls one only after instantiate said 1.
  return new Proxy(linker, {
    get: (target, name) => target[name] ?? ((...args) => exports[name](...args)),
  });
};
