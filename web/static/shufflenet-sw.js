// ShuffleNet's widgets offline: a service worker for the documentation
// site that embeds them. Copy this file to the site's root (a service
// worker must come from the site's own origin) and give one widget of a
// page the attribute service-worker="/shufflenet-sw.js". After a first
// visit, the page and its widgets then work without the network.
//
// What it keeps is always one version of the widget: files with a
// content-hashed name (engine.1f2e3d4c5b.js, the engine, its scripts, the
// weights) never change, so they are served from the cache; the rest (the
// pages, embed.js, models.json, which names the engine and the weights it
// goes with) comes from the network while there is one, and from the
// cache, as last seen, when there is none. After each visit the widget
// tells this worker what it loaded; hashed files from another version are
// dropped, so an old engine never runs with new weights or the reverse.
'use strict';

const CACHE = 'shufflenet-offline-1'; // this worker's own version: a new one drops the old caches
const HASHED = /\.[0-9a-f]{10}\.[a-z0-9]+$/;

self.addEventListener('install', () => self.skipWaiting());

self.addEventListener('activate', (event) => event.waitUntil((async () => {
  for (const name of await caches.keys()) {
    if (name.startsWith('shufflenet-offline-') && name !== CACHE) await caches.delete(name);
  }
  await self.clients.claim();
})()));

// Range requests (audio, video) and anything but GET pass through untouched.
self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || !request.url.startsWith('http') || request.headers.has('range')) return;
  const keep = (response) => {
    // Only whole answers are kept, after the page has its own copy
    // streaming; a full cache or a refusal only means nothing is kept.
    if (response.status === 200) event.waitUntil(caches.open(CACHE).then((c) => c.put(request, response.clone())).catch(() => {}));
    return response;
  };
  event.respondWith(HASHED.test(new URL(request.url).pathname) ? cacheFirst(request, keep) : networkFirst(request, keep));
});

async function cacheFirst(request, keep) {
  return (await caches.match(request, { cacheName: CACHE })) ?? keep(await fetch(request));
}

async function networkFirst(request, keep) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const hit = await caches.match(request, { cacheName: CACHE });
    if (hit) return hit;
    throw error;
  }
  return keep(response);
}

// {type: 'shufflenet-loaded', urls}: what a page and its widgets loaded,
// some of it before this worker controlled the page (the first visit).
// Answers {type: 'shufflenet-cached', count} to the page. Hashed files of
// another version of one it loaded (the same name but for the hash) are
// dropped; other pages' files stay.
self.addEventListener('message', (event) => {
  if (event.data?.type !== 'shufflenet-loaded') return;
  event.waitUntil((async () => {
    const urls = new Set(event.data.urls.filter((u) => u.startsWith('http')));
    const cache = await caches.open(CACHE);
    await Promise.all([...urls].map(async (url) => {
      if (await cache.match(url)) return;
      try {
        const response = await fetch(url);
        if (response.status === 200) await cache.put(url, response);
      } catch {
        // offline again: it is cached on the next visit
      }
    }));
    const unhashed = (u) => { const url = new URL(u); return url.origin + url.pathname.replace(HASHED, (m) => m.slice(11)); };
    const loaded = new Set([...urls].filter((u) => HASHED.test(new URL(u).pathname)).map(unhashed));
    for (const request of await cache.keys()) {
      if (HASHED.test(new URL(request.url).pathname) && !urls.has(request.url) && loaded.has(unhashed(request.url))) {
        await cache.delete(request);
      }
    }
    event.source?.postMessage({ type: 'shufflenet-cached', count: (await cache.keys()).length });
  })());
});
