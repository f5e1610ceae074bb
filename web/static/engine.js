// The browser side of the engine, shared by the demo page and the widget:
// downloading with progress, a pool of inference workers, turning pictures
// and video frames into the model's square RGBA crop, the camera, and
// startRuntime, which starts all of it once per page together with the
// interface's Go program (wasm/ui.go). Everything here is a browser
// capability; the interface and its decisions live in Go.

// fetchBytes downloads url, reporting (loaded, total) as bytes arrive.
// total is the decoded size when known (compressed transfers report
// decoded bytes, so Content-Length would not match).
export async function fetchBytes(url, total, onProgress) {
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(`HTTP ${resp.status} for ${url}`);
  if (!resp.body) return new Uint8Array(await resp.arrayBuffer());
  const reader = resp.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onProgress?.(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

// compileEngine downloads and compiles the engine's wasm while it streams.
// A response served as application/wasm goes to the compiler as it is,
// and reports no progress: the browser then reads it with no JavaScript
// in between, where counting its bytes in a stream of our own kept the
// page's thread busy while the engine arrived, and the page's other tasks
// waited (on a 2-core machine the model list's answer, and with it the
// weights' download, came 100-250 ms late, and the first label about 30
// ms later than now). A response of another type (plain static servers
// often send one for .wasm) is given the right one here, in a stream that
// counts its bytes for onProgress(loaded).
export async function compileEngine(url, onProgress) {
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(`HTTP ${resp.status} for ${url}`);
  if (resp.headers.get('Content-Type')?.split(';')[0].trim().toLowerCase() === 'application/wasm') {
    return WebAssembly.compileStreaming(resp);
  }
  let loaded = 0;
  const counted = resp.body.pipeThrough(new TransformStream({
    transform(chunk, ctl) { loaded += chunk.length; onProgress?.(loaded); ctl.enqueue(chunk); },
  }));
  return WebAssembly.compileStreaming(new Response(counted, { headers: { 'Content-Type': 'application/wasm' } }));
}

// compileKernels compiles the engine's SIMD128 kernels (see simd128.js),
// or answers null where this browser cannot run them: the engine then
// runs its plain Go kernels. The kernels come in two builds (see
// internal/simd128): fused, whose convs use relaxed SIMD's fused
// multiply-add (its pointwise convs are a fifth faster), compiled where the browser has relaxed
// SIMD (Chromium 114 and Firefox 146 on) and fused is given; else, or if
// the fused build fails to come, plain.
export async function compileKernels({ plain, fused }) {
  const compile = async (url) => {
    const resp = await fetch(url);
    if (!resp.ok) throw new Error(`HTTP ${resp.status} for ${url}`);
    return WebAssembly.compileStreaming(new Response(resp.body, { headers: { 'Content-Type': 'application/wasm' } }));
  };
  if (fused && relaxedSIMD()) {
    try {
      return await compile(fused);
    } catch (e) {
      console.warn(`fused SIMD128 kernels unavailable, trying the plain ones: ${e.message}`);
    }
  }
  try {
    return await compile(plain);
  } catch (e) {
    console.warn(`SIMD128 kernels unavailable, using plain Go kernels: ${e.message}`);
    return null;
  }
}

// relaxedSIMD says whether this browser validates relaxed SIMD: the bytes
// are a module with one function, (a, b, c) -> f32x4.relaxed_madd(a, b, c).
// It is asked only once kernels are wanted: a page without WebAssembly at
// all must still load this script, to say so.
const relaxedSIMD = () => WebAssembly.validate(new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // its code
]));

