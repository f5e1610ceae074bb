// The pages' shim: it starts the runtime (engine, workers and the default
// weights, on the page's progress bar) and mounts the classifier, which is
// Go (wasm/ui.go), with every control switched on; on /inside/, with the
// explorer below it.
import { startRuntime } from '/engine.js';

const $ = (id) => document.getElementById(id);

function fail(message) {
  const el = $('error');
  el.textContent = message;
  el.hidden = false;
  $('progress-text').textContent = 'Not loaded.';
}

// progress shows bytes loaded of a total on the page's progress bar.
function progress(loaded, total) {
  const bar = $('progress');
  bar.max = total;
  bar.value = Math.min(loaded, total);
  const mb = (n) => (n / 1e6).toFixed(1);
  $('progress-text').textContent = loaded >= total ? 'Loaded.' : `${mb(loaded)} of ${mb(total)} MB`;
}

async function start() {
  // Two workers keep live video going while one is busy. For measuring,
  // ?workers=N sets the pool's size, ?simd128=plain runs the SIMD128
  // kernels' plain build everywhere and ?simd128=off the plain Go kernels.
  const params = new URLSearchParams(location.search);
  const simd128 = params.get('simd128');
  const workers = Number(params.get('workers')) || Math.min(2, navigator.hardwareConcurrency || 1);
  const shim = await startRuntime({
    base: new URL('/', location.href).href, // the site's root, also for /inside/
    engineURL: '/gen/shufflenet.wasm',
    kernels: simd128 === 'off' ? null : {
      plain: '/gen/simd128.wasm',
      fused: simd128 === 'plain' ? null : '/gen/simd128-fused.wasm', // preloaded by index.html
    },
    workerURL: '/worker.js',
    scripts: [new URL('/gen/wasm_exec.js', location.href).href, new URL('/simd128.js', location.href).href],
    workers: Math.max(1, Math.min(8, workers)),
    preload: true,
    onProgress: progress,
  });
  const snippet = $('snippet');
  if (snippet) snippet.textContent = snippet.textContent.replaceAll('https://HOST', location.origin);
  const options = { upload: true, paste: true, webcam: true, picker: true, heatmapSwitch: true, top: 5, teach: true };
  if ($('classifier').dataset.view === 'inside') {
    // /inside/: the explorer, its first view named by the address (see wasm/inside.go).
    options.inside = true;
    options.heatmapSwitch = false;
    options.teach = false;
    for (const key of ['model', 'unit', 'shuffle', 'table']) {
      if (params.has(key)) options[key] = params.get(key);
    }
  }
  shim.mount($('classifier'), options);
}

if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function') {
  fail('This browser cannot run WebAssembly, which the demo needs. Try a current version of Chrome, Firefox, Safari or Edge.');
} else if (typeof Go !== 'function' || typeof shufflenetSIMD128 !== 'function') {
  fail('The engine loader (wasm_exec.js and simd128.js) did not load. Reload the page.');
} else {
  start().catch((e) => fail(`The demo could not start: ${e.message}`));
}
