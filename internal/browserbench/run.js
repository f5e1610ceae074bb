// Starts the test binary in this page, like go_js_wasm_exec does under Node.
const q = new URLSearchParams(location.search);
const out = document.getElementById('out');
window.output = '';
const decoder = new TextDecoder();
// wasm_exec.js writes stdout and stderr through globalThis.fs.writeSync.
globalThis.fs.writeSync = (fd, buf) => {
  const text = decoder.decode(buf);
  window.output += text;
  out.textContent += text;
  return buf.length;
};

const go = new Go();
go.argv = ['test.wasm', ...q.getAll('arg')];
go.exit = (code) => { window.exitCode = code; };
const kernels = q.get('simd128') === 'off' ? null : await WebAssembly.compileStreaming(fetch('/simd128.wasm'));
go.importObject.simd128 = shufflenetSIMD128(go, kernels);
const { instance } = await WebAssembly.instantiateStreaming(fetch('/test.wasm'), go.importObject);
await go.run(instance);
window.exitCode ??= 0;
