// The example page's own script: it shows how a page reads the widgets'
// results, by listening for their "classified" events (and for the
// iframe form's messages).
const list = document.getElementById('events');

function note(source, detail) {
  const li = document.createElement('li');
  const first = detail.top[0];
  li.dataset.source = source;
  li.dataset.index = first.index;
  li.textContent = `${source}: ${first.label} (${(100 * first.prob).toFixed(1)}%) in ${detail.ms.toFixed(1)} ms`;
  list?.append(li);
}

document.addEventListener('classified', (e) => note(e.target.id || e.target.tagName.toLowerCase(), e.detail));
window.addEventListener('message', (e) => {
  if (e.data?.type === 'shufflenet:classified') note('iframe', e.data.detail);
});
