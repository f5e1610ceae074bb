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

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || !request.url.startsWith('http')) return;
  event.respondWith(HASHED.test(new URL(request.url).pathname) ? cacheFirst(request) : networkFirst(request));
});

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const hit = await cache.match(request);
    if (hit) return hit;
    throw error;
  }
}

// {type: 'shufflenet-loaded', urls}: what a page and its widgets loaded,
// some of it before this worker controlled the page (the first visit).
// Answers {type: 'shufflenet-cached', count} to the page.
self.addEventListener('message', (event) => {
  if (event.data?.type !== 'shufflenet-loaded') return;
  event.waitUntil((async () => {
    const urls = new Set(event.data.urls.filter((u) => u.startsWith('http')));
    const cache = await caches.open(CACHE);
    await Promise.all([...urls].map(async (url) => {
      if (await cache.match(url)) return;
      try {
        const response = await fetch(url);
        if (response.ok) await cache.put(url, response);
      } catch {
        // offline again: it is cached on the next visit
      }
    }));
    // Drop the hashed files of other versions of what this page loaded.
    const origins = new Set([...urls].map((u) => new URL(u).origin));
    for (const request of await cache.keys()) {
      const url = new URL(request.url);
      if (origins.has(url.origin) && HASHED.test(url.pathname) && !urls.has(request.url)) await cache.delete(request);
    }
    event.source?.postMessage({ type: 'shufflenet-cached', count: (await cache.keys()).length });
  })());
});
