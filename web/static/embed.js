// <shufflenet-classifier>: ShuffleNet's predictions next to any picture of
// any page, with one script tag:
//
//   <script type="module" src="https://HOST/embed.js"></script>
//   <shufflenet-classifier src="cat.jpg" top="3" heatmap></shufflenet-classifier>
//
// Attributes: src (an image URL; or put an <img> inside the element), model
// (a model name from HOST/models.json; default: the server's default), top
// (how many classes, 1-10, default 3), theme (light, dark or auto), head
// (the URL of a head file trained in the Teach mode or with `shufflenet
// train`: the widget then answers with its classes), the flags heatmap,
// upload and webcam, and text-KEY attributes that replace
// its words (to translate it; the keys are in wasm/texts.go). The element
// renders inside Shadow DOM, so the page's CSS cannot break it nor it the
// page, and fires a "result" event (bubbling, composed; also under its
// first name, "classified") whose detail is
// {model, top: [{index, label, prob}], ms, src}.
//
// The classifier itself is the demo page's, written in Go (wasm/ui.go);
// this element only hands it a shadow root and the attributes. Nothing is
// downloaded until an element scrolls into view; every element on the page
// then shares one runtime: one engine, one worker, each model loaded once.
// The asset base is this script's own URL, so the widget works from any
// origin (the server sends CORS headers; the worker starts from a blob: URL).
import { startRuntime } from '/engine.js';

const asset = (path) => new URL(path, import.meta.url).href;

// start starts the page's one runtime, with the first widget in view's
// model downloading at once, and the classifier's style sheet.
let runtime = null;
function start(model) {
  runtime ??= (async () => {
    // A worker script from another origin cannot be started directly; a
    // blob: URL of its text can.
    const fetchOK = async (url) => {
      const r = await fetch(url);
      if (!r.ok) throw new Error(`HTTP ${r.status} for ${url}`);
      return r;
    };
    const worker = fetchOK(asset('/worker.js'))
      .then((r) => r.blob())
      .then((b) => URL.createObjectURL(new Blob([b], { type: 'text/javascript' })));
    const style = fetchOK(asset('/classifier.css')).then((r) => r.text()).then((css) => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      return sheet;
    });
    // The engine and its scripts are named here, as this script's own
    // build has them (content-hashed names), so that this script never
    // runs another build's engine, whatever cache served it.
    const shim = startRuntime({
      base: asset('/'),
      engineURL: asset('/gen/shufflenet.wasm'),
      kernels: { plain: asset('/gen/simd128.wasm'), fused: asset('/gen/simd128-fused.wasm') },
      workerURL: worker,
      scripts: [asset('/gen/wasm_exec.js'), asset('/simd128.js')],
      preload: !model, // the default model; a widget's own is loaded when it asks, where a failure is its own
    });
    return { shim: await shim, style: await style };
  })();
  return runtime;
}

// note is a paragraph of text with a role, for what the element shows
// before the classifier renders (built node by node, not as HTML, so that
// pages enforcing Trusted Types allow it).
function note(role, text) {
  const p = document.createElement('p');
  p.setAttribute('role', role);
  p.textContent = text;
  return p;
}

// absolute resolves a picture's address against the page's.
function absolute(src) {
  try {
    return new URL(src, document.baseURI).href;
  } catch {
    return src; // the download will say what is wrong with it
  }
}

// offline registers the page's service worker, when a widget names one
// (service-worker="/shufflenet-sw.js", a copy of this server's file on the
// page's own origin), and once the first result shows tells it everything
// the page loaded, which it keeps for visits without the network.
function offline() {
  const url = document.querySelector('shufflenet-classifier[service-worker]')?.getAttribute('service-worker');
  if (!url || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register(url).catch((e) => console.warn(`ShuffleNet: no offline use: ${e.message}`));
  performance.setResourceTimingBufferSize(2000); // room for every file the page loads
  document.addEventListener('result', async () => {
    const worker = (await navigator.serviceWorker.ready).active;
    const origins = [location.origin, new URL(import.meta.url).origin]; // the page's and the widget's files only
    const urls = [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)]
      .filter((u) => origins.includes(new URL(u).origin));
    worker?.postMessage({ type: 'shufflenet-loaded', urls });
  }, { once: true });
}

// Elements start when they come into view.
const visibility = new IntersectionObserver((entries) => {
  for (const e of entries) {
    if (e.isIntersecting) {
      visibility.unobserve(e.target);
      e.target.visible();
    }
  }
}, { rootMargin: '200px' });

class ShufflenetClassifier extends HTMLElement {
  static observedAttributes = ['src', 'model', 'top', 'heatmap', 'upload', 'webcam', 'theme', 'head'];

  constructor() {
    super();
    this.attachShadow({ mode: 'open' }).replaceChildren(note('status', 'ShuffleNet classifier: waiting to scroll into view.'));
  }

  connectedCallback() { visibility.observe(this); }

  disconnectedCallback() {
    visibility.unobserve(this);
    this.view?.unmount();
    this.view = null;
  }

  attributeChangedCallback() { this.view?.update(this.options()); }

  // options are the attributes as the classifier takes them (the picture's
  // address made absolute, by the browser's rules).
  options() {
    const img = this.querySelector('img');
    const src = this.getAttribute('src') || img?.getAttribute('src');
    const head = this.getAttribute('head');
    return {
      src: src ? absolute(src) : '',
      head: head ? absolute(head) : '',
      alt: img?.getAttribute('alt') || '',
      model: this.getAttribute('model') || '',
      top: this.getAttribute('top') || '',
      theme: this.getAttribute('theme') || '',
      // text-KEY="..." replaces one of the classifier's texts (wasm/texts.go).
      texts: Object.fromEntries([...this.attributes].filter((a) => a.name.startsWith('text-')).map((a) => [a.name.slice(5), a.value])),
      heatmap: this.hasAttribute('heatmap'),
      upload: this.hasAttribute('upload'),
      webcam: this.hasAttribute('webcam'),
    };
  }

  async visible() {
    const root = this.shadowRoot;
    const progress = document.createElement('progress');
    progress.setAttribute('aria-label', 'Loading the classifier');
    root.replaceChildren(note('status', 'Loading the ShuffleNet classifier…'), progress);
    try {
      const { shim, style } = await start(this.getAttribute('model'));
      if (!this.isConnected || this.view) return;
      root.adoptedStyleSheets = [style];
      this.view = shim.mount(root, this.options());
    } catch (e) {
      root.replaceChildren(note('alert', `The classifier could not start: ${e.message}`));
    }
  }
}

if (!customElements.get('shufflenet-classifier')) {
  customElements.define('shufflenet-classifier', ShufflenetClassifier);
  offline();
}
