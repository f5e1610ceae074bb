// The browser side of the engine, shared by the demo page and the widget:
// downloading with progress, a pool of inference workers, and turning
// pictures and video frames into the model's square RGBA crop. Everything
// here is a browser capability; decisions live in Go (wasm/page.go) or in
// the widget.

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
export async function compileEngine(url, total, onProgress) {
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(`HTTP ${resp.status} for ${url}`);
  let loaded = 0;
  const counted = resp.body.pipeThrough(new TransformStream({
    transform(chunk, ctl) { loaded += chunk.length; onProgress?.(loaded, total); ctl.enqueue(chunk); },
  }));
  return WebAssembly.compileStreaming(new Response(counted, { headers: { 'Content-Type': 'application/wasm' } }));
}

// compileKernels compiles the engine's SIMD128 kernels (see simd128.js),
// or answers null where this browser cannot run them: the engine then
// runs its plain Go kernels.
export async function compileKernels(url) {
  try {
    return await WebAssembly.compileStreaming(fetch(url));
  } catch (e) {
    console.warn(`SIMD128 kernels unavailable, using plain Go kernels: ${e.message}`);
    return null;
  }
}

// sha256 is the hex digest of bytes, or null where the browser has no
// WebCrypto (an insecure context), in which case nothing is checked.
async function sha256(bytes) {
  if (!globalThis.crypto?.subtle) return null;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

// checkDigest throws if bytes (a weights file) do not have the expected
// sha256 (hex); where the browser has no WebCrypto it checks nothing.
export async function checkDigest(bytes, expectedSha256) {
  const got = await sha256(bytes);
  if (got && got !== expectedSha256) {
    throw new Error(`the weights file failed its checksum (sha256 ${got.slice(0, 12)}…, expected ${expectedSha256.slice(0, 12)}…)`);
  }
}

// Pool is a set of inference workers sharing one compiled module. Only
// the first worker starts at once; on a machine with few cores the others
// would compete with it for the first prediction, so they start once a
// first picture is classified (or a second has passed since the first
// model loaded). scripts are the URLs of wasm_exec.js and simd128.js,
// which each worker loads as it starts, while the engine still compiles.
export class Pool {
  constructor(workerURL, size, scripts) {
    this.workerURL = workerURL;
    this.scripts = scripts;
    this.size = size;
    this.waiting = []; // resolvers of classify() calls waiting for a free worker
    this.nextId = 1;
    this.pending = new Map();
    this.workers = [this.spawn()];
  }

  // spawn starts a worker and has it load its scripts.
  spawn() {
    const w = { worker: new Worker(this.workerURL), busy: false, models: new Set() };
    w.worker.onmessage = ({ data }) => {
      const p = this.pending.get(data.id);
      if (!p) return; // already answered (a worker that failed after answering)
      this.pending.delete(data.id);
      if (data.error) p.reject(new Error(data.error)); else p.resolve(data.result);
    };
    w.worker.onerror = (e) => {
      for (const [id, p] of this.pending) { p.reject(new Error(e.message || 'worker failed')); this.pending.delete(id); }
    };
    this.call(w, { type: 'scripts', scripts: this.scripts }).catch(() => {}); // a failure shows in 'init'
    return w;
  }

  call(w, msg, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
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

  // load sends a weights file to the workers after checking its digest
  // (when expectedSha256 is given), and answers the model's description as
  // soon as the first worker has it. The message goes out at once, behind
  // init: a worker handles its messages in order.
  async load(name, bytes, expectedSha256) {
    if (!this.engine) throw new Error('Pool.load before Pool.init');
    if (expectedSha256) await checkDigest(bytes, expectedSha256);
    const send = async (w) => {
      const info = await this.call(w, { type: 'load', name, bytes: bytes.slice().buffer });
      w.models.add(name);
      return info;
    };
    const loaded = send(this.workers[0]);
    loaded.then(() => {
      this.othersStarted ??= new Promise((resolve) => {
        this.firstClassified = resolve;
        setTimeout(resolve, 1000);
      }).then(() => this.startOthers());
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

  // classify runs on a free worker that has the model. With skipIfBusy it
  // answers null at once when there is none (live video drops frames
  // instead of queueing); otherwise it waits for one.
  async classify(name, pixels, top, heatmap, skipIfBusy) {
    let w = this.workers.find((x) => !x.busy && x.models.has(name));
    if (!w) {
      if (skipIfBusy) return null;
      w = await new Promise((resolve) => this.waiting.push(resolve));
    }
    w.busy = true;
    try {
      const copy = pixels.slice();
      return await this.call(w, { type: 'classify', name, pixels: copy.buffer, top, heatmap }, [copy.buffer]);
    } finally {
      this.firstClassified?.();
      const next = this.waiting.shift();
      if (next) next(w); else w.busy = false;
    }
  }
}

// cropInto draws the square the model sees onto canvas (size x size): the
// source scaled so its short side is resize pixels, centre cropped, with
// the browser's high-quality (antialiased) resampling. Returns the RGBA pixels.
export function cropInto(canvas, source, width, height, size, resize) {
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const side = size * Math.min(width, height) / resize; // the crop, in source pixels
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, size, size);
  return ctx.getImageData(0, 0, size, size).data;
}

// pictureFromBlob decodes an image file (EXIF orientation applied) and crops it.
export async function pictureFromBlob(blob, canvas, size, resize) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch {
    throw new Error('the file could not be decoded as an image');
  }
  try {
    return cropInto(canvas, bitmap, bitmap.width, bitmap.height, size, resize);
  } finally {
    bitmap.close();
  }
}

// drawRGBA paints size x size RGBA pixels (the worker's heat map) on canvas.
export function drawRGBA(canvas, rgba, size) {
  canvas.width = size;
  canvas.height = size;
  canvas.getContext('2d').putImageData(new ImageData(rgba, size, size), 0, 0);
}
