// The report page's service worker (scope /): keeps the page shell, its scripts and the
// category list so that a report can be made with no signal, and sends saved reports by
// Background Sync (outbox.js). Nothing else is cached: never a receipt page, never a report.
import { SYNC_TAG, sendAll } from "{{ outbox }}";

const CACHE = "streetsafe-shell-{{ version }}";
const SHELL = {{ shell|tojson }};
const API = {{ api|tojson }};
const NETWORK_WAIT_MS = 4000; // in a dead spot a request may hang: the kept copy after this
// The categories come in the page's language (Accept-Language): one kept copy for each.
const CATEGORIES = `${API}/categories`;
const LANGUAGES = ["en", "cy"];

function keyOf(path, language) {
  return path === CATEGORIES ? `${path}?lang=${language}` : path;
}

function shellRequests() {
  return SHELL.flatMap((path) => (path === CATEGORIES ? LANGUAGES : [null]).map((language) => [
    keyOf(path, language),
    new Request(path, { credentials: "omit", cache: "no-store", headers: language ? { "Accept-Language": language } : {} }),
  ]));
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => Promise.all(shellRequests().map(async ([key, request]) => {
        const response = await fetch(request);
        if (!response.ok) throw new Error(`${request.url}: ${response.status}`);
        await cache.put(key, response);
      })))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

function withinWait(promise) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error("slow")), NETWORK_WAIT_MS))]);
}

// The network first (the page stays current), the kept copy when there is none.
async function shell(request, path) {
  const cache = await caches.open(CACHE);
  const key = keyOf(path, request.headers.get("Accept-Language") === "cy" ? "cy" : "en");
  try {
    const response = await withinWait(fetch(request));
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch {
    return (await cache.match(key, { ignoreVary: true })) || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!SHELL.includes(url.pathname)) return;
  event.respondWith(shell(event.request, url.pathname));
});

self.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(
    (async () => {
      const { sent, stopped } = await sendAll(API, { fromBackground: true });
      for (const client of await self.clients.matchAll({ type: "window" })) {
        client.postMessage({ type: "sent", receipts: sent });
      }
      if (stopped) throw new Error(stopped); // the browser tries again later
    })(),
  );
});
