// <shufflenet-classifier>: ShuffleNet's predictions next to any picture of
// any page, with one script tag:
//
//   <script type="module" src="https://HOST/embed.js"></script>
//   <shufflenet-classifier src="cat.jpg" top="3" heatmap></shufflenet-classifier>
//
// Attributes: src (an image URL; or put an <img> inside the element), model
// (a model name from HOST/api/models; default: the server's default), top
// (how many classes, 1-10, default 3), and the flags heatmap, upload and
// webcam. The element renders inside Shadow DOM, so the page's CSS cannot
// break it nor it the page, and fires a "classified" event (bubbling,
// composed) whose detail is {model, top: [{index, label, prob}], ms, src}.
//
// Nothing is downloaded until an element scrolls into view; every element
// on the page then shares one engine: one worker, each model loaded once.
// The asset base is this script's own URL, so the widget works from any
// origin (the server sends CORS headers; the worker starts from a blob: URL).
import { Pool, compileEngine, compileKernels, cropInto, drawRGBA, fetchBytes, pictureFromBlob } from '/engine.js';

const BASE = new URL('/', import.meta.url);
const WORKER = new URL('/worker.js', import.meta.url);

// engine is the page-wide shared engine, started by the first visible widget.
const engine = {
  started: null, // Promise<{pool, models, defaultModel}>
  models: new Map(), // name -> Promise<info>
  listeners: new Set(), // progress callbacks of widgets that are loading
  loaded: 0,
  total: 0,

  progress(loaded, total) {
    this.loaded = loaded;
    this.total = total;
    for (const f of this.listeners) f(loaded, total);
  },

  start() {
    this.started ??= (async () => {
      const resp = await fetch(new URL('api/models', BASE));
      if (!resp.ok) throw new Error(`the model list answered HTTP ${resp.status}`);
      const list = await resp.json();
      if (!list.engine) throw new Error('the server has no engine built in');
      const wasm = new URL(list.engine.url, BASE).href;
      const [module, kernels] = await Promise.all([
        compileEngine(wasm, list.engine.bytes, (n, t) => this.progress(n, t)),
        compileKernels(new URL('/gen/simd128.wasm', import.meta.url).href),
      ]);
      // A worker script from another origin cannot be started directly;
      // a blob: URL of its text can.
      const source = await (await fetch(WORKER)).blob();
      const scripts = [new URL(list.engine.wasm_exec, BASE).href, new URL('/simd128.js', import.meta.url).href];
      const pool = new Pool(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), 1, scripts);
      await pool.init(module, kernels);
      return { pool, models: list.models, defaultModel: list.models.find((m) => m.default)?.name };
    })();
    return this.started;
  },

  // model loads a model (once) and returns its description.
  async model(name) {
    const { pool, models, defaultModel } = await this.start();
    name ||= defaultModel;
    if (!this.models.has(name)) {
      this.models.set(name, (async () => {
        const m = models.find((x) => x.name === name);
        if (!m) throw new Error(`the server has no model "${name}"`);
        const bytes = await fetchBytes(new URL(m.url, BASE).href, m.bytes, (n, t) => this.progress(n, t));
        return { ...(await pool.load(m.name, bytes, m.sha256)), name: m.name };
      })());
    }
    return this.models.get(name);
  },
};

// Widgets start when they come into view.
const visibility = new IntersectionObserver((entries) => {
  for (const e of entries) {
    if (e.isIntersecting) {
      visibility.unobserve(e.target);
      e.target.visible();
    }
  }
}, { rootMargin: '200px' });

