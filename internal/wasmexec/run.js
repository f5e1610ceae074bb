// Runs a GOOS=js GOARCH=wasm program under Node.js: Go's own
// wasm_exec_node.js, plus the simd128 imports of web/static/simd128.js,
// which every build of the engine for the browser needs, with the kernel
// module at $SHUFFLENET_SIMD128_KERNELS (none with SHUFFLENET_SIMD128=off).
'use strict';
const path = require('path');

if (process.argv.length < 3) {
  console.error('usage: go_js_wasm_exec [wasm binary] [arguments]');
  process.exit(1);
}

globalThis.require = require;
globalThis.fs = require('fs');
globalThis.path = path;
globalThis.TextEncoder = require('util').TextEncoder;
globalThis.TextDecoder = require('util').TextDecoder;
globalThis.performance ??= require('perf_hooks').performance;
globalThis.crypto ??= require('crypto');

require(path.join(process.env.GOROOT, 'lib', 'wasm', 'wasm_exec.js'));
require(path.join(__dirname, '..', '..', 'web', 'static', 'simd128.js'));

const go = new Go();
go.argv = process.argv.slice(2);
go.env = Object.assign({ TMPDIR: require('os').tmpdir() }, process.env);
go.exit = process.exit;
const kernels = process.env.SHUFFLENET_SIMD128 === 'off' ? null
  : new WebAssembly.Module(fs.readFileSync(process.env.SHUFFLENET_SIMD128_KERNELS));
go.importObject.simd128 = shufflenetSIMD128(go, kernels);
WebAssembly.instantiate(fs.readFileSync(process.argv[2]), go.importObject).then((result) => {
  process.on('exit', (code) => { // Node.js exits if no event handler is pending
    if (code === 0 && !go.exited) {
      // deadlock: make Go print the error and the stacks
      go._pendingEvent = { id: 0 };
      go._resume();
    }
  });
  return go.run(result.instance);
}).catch((err) => {
  console.error(err);
  process.exit(1);
});
