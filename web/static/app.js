// The demo page's shim. It loads the engine (the wasm and the default
// weights, with one progress bar), starts the inference workers, and then
// hands over to the page's controller, which is Go (wasm/page.go) running
// from the same module. What it offers the controller is what needs browser
// APIs: downloads, canvas pixels, the camera, the workers.
import { Pool, checkDigest, compileEngine, compileKernels, cropInto, drawRGBA, fetchBytes, pictureFromBlob } from '/engine.js';

const WORKER = '/worker.js';
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

let stream = null; // the camera's MediaStream while it runs
const frameCanvas = document.createElement('canvas'); // off-screen: live frames are cropped here

const shim = {
  fetchBytes: (url, total) => fetchBytes(url, total, progress),
  pictureFromBlob,
  // pictureFromVideo crops the current frame off-screen and returns its
  // pixels, or null before the first frame. (The page shows the <video>
  // itself, which costs the main thread nothing.)
  pictureFromVideo(video, size, resize) {
    if (video.readyState < 2 || !video.videoWidth) return null;
    return cropInto(frameCanvas, video, video.videoWidth, video.videoHeight, size, resize);
  },
  async startCamera(video) {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw Object.assign(new Error('this browser offers no camera access here (it needs https or localhost)'), { name: 'NotFoundError' });
    }
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
  },
  stopCamera(video) {
    stream?.getTracks().forEach((t) => t.stop());
    stream = null;
    video.srcObject = null;
    video.hidden = true;
  },
  nextFrame: () => new Promise((resolve) => requestAnimationFrame(resolve)),
  drawRGBA,
  pool: null,
};

async function start() {
  // The workers start, and the engine and its kernels (preloaded by
  // index.html) compile, while the model list comes; then the weights
  // download, on one progress bar with the engine.
  // Two workers keep live video going while one is busy. For measuring,
  // ?workers=N sets the pool's size and ?simd128=off runs the plain Go kernels.
  const params = new URLSearchParams(location.search);
  const workers = Number(params.get('workers')) || Math.min(2, navigator.hardwareConcurrency || 1);
  const scripts = [new URL('/gen/wasm_exec.js', location.href).href, new URL('/simd128.js', location.href).href];
  shim.pool = new Pool(WORKER, Math.max(1, Math.min(8, workers)), scripts);
  const total = { engine: 0, weights: 0 };
  const got = { engine: 0, weights: 0 };
  const report = (part) => (loaded) => {
    got[part] = loaded;
    if (total.engine) progress(got.engine + got.weights, total.engine + total.weights);
  };
  const compiling = Promise.all([
    compileEngine('/gen/shufflenet.wasm', 0, report('engine')),
    params.get('simd128') === 'off' ? null : compileKernels('/gen/simd128.wasm'),
  ]);
  compiling.catch(() => {}); // reported below, once the model list says what to expect
  // The first worker starts its engine as soon as it is compiled.
  const starting = compiling.then(([module, kernels]) => shim.pool.init(module, kernels));
  starting.catch(() => {});

  const resp = await fetch('/api/models');
  if (!resp.ok) throw new Error(`the server's model list answered HTTP ${resp.status}`);
  const { engine, models } = await resp.json();
  if (!engine) throw new Error('the server has no engine built in (run make wasm)');
  const model = models.find((m) => m.default);
  if (!model) throw new Error('the server has no weights (run make weights)');
  total.engine = engine.bytes;
  total.weights = model.bytes;
  let module, weights;
  try {
    [[module], weights] = await Promise.all([compiling, fetchBytes(model.url, model.bytes, report('weights'))]);
  } catch (e) {
    throw new Error(`the download failed: ${e.message}`);
  }

  // The first worker loads the model while the page's controller starts:
  // the message goes out now, behind the engine's, before the controller
  // holds the main thread. (If the engine fails to start, that is the
  // error to show.)
  await checkDigest(weights, model.sha256);
  const loading = Promise.all([starting, shim.pool.load(model.name, weights)]).then(([, info]) => info);

  globalThis.shufflenetPage = { shim, models, initial: { name: model.name, loading } };
  const go = new Go();
  go.importObject.simd128 = shufflenetSIMD128(go, null); // the controller runs no network
  const instance = await WebAssembly.instantiate(module, go.importObject);
  go.run(instance);
}

if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function') {
  fail('This browser cannot run WebAssembly, which the demo needs. Try a current version of Chrome, Firefox, Safari or Edge.');
} else if (typeof Go !== 'function' || typeof shufflenetSIMD128 !== 'function') {
  fail('The engine loader (wasm_exec.js and simd128.js) did not load. Reload the page.');
} else {
  start().catch((e) => fail(`The demo could not start: ${e.message}`));
}
