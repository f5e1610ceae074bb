// Frames per second of a stream through a pool of engine workers, the way
// the page's webcam keeps every worker busy: each worker gets the next
// frame the moment it answers the last one. Go's WebAssembly has no
// threads, so a pool of workers is how this engine uses more than one core
// (ONNX Runtime Web uses wasm threads inside one inference instead).
//
// BenchmarkPeerBrowsers imports this module into the peer benchmark's page
// (cross-origin isolated, served from 127.0.0.1) once that page's latency
// run is over, and calls measure. The same file is the workers' script.
import { create } from './shufflenet-go.mjs';

if (typeof document === 'undefined') {
  // A worker: {model} loads the engine, {input} classifies a frame.
  let engine = null;
  onmessage = async ({ data }) => {
    try {
      if (data.model) {
        engine = await create({ model: data.model, threads: 1 });
        postMessage({ ready: true });
        return;
      }
      const start = performance.now();
      const logits = engine.run(data.input);
      postMessage({ logits, ms: performance.now() - start });
    } catch (e) {
      postMessage({ error: String(e?.message ?? e) });
    }
  };
}

// measure runs the stream for warmupSeconds (each worker tiers its code
// up), then counts the frames the pool answers in the next seconds; each
// worker's first answer is checked against PyTorch's logits, with the
// bench's tolerance.
export async function measure({ model, workers, seconds = 3, warmupSeconds = 2 }) {
  const [input, ref] = await Promise.all([npy('/models/input.npy'), npy(`/models/${model}.logits.npy`)]);
  const pool = Array.from({ length: workers }, () => new Worker(import.meta.url, { type: 'module' }));
  try {
    await Promise.all(pool.map((w) => ask(w, { model })));
    let maxAbsDiff = 0;
    for (const w of pool) maxAbsDiff = Math.max(maxAbsDiff, maxDiff((await ask(w, { input })).logits, ref));
    let runMs = [];
    const stream = (until) => Promise.all(pool.map(async (w) => {
      let frames = 0;
      while (performance.now() < until) {
        const frame = input.slice(); // a new frame, handed over as the page hands over its camera's
        runMs.push((await ask(w, { input: frame }, [frame.buffer])).ms);
        frames++;
      }
      return frames;
    }));
    await stream(performance.now() + warmupSeconds * 1000);
    runMs = [];
    const start = performance.now();
    const frames = (await stream(start + seconds * 1000)).reduce((a, b) => a + b, 0);
    const framesPerSecond = frames / ((performance.now() - start) / 1000);
    const maxAbsRef = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    runMs.sort((a, b) => a - b);
    return { framesPerSecond, frames, medianRunMs: runMs[runMs.length >> 1], maxAbsDiff, ok: maxAbsDiff <= 1e-3 * Math.max(1, maxAbsRef) };
  } finally {
    pool.forEach((w) => w.terminate());
  }
}

// ask sends a worker one message and resolves with its answer.
function ask(worker, message, transfer = []) {
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data));
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage(message, transfer);
  });
}

function maxDiff(a, b) {
  let m = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// npy reads a little-endian float32 .npy file (the bench's input and
// reference logits) as a flat Float32Array.
async function npy(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  const buf = await r.arrayBuffer();
  const view = new DataView(buf);
  const version = view.getUint8(6);
  const headerEnd = version === 1 ? 10 + view.getUint16(8, true) : 12 + view.getUint32(8, true);
  return new Float32Array(buf.slice(headerEnd));
}