// sha256 is the hex digest of bytes, or null where the browser has no
// WebCrypto (an insecure context), in which case nothing is checked.
async function sha256(bytes) {
  if (!globalThis.crypto?.subtle) return null;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

// checkDigest throws if bytes (a weights file) do not have the expected
// sha256 (hex); where the browser has no WebCrypto it checks nothing.
async function checkDigest(bytes, expectedSha256) {
  const got = await sha256(bytes);
  if (got && got !== expectedSha256) {
    throw new Error(`the weights file failed its checksum (sha256 ${got.slice(0, 12)}…, expected ${expectedSha256.slice(0, 12)}…)`);
  }
}

// Pool is a set of inference workers sharing one compiled module. Only
// the first worker starts at once; on a machine with few cores the others
// would compete with it for the first prediction, so they start once a
// first picture is classified. (They used to start a second after the
// first model loaded too, if no picture had come by then: on a 2-core
// machine a picture dropped at that moment took twice as long.)
// workerURL is the worker's script and scripts the URLs of wasm_exec.js
// and simd128.js, which each worker loads as it starts, while the engine
// still compiles; either may be a promise.
export class Pool {
  constructor(workerURL, size, scripts) {
    this.workerURL = workerURL;
    this.scripts = scripts;
    this.size = size;
    this.waiting = []; // classify() calls waiting for a free worker: {name, resolve}
    this.nextId = 1;
    this.workers = [this.spawn()];
  }

  // spawn starts a worker and has it load its scripts. Every other message
  // waits for that one (see call); a failure to load them shows in 'init'.
  // A worker that fails fails only its own requests, and leaves the pool.
  spawn() {
    const w = { busy: false, models: new Set(), heads: new Map(), pending: new Map() };
    w.ready = Promise.all([this.workerURL, this.scripts]).then(([url, scripts]) => {
      w.worker = new Worker(url);
      w.worker.onmessage = ({ data }) => {
        const p = w.pending.get(data.id);
        if (!p) return; // already answered (a worker that failed after answering)
        if (data.progress) { p.onProgress?.(...data.progress); return; }
        w.pending.delete(data.id);
        if (data.error) p.reject(new Error(data.error)); else p.resolve(data.result);
      };
      w.worker.onerror = (e) => {
        if (this.workers.length > 1) this.workers = this.workers.filter((x) => x !== w);
        for (const p of w.pending.values()) p.reject(new Error(e.message || 'worker failed'));
        w.pending.clear();
      };
      this.post(w, { type: 'scripts', scripts }).catch(() => {});
    });
    return w;
  }

  // call sends msg to worker w, after its scripts, and answers its reply.
  // Messages go out in the order of the calls.
  call(w, msg, transfer = [], onProgress) {
    return w.ready.then(() => this.post(w, msg, transfer, onProgress));
  }

  post(w, msg, transfer = [], onProgress) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      w.pending.set(id, { resolve, reject, onProgress });
      w.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  // init starts the engine in the first worker: module is the compiled
  // engine, kernels its compiled SIMD128 kernels (or null). It answers
  // when the engine runs; calls to load need not wait for that.
  init(module, kernels) {
    this.engine = { type: 'init', module, kernels };
    return this.call(this.workers[0], this.engine);
  }

  // load sends a weights file (its digest checked) to the workers, and
  // answers the model's description as soon as the first worker has it.
  // The message goes out at once, behind init: a worker handles its
  // messages in order.
  async load(name, bytes, sha256) {
    if (!this.engine) throw new Error('Pool.load before Pool.init');
    const send = async (w) => {
      const info = await this.call(w, { type: 'load', name, sha256, bytes: bytes.slice().buffer });
      w.models.add(name);
      return info;
    };
    const loaded = send(this.workers[0]);
    loaded.then(() => {
      this.othersStarted ??= new Promise((resolve) => { this.firstClassified = resolve; })
        .then(() => this.startOthers());
      this.othersStarted
        .then(() => Promise.all(this.workers.slice(1).map(send)))
        .catch((e) => console.warn(`a worker could not load ${name}: ${e.message}`));
    }, () => {}); // the caller gets the first worker's error
    return loaded;
  }

  // startOthers starts the rest of the pool's workers, with the models
  // the first one has loaded so far following in load.
  startOthers() {
    const others = Array.from({ length: this.size - 1 }, () => this.spawn());
    this.workers.push(...others);
    return Promise.all(others.map((w) => this.call(w, this.engine)));
  }

  // idle reports whether a worker with a model is free.
  idle() { return this.workers.some((w) => !w.busy && w.models.size > 0); }

  // classify runs on a free worker that has the model: picture is
  // {pixels, width, height}, RGBA at any size, which the engine crops and
  // resizes. With skipIfBusy it answers null at once when there is none
  // (live video drops frames instead of queueing); otherwise it waits for one.
  // inside, {unit, shuffle}, has the engine look inside the network too
  // (the /inside/ page; see wasm/explore.go); head, {id, file}, answers
  // with a head's classes instead of the model's (see useHead).
  classify(name, picture, top, heatmap, skipIfBusy, inside, head) {
    return this.withWorker(name, skipIfBusy, async (w) => {
      await this.useHead(w, name, head);
      const { width, height } = picture;
      const copy = picture.pixels.slice(); // the page keeps its picture, to classify again
      return this.call(w, { type: 'classify', name, pixels: copy.buffer, width, height, top, heatmap, inside, head: head?.id ?? '' }, [copy.buffer]);
    });
  }

  // features answers a picture's pooled features (Float32Array) for model
  // name: an example for the Teach mode.
  features(name, picture) {
    return this.withWorker(name, false, async (w) => {
      const { width, height } = picture;
      const copy = picture.pixels.slice();
      return (await this.call(w, { type: 'features', name, pixels: copy.buffer, width, height }, [copy.buffer])).features;
    });
  }

  // train trains a head for model name on one worker: examples' features
  // (Float32Array, one after another) and labels (Int32Array), reporting
  // progress(epoch, epochs, loss); it answers {head (the file's bytes), accuracy, ms}.
  train(name, classes, features, labels, onProgress) {
    return this.withWorker(name, false, (w) =>
      this.call(w, { type: 'train', name, classes, features: features.buffer, labels: labels.buffer }, [], onProgress));
  }

  // checkHead has a worker with model name take a head ({id, file: the
  // head file's bytes}), which the engine checks against the model, and
  // answers its classes; a bad file or another model's head is refused.
  checkHead(name, head) {
    return this.withWorker(name, false, (w) => this.useHead(w, name, head, true));
  }

  // withWorker runs work(w) on a free worker w that has the model, which
  // it holds meanwhile (see acquire), and answers what work answers; with
  // skipIfBusy it answers null at once when there is none.
  async withWorker(name, skipIfBusy, work) {
    const w = await this.acquire(name, skipIfBusy);
    if (!w) return null;
    try {
      return await work(w);
    } finally {
      this.release(w);
    }
  }

  // useHead sends worker w a head it does not have yet, once per file: a
  // head is asked for by its id with each classification, so every worker
  // gets it when it first needs it, whenever it loaded the model.
  async useHead(w, name, head, again = false) {
    const key = `${name} ${head?.id}`;
    if (!head || (w.heads.get(key) === head.file && !again)) return null;
    const answer = await this.call(w, { type: 'head', name, headID: head.id, file: head.file.slice().buffer });
    w.heads.set(key, head.file);
    return answer;
  }

  // acquire waits for a free worker that has the model, and marks it busy;
  // with skipIfBusy it answers null at once when there is none.
  async acquire(name, skipIfBusy) {
    let w = this.workers.find((x) => !x.busy && x.models.has(name));
    if (!w) {
      if (skipIfBusy) return null;
      w = await new Promise((resolve) => this.waiting.push({ name, resolve }));
    }
    w.busy = true;
    return w;
  }

  // release hands a worker to the first waiting call for a model it has.
  release(w) {
    this.firstClassified?.();
    const next = this.waiting.findIndex((x) => w.models.has(x.name));
    if (next >= 0) this.waiting.splice(next, 1)[0].resolve(w); else w.busy = false;
  }
}

// MAX_PIXELS bounds the pictures handed to the engine: 16 megapixels
// (64 MB of RGBA). A larger one is scaled down first, with the browser's
// best filter; the engine's own resize to the 256-pixel short side that
// follows makes the difference vanish in the 224 x 224 crop.
const MAX_PIXELS = 16_000_000;

// pixelsOf draws source (width x height) on canvas at that size and
// answers its RGBA pixels, not premultiplied, as {pixels, width, height}.
function pixelsOf(canvas, source, width, height) {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(source, 0, 0);
  return { pixels: ctx.getImageData(0, 0, width, height).data, width, height };
}

// pictureFromBlob decodes an image file at its natural size (EXIF
// orientation applied, colours as stored: no colour management, as the
// engine's native decoders do), scaled down only above MAX_PIXELS, and
// answers its pixels. The engine crops and resizes them itself, with the
// same code as the CLI and the server.
export async function pictureFromBlob(blob, canvas) {
  const options = { imageOrientation: 'from-image', colorSpaceConversion: 'none', premultiplyAlpha: 'none' };
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, options);
  } catch {
    throw new Error('the file could not be decoded as an image');
  }
  try {
    const scale = Math.min(1, Math.sqrt(MAX_PIXELS / (bitmap.width * bitmap.height)));
    if (scale < 1) {
      const large = bitmap;
      bitmap = await createImageBitmap(large, {
        ...options, resizeQuality: 'high',
        resizeWidth: Math.max(1, Math.floor(large.width * scale)), resizeHeight: Math.max(1, Math.floor(large.height * scale)),
      });
      large.close();
    }
    return pixelsOf(canvas, bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

// warmDecoders decodes a tiny JPEG and PNG, made here, as a reader's
// pictures are decoded (pictureFromBlob, on canvas). A browser sets up a
// format's decoder and a canvas's pixels the first time they are used:
// in Chromium that took a first prediction about 5 ms more, which now
// happens while the engine starts.
async function warmDecoders(canvas) {
  if (typeof OffscreenCanvas !== 'function') return;
  const source = new OffscreenCanvas(8, 8);
  source.getContext('2d').fillRect(0, 0, 8, 8);
  for (const type of ['image/jpeg', 'image/png']) {
    await pictureFromBlob(await source.convertToBlob({ type }), canvas);
  }
}

// startRuntime starts, once per page, what classifying needs: the model
// list, the engine compiled once for the workers and for the interface,
// the pool of inference workers, and the interface's Go program on this
// thread. It answers the shim that program uses (wasm/shim.go), to which
// the program has added mount(root, options): render a classifier into
// root (an element or a shadow root) and answer {update(options), unmount()}.
//
// Options: base, the URL the asset paths are relative to; engineURL, the
// engine's address as the caller's own build names it (it starts
// compiling before the model list arrives, which must name the same);
// kernels, the kernels' builds' addresses ({plain, fused}, see
// compileKernels), or null for the plain Go kernels; workerURL and scripts (see
// Pool); workers, the pool's size; preload, to
// download the default model's weights at once, reported with the engine
// on onProgress(loaded, total) and checked before the interface starts.
export async function startRuntime({ base, engineURL, kernels, workerURL, scripts, workers = 1, preload = false, onProgress }) {
  const at = (path) => new URL(path, base).href;
  const got = { engine: 0, weights: 0 };
  const total = { engine: 0, weights: 0 };
  const report = (part) => (loaded) => {
    got[part] = loaded;
    if (total.engine) onProgress?.(Math.min(got.engine, total.engine) + got.weights, total.engine + total.weights);
  };

  // The engine and its kernels compile while the model list comes; the
  // first worker starts its engine as soon as it is compiled.
  // models.json, not /api/models: a static file, so that a plain static
  // server (an exported site) serves all the page needs.
  const listing = fetch(at('models.json')).then(async (resp) => {
    if (!resp.ok) throw new Error(`the model list (models.json) answered HTTP ${resp.status}`);
    const list = await resp.json();
    if (!list.engine) throw new Error('the server has no engine built in (run make wasm)');
    total.engine = list.engine.bytes;
    return list;
  });
  const canvas = document.createElement('canvas'); // pictures and frames become pixels here, off-screen
  const decodersWarm = warmDecoders(canvas).catch(() => {}); // a failure costs only time
  const pool = new Pool(workerURL, workers, scripts);
  const compiling = Promise.all([
    // Compiled, the engine is here in full, whether or not its download
    // reported progress (see compileEngine).
    compileEngine(engineURL, report('engine')).then((module) => { report('engine')(Infinity); return module; }),
    kernels ? compileKernels(kernels) : null,
  ]);
  let engineStarted; // the first worker's start, once the engine is compiled
  const initSent = compiling.then(([module, kernels]) => {
    engineStarted = pool.init(module, kernels);
    engineStarted.catch(() => {}); // reported by the first load
  });

  // Each model is downloaded and loaded once, however many classifiers
  // ask for it; each asker hears of the download's progress.
  const models = new Map(); // name -> {listeners, checked: Promise<bytes>, loaded: Promise<info>}
  const model = (name, list) => {
    if (!models.has(name)) {
      const m = list.models.find((x) => x.name === name);
      if (!m) throw new Error(`the server has no model "${name}"`);
      const entry = { listeners: new Set() };
      entry.checked = fetchBytes(at(m.url), m.bytes, (n, t) => { for (const f of entry.listeners) f(n, t); })
        .catch((e) => { throw new Error(`the download failed: ${e.message}`); })
        .then(async (bytes) => { await checkDigest(bytes, m.sha256); return bytes; });
      // The load goes to the first worker right behind its engine (a
      // worker handles its messages in order); an engine that failed to
      // start is the error to report.
      entry.loaded = Promise.all([entry.checked, initSent]).then(async ([bytes]) => {
        const loading = pool.load(m.name, bytes, m.sha256);
        await engineStarted;
        return loading;
      });
      // A model that failed is downloaded again when asked for again.
      entry.loaded.catch(() => { if (models.get(name) === entry) models.delete(name); });
      models.set(name, entry);
    }
    return models.get(name);
  };

  // A page that did not load Go's scripts (the widget's host) imports them
  // now: classic scripts that define globals, which an import runs as well.
  const scriptsRun = typeof Go === 'function' && typeof shufflenetSIMD128 === 'function'
    ? null : Promise.all(scripts.map((url) => import(url)));
  scriptsRun?.catch(() => {}); // reported below

  const list = await listing;
  // The model list names the engine its weights go with; a page of another
  // build (a cache that kept one but not the other) must not run them.
  if (new URL(list.engine.url, base).pathname !== new URL(engineURL, base).pathname) {
    throw new Error('the model list is from another version of the classifier than its scripts: reload the page');
  }
  const defaultModel = list.models.find((m) => m.default);
  if (!defaultModel) throw new Error('the server has no weights (run make weights)');
  if (preload) {
    // The weights download with the engine, on one progress report, and
    // are checked before the interface starts, so a damaged file is the
    // error shown, not a half-started page.
    const entry = model(defaultModel.name, list);
    total.weights = defaultModel.bytes;
    entry.listeners.add(report('weights'));
    await Promise.all([entry.checked, compiling]);
  }
  const [module] = await compiling;
  await scriptsRun;
  await decodersWarm;

  const shim = {
    models: list.models,
    defaultModel: defaultModel.name,
    // loadModel(name, onProgress) -> {name, size, resize, kernels, ...}
    async loadModel(name, onProgress) {
      const entry = model(name, list);
      if (onProgress) entry.listeners.add(onProgress);
      try {
        return await entry.loaded;
      } finally {
        entry.listeners.delete(onProgress);
      }
    },
    classify: (name, picture, top, heatmap, skipIfBusy, inside, head) => pool.classify(name, picture, top, heatmap, skipIfBusy, inside, head),
    features: (name, picture) => pool.features(name, picture),
    train: (name, classes, features, labels, onProgress) => pool.train(name, classes, features, labels, onProgress),
    checkHead: (name, head) => pool.checkHead(name, head),
    // download offers bytes to the reader as a file.
    download(bytes, filename, type) {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([bytes], { type }));
      a.download = filename;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    },
    idle: () => pool.idle(),
    pictureFromBlob: (blob) => pictureFromBlob(blob, canvas),
    // pictureFromVideo answers the current frame's pixels, or null before
    // the first frame. (The <video> itself shows the stream, which costs
    // the main thread nothing.)
    pictureFromVideo(video) {
      if (video.readyState < 2 || !video.videoWidth) return null;
      return pixelsOf(canvas, video, video.videoWidth, video.videoHeight);
    },
    startCamera,
    stopCamera,
    nextFrame: () => new Promise((resolve) => requestAnimationFrame(resolve)),
  };
  const go = new Go();
  go.argv = ['shufflenet', 'ui'];
  go.importObject.simd128 = shufflenetSIMD128(go, null); // the interface runs no network
  const instance = await WebAssembly.instantiate(module, go.importObject);
  globalThis.shufflenetShim = shim; // the Go program takes it, adds mount and removes this name
  go.run(instance); // returns once main() waits
  if (typeof shim.mount !== 'function') throw new Error('the interface did not start');
  return shim;
}

// startCamera plays the camera in video (the stream is the video's
// srcObject, so each classifier has its own).
async function startCamera(video) {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw Object.assign(new Error('this browser offers no camera access here (it needs https or localhost)'), { name: 'NotFoundError' });
  }
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  video.hidden = false;
  await video.play();
}

function stopCamera(video) {
  video.srcObject?.getTracks().forEach((t) => t.stop());
  video.srcObject = null;
  video.hidden = true;
}
