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
// epochs, loss]} while a head trains
'use strict';

// Chromium runs the engine's code unoptimized until it has run for a while
// (see wasm/prime.go), so the worker runs it while it has nothing else to
// do: from a moment after it has loaded a model, it classifies a blank
// picture with it twice. Each of these steps is one classification, none
// starts while a message waits, and a classification asked for ends them
// (it does their work): a picture that comes meanwhile waits for one step
// at most. A picture given the moment the model is loaded goes first.

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
    case 'load':
      if (!engine) throw new Error('the engine has not started');
      return engine.load(msg.name, new Uint8Array(msg.bytes), msg.sha256 ?? '');
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

// whenIdle adds steps to run while no message waits, the first after wait
// ms. A step is a timer's task some ms after the last one, rather than at
// once: a message that came during a step is then handled first (a worker
// may run a due timer before a message that came earlier).
const steps = [];
const pause = 10; // ms
let notBefore = 0; // when the next step may start (performance.now())
let timer;
function whenIdle(wait, ...more) {
  steps.push(...more);
  notBefore = performance.now() + wait;
  later(wait);
}

function later(ms) {
  clearTimeout(timer);
  timer = setTimeout(runStep, ms);
}

function runStep() {
  if (waiting > 0 || steps.length === 0) return; // the last message handled calls later
  const early = notBefore - performance.now();
  if (early > 0) {
    later(early);
    return;
  }
  try {
    steps.shift()();
  } catch (e) {
    console.warn(`the engine could not warm up: ${e.message}`);
  }
  later(pause);
}

// Messages are handled one at a time, in order: a 'load' sent right after
// 'init' waits for the engine to start.
let queue = Promise.resolve();
let waiting = 0; // messages received and not yet answered
self.onmessage = ({ data: msg }) => {
  waiting++;
  if (msg.type === 'classify' || msg.type === 'features' || msg.type === 'train') steps.length = 0; // real work replaces them
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
        if (msg.type === 'load') {
          engine.collect(); // garbage from the load, once the page has its answer
          whenIdle(250, () => engine.prime(msg.name), () => engine.prime(msg.name));
        }
      }
    } catch (e) {
      self.postMessage({ id: msg.id, error: String(e && e.message || e) });
    } finally {
      if (--waiting === 0) later(pause);
    }
  });
};