const style = new CSSStyleSheet();
style.replaceSync(`
  :host { display: block; max-width: 22rem; font: 14px/1.4 system-ui, sans-serif; color: #1d2330; }
  :host([hidden]) { display: none; }
  .card { display: block; margin: 0; border: 1px solid #d8dce6; border-radius: 8px; padding: 8px; background: #fff; }
  .stage { position: relative; display: block; width: 100%; aspect-ratio: 1; background: #eceef3; border-radius: 4px; overflow: hidden; }
  canvas { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
  [hidden] { display: none !important; }
  .state { display: block; margin: 6px 0 0; color: #5b6475; }
  .state.error { color: #a01818; }
  progress { display: block; width: 100%; }
  ol { display: block; margin: 6px 0 0; padding-left: 1.3em; }
  li { display: list-item; margin: 2px 0; }
  .row { display: flex; justify-content: space-between; gap: 8px; }
  .bar { display: block; height: 4px; background: #2457c5; border-radius: 2px; min-width: 2px; }
  .prob { font-variant-numeric: tabular-nums; color: #5b6475; }
  .controls { display: flex; gap: 6px; margin-top: 6px; flex-wrap: wrap; }
  button { font: inherit; padding: 2px 10px; border: 1px solid #2457c5; border-radius: 4px; background: #fff; color: #2457c5; cursor: pointer; }
  button[aria-pressed=true] { background: #2457c5; color: #fff; }
`);

