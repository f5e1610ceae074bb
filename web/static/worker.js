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
        if (msg.type === 'load') engine.collect(); // garbage from the load, once the page has its answer
      }
    } catch (e) {
      self.postMessage({ id: msg.id, error: String(e && e.message || e) });
    }
  });
};
