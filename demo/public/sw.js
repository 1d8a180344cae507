/**
 * The demo's service worker: caches the app shell so a reload with the server unreachable
 * still opens the board (its data comes from IndexedDB, not from here).
 *
 * - install: caches "/" and every asset that page names (hashed files under /assets/);
 * - navigations: network first (with a time limit), the cached shell when that fails;
 * - /assets/*: cache first (their names change when their content does);
 * - the API (/connect, /actors/…, /openapi.json) is never touched.
 */
const CACHE = "tandem-shell-v1";
const SHELL = "/";
const NETWORK_TIMEOUT_MS = 3000;

const assetsOf = (html) => [...new Set([...html.matchAll(/(?:src|href)="(\/(?:assets\/[^"]+|favicon\.svg))"/g)].map((m) => m[1]))];

async function cacheShell(response) {
  const cache = await caches.open(CACHE);
  const html = await response.clone().text();
  const assets = assetsOf(html);
  await cache.put(SHELL, response);
  const cached = await cache.keys();
  const have = new Set(cached.map((request) => new URL(request.url).pathname));
  await Promise.all(assets.filter((path) => !have.has(path)).map((path) => cache.add(path)));
  // Forget assets of older builds.
  const keep = new Set([SHELL, ...assets]);
  await Promise.all(cached.filter((request) => !keep.has(new URL(request.url).pathname)).map((request) => cache.delete(request)));
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const response = await fetch(SHELL, { cache: "no-cache" });
      if (response.ok) await cacheShell(response);
      await self.skipWaiting();
    })(),
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

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("network timeout")), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}

async function navigate(event) {
  try {
    const response = await withTimeout(fetch(event.request), NETWORK_TIMEOUT_MS);
    if (response.ok && new URL(event.request.url).pathname === SHELL) {
      const updating = cacheShell(response.clone()).catch(() => undefined);
      try {
        event.waitUntil(updating); // keeps the worker alive until the new shell is cached
      } catch {
        // the event is already settled: the update still runs while the worker lives
      }
    }
    return response;
  } catch (error) {
    const cached = await caches.match(SHELL);
    if (cached) return cached;
    throw error;
  }
}

async function asset(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(navigate(event));
    return;
  }
  if (url.pathname.startsWith("/assets/") || url.pathname === "/favicon.svg") event.respondWith(asset(request));
});
