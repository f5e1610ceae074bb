// The link between the Go engine (compiled to WebAssembly) and its SIMD128
// kernels, for every place that starts the engine: the page, the workers,
// the benchmarks and the Node test runner. Load it next to wasm_exec.js
// (a classic script, an ES module import or a require all work), then,
// before instantiating the engine:
//
//   const go = new Go();
//   go.importObject.simd128 = shufflenetSIMD128(go);
//
// Go's wasm backend emits no vector instructions, so the engine generates
// a small module of SIMD128 kernels at start and hands its bytes to
// simd128.instantiate, which compiles it with Go's own memory as its
// memory: the kernels then work on Go's buffers in place. Every other
// import of the simd128 module is a kernel, called once per layer through
// the trampoline below. If the kernels cannot be compiled (a browser
// without SIMD128), instantiate says so and the engine runs its plain Go
// kernels, with the same results.
//
// The kernels share Go's memory, and a memory that grows detaches every
// view of it: so nothing here keeps a view across calls.
'use strict';

globalThis.shufflenetSIMD128 = (go, { disabled = false } = {}) => {
  let kernels = null;
  const linker = {
    // instantiate(bytes, length): compile the kernels at this address of
    // Go's memory; 1 if they run here, 0 if not.
    instantiate(bytes, length) {
      if (disabled) return 0;
      const memory = go._inst.exports.mem; // wasm_exec.js keeps the running instance there
      try {
        const module = new WebAssembly.Module(new Uint8Array(memory.buffer, bytes, length));
        kernels = new WebAssembly.Instance(module, { go: { mem: memory } }).exports;
        return 1;
      } catch (e) {
        console.warn(`SIMD128 kernels unavailable, using plain Go kernels: ${e.message}`);
        return 0;
      }
    },
  };
  // Any other name is a kernel; Go calls one only after instantiate said 1.
  return new Proxy(linker, {
    get: (target, name) => target[name] ?? ((...args) => kernels[name](...args)),
  });
};
