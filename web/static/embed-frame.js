// The iframe form of the widget, for sites that forbid third-party
// scripts: /embed.html?src=IMAGE_URL&model=NAME&top=K&head=HEAD_URL (and the flags
// heatmap, upload, webcam; shufflenet serve also answers at /embed). The
// result also goes to the embedding page as a message
// {type: 'shufflenet:classified', detail}.
import '/embed.js';

const params = new URLSearchParams(location.search);
const widget = document.createElement('shufflenet-classifier');
for (const name of ['src', 'model', 'top', 'head']) {
  if (params.has(name)) widget.setAttribute(name, params.get(name));
}
for (const flag of ['heatmap', 'upload', 'webcam']) {
  if (params.has(flag)) widget.setAttribute(flag, '');
}
widget.addEventListener('classified', (e) => {
  if (window.parent !== window) window.parent.postMessage({ type: 'shufflenet:classified', detail: e.detail }, '*');
});
document.body.append(widget);
