// An inference worker: it runs the Go engine (compiled to WebAssembly) off
// the page's thread, so the page never freezes. It is started by the demo
// page and by the embeddable widget, possibly from another origin (as a
// blob: URL), so it names no URL of its own: the first message brings the
// addresses of the scripts that start the engine (Go's wasm_exec.js and
// simd128.js, which links the kernels in); the next brings the compiled
// engine and its compiled SIMD128 kernels (or null).
//
// Messages in:  {id, type: 'scripts', scripts}
//               {id, type: 'init', module, kernels}
//               {id, type: 'load', name, bytes}
//               {id, type: 'classify', name, pixels, width, height, top, heatmap, inside, head}
//               {id, type: 'features', name, pixels, width, height}
//               {id, type: 'train', name, classes, features, labels}
//               {id, type: 'head', name, headID, file}
// Messages out: {id, result} or {id, error}, and {id, progress: [epoch,
// epochs, loss]} while a head trains. A load's result is the model's
// description, with warmupMs: its warm-up passes' times (see warmUp).
'use strict';

let engine;
let scriptsFailed; // why the scripts did not load, if they did not

async function init({ module, kernels }) {
  if (scriptsFailed) throw new Error(`the engine's scripts did not load: ${scriptsFailed.message}`);
  const go = new Go();
  go.importObject.simd128 = shufflenetSIMD128(go, kernels);
  const instance = await WebAssembly.instantiate(module, go.importObject);
  go.run(instance); // runs main() until it waits; by then it has set self.shufflenet
  engine = self.shufflenet;
  return { ready: true };
}

function handle(msg) {
  switch (msg.type) {
    case 'scripts':
      try {
        importScripts(...msg.scripts); // defines self.Go and self.shufflenetSIMD128
      } catch (e) {
        scriptsFailed = e;
        throw e;
      }
      return { ready: true };
    case 'init':
      return init(msg);
    case 'load': {
      if (!engine) throw new Error('the engine has not started');
      const info = engine.load(msg.name, new Uint8Array(msg.bytes), msg.sha256 ?? '');
      if (!info || info.error) return info; // undefined: the engine stopped (see onmessage)
      engine.collect(); // the load's garbage, before the warm-up's passes
      info.warmupMs = warmUp(msg.name);
      return info;
    }
    case 'classify':
      return engine.classify(msg.name, new Uint8ClampedArray(msg.pixels), msg.width, msg.height, msg.top, !!msg.heatmap, msg.inside, msg.head ?? '');
    case 'features':
      return engine.features(msg.name, new Uint8ClampedArray(msg.pixels), msg.width, msg.height);
    case 'train':
      return engine.train(msg.name, msg.classes, new Float32Array(msg.features), new Int32Array(msg.labels),
        (epoch, epochs, loss) => self.postMessage({ id: msg.id, progress: [epoch, epochs, loss] }));
    case 'head':
      return engine.head(msg.name, msg.headID, new Uint8Array(msg.file));
  }
  throw new Error(`unknown message ${msg.type}`);
}

// warmUp classifies a blank picture with model name (wasm/prime.go) until
// the passes settle (of three or more, the last two within 15% of the
// fastest), in at most 8 passes, starting none more than 40 ms after the
// first ended (the first compiles the code): 2 to 8 passes. It answers
// each pass's ms.
//
// Why: Chromium runs a function on baseline code until it has run for a
// while, and optimizes it in the background meanwhile (see wasm/prime.go).
// A model's first classification ran 4-9 times slower than the next ones
// (about 100-190 ms against 20-30 for Megvii g3 0.5x on a 2-core machine),
// and settled near 13 ms after four or five; so the load answers once the
// passes have settled, and a picture dropped the moment the page is ready
// gets the optimized code. A model loaded after another one settles in
// three passes: the code is the same.
function warmUp(name) {
  const times = [];
  const settled = () => times.length >= 3 && times.slice(-2).every((ms) => ms <= 1.15 * Math.min(...times));
  let firstDone = Infinity; // when the first pass ended
  while (times.length < 8 && !settled() && performance.now() - firstDone < 40) {
    const pass = engine.prime(name);
    if (!pass || pass.error) {
      console.warn(`the engine could not warm up: ${pass?.error ?? 'it stopped'}`);
      break;
    }
    times.push(pass.ms);
    firstDone = Math.min(firstDone, performance.now());
  }
  return times;
}

// Messages are handled one at a time, in order: a 'load' sent right after
// 'init' waits for the engine to start.
let queue = Promise.resolve();
self.onmessage = ({ data: msg }) => {
  queue = queue.then(async () => {
    try {
      const result = await handle(msg);
      if (result === undefined) {
        // Go answers undefined only once its program has ended (a fatal
        // error, printed to the console).
        throw new Error('the engine stopped; reload the page');
      }
      if (result && result.error) {
        self.postMessage({ id: msg.id, error: result.error });
      } else {
        // The pictures' pixels (listed by the engine) move to the page rather than being copied.
        const transfer = result?.transfer ?? [];
        if (result) delete result.transfer;
        self.postMessage({ id: msg.id, result }, transfer);
      }
    } catch (e) {
      self.postMessage({ id: msg.id, error: String(e && e.message || e) });
    }
  });
};