class ShufflenetClassifier extends HTMLElement {
  static observedAttributes = ['src', 'model', 'top', 'heatmap'];

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = [style];
    root.innerHTML = `
      <figure class="card" role="group" aria-label="ShuffleNet classification">
        <span class="stage"><canvas class="picture" role="img" aria-label="The picture to classify"></canvas><canvas class="overlay" hidden aria-hidden="true"></canvas></span>
        <span class="state" role="status" aria-live="polite">Waiting to scroll into view…</span>
        <progress hidden></progress>
        <ol class="top"></ol>
        <span class="controls">
          <button type="button" class="upload" hidden>Choose a picture</button>
          <input type="file" accept="image/*" hidden>
          <button type="button" class="webcam" aria-pressed="false" hidden>Webcam</button>
        </span>
        <video playsinline muted hidden></video>
      </figure>`;
    this.$ = (sel) => root.querySelector(sel);
    this.$('.upload').onclick = () => this.$('input').click();
    this.$('input').onchange = () => {
      const file = this.$('input').files[0];
      this.$('input').value = '';
      if (file) this.run(() => this.pixelsOf(file), file.name);
    };
    this.$('.webcam').onclick = () => (this.stream ? this.stopWebcam() : this.startWebcam());
  }

  connectedCallback() {
    this.$('.upload').hidden = !this.hasAttribute('upload');
    this.$('.webcam').hidden = !this.hasAttribute('webcam');
    visibility.observe(this);
  }

  disconnectedCallback() {
    visibility.unobserve(this);
    this.stopWebcam();
  }

  attributeChangedCallback() {
    if (this.isVisible) this.classifySource();
  }

  get top() { return Math.max(1, Math.min(10, parseInt(this.getAttribute('top') || '3', 10) || 3)); }

  // source is the picture to classify: src, or an <img> child.
  get source() {
    const src = this.getAttribute('src') || this.querySelector('img')?.getAttribute('src');
    return src ? new URL(src, document.baseURI).href : null;
  }

  visible() {
    this.isVisible = true;
    this.classifySource();
  }

  setState(text, isError = false) {
    const el = this.$('.state');
    el.textContent = text;
    el.classList.toggle('error', isError);
  }

  // loadModel starts the shared engine and this widget's model, showing progress.
  async loadModel() {
    const bar = this.$('progress');
    const show = (loaded, total) => { bar.hidden = false; bar.max = total || 1; bar.value = loaded; };
    engine.listeners.add(show);
    this.setState('Loading the model…');
    try {
      return await engine.model(this.getAttribute('model'));
    } catch (e) {
      throw new Error(`The model could not be loaded: ${e.message}`);
    } finally {
      engine.listeners.delete(show);
      bar.hidden = true;
    }
  }

  classifySource() {
    const src = this.source;
    if (!src) {
      this.setState(this.hasAttribute('upload') || this.hasAttribute('webcam') ? 'Choose a picture.' : 'No picture: set src or put an <img> inside.');
      if (this.hasAttribute('upload') || this.hasAttribute('webcam')) this.loadModel().then(() => this.setState('Choose a picture.'), (e) => this.setState(e.message, true));
      return;
    }
    this.run(() => this.fetchPicture(src), src);
  }

  // fetchPicture downloads src, telling a CORS refusal from other failures.
  async fetchPicture(src) {
    let resp;
    try {
      resp = await fetch(src, { mode: 'cors', credentials: 'omit' });
    } catch {
      let reachable = false;
      try { await fetch(src, { mode: 'no-cors', credentials: 'omit' }); reachable = true; } catch {}
      throw new Error(reachable
        ? `The image ${src} could not be read: its server does not allow other sites to use it (no CORS header).`
        : `The image ${src} could not be fetched.`);
    }
    if (!resp.ok) throw new Error(`The image ${src} could not be fetched (HTTP ${resp.status}).`);
    return this.pixelsOf(await resp.blob());
  }

  pixelsOf(blob) {
    return pictureFromBlob(blob, this.$('.picture'), this.info.size, this.info.resize);
  }

  // run loads the model, gets pixels and shows the result, or the error.
  async run(getPixels, label) {
    const token = (this.token = (this.token || 0) + 1); // a newer run supersedes this one
    try {
      this.info = await this.loadModel();
      this.setState('Classifying…');
      const pixels = await getPixels();
      const result = await engine.started.then(({ pool }) => pool.classify(this.info.name, pixels, this.top, this.hasAttribute('heatmap'), false));
      if (token === this.token) this.show(result, label);
    } catch (e) {
      if (token === this.token) this.setState(e.message, true);
    }
  }

  show(result, src) {
    const list = this.$('.top');
    list.replaceChildren(...result.top.map((p) => {
      const li = document.createElement('li');
      li.dataset.index = p.index;
      li.innerHTML = '<span class="row"><span class="label"></span><span class="prob"></span></span><span class="bar" aria-hidden="true"></span>';
      li.querySelector('.label').textContent = p.label;
      li.querySelector('.prob').textContent = `${(100 * p.prob).toFixed(1)}%`;
      li.querySelector('.bar').style.width = `${(100 * p.prob).toFixed(1)}%`;
      return li;
    }));
    const first = result.top[0];
    this.$('.picture').setAttribute('aria-label', `Classified as ${first.label}, ${(100 * first.prob).toFixed(0)}%`);
    this.setState(`${result.ms.toFixed(1)} ms in your browser (${this.info.name})`);
    const overlay = this.$('.overlay');
    overlay.hidden = !result.heatmap;
    if (result.heatmap) drawRGBA(overlay, result.heatmap, this.info.size);
    this.dispatchEvent(new CustomEvent('classified', {
      bubbles: true, composed: true,
      detail: { model: this.info.name, top: result.top, ms: result.ms, src },
    }));
  }

  async startWebcam() {
    const video = this.$('video');
    try {
      this.info = await this.loadModel();
      this.stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
    } catch (e) {
      this.setState(e.name === 'NotAllowedError' ? 'Camera access was denied.' : `The webcam could not start: ${e.message}`, true);
      return;
    }
    video.srcObject = this.stream;
    await video.play();
    this.$('.webcam').setAttribute('aria-pressed', 'true');
    const { pool } = await engine.started;
    const loop = async () => {
      if (!this.stream) return;
      if (video.videoWidth && pool.idle()) {
        const pixels = cropInto(this.$('.picture'), video, video.videoWidth, video.videoHeight, this.info.size, this.info.resize);
        pool.classify(this.info.name, pixels, this.top, this.hasAttribute('heatmap'), true)
          .then((r) => { if (r && this.stream) this.show(r, 'webcam'); }, (e) => this.setState(e.message, true));
      }
      requestAnimationFrame(loop);
    };
    loop();
  }

  stopWebcam() {
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.$('.webcam')?.setAttribute('aria-pressed', 'false');
  }
}

if (!customElements.get('shufflenet-classifier')) {
  customElements.define('shufflenet-classifier', ShufflenetClassifier);
}
