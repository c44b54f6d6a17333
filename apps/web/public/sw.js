/*
 * Yoke's service worker: it caches the app shell only (the pages' HTML, the built scripts and styles, the icons),
 * so the installed app opens at once and offline it shows its shell. API responses and the socket are never
 * cached or touched: every request under /api/ or /socket.io/ goes straight to the network.
 */
const SHELL_CACHE = 'yoke-shell-v1';
const PAGES = ['/', '/session/', '/approvals/', '/admin/', '/audit/', '/usage/', '/join/'];
const STATIC = ['/manifest.webmanifest', '/icons/icon.svg', '/icons/icon-192.png', '/icons/icon-512.png'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll([...PAGES, ...STATIC]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== SHELL_CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isShellAsset(url) {
  return url.pathname.startsWith('/_next/static/') || STATIC.includes(url.pathname);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/socket.io/')) return;

  if (request.mode === 'navigate') {
    // The network first, so a new build shows at once; the cached page (keyed without its query) when offline.
    const page = PAGES.includes(url.pathname) ? url.pathname : null;
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (page && response.ok) {
            const copy = response.clone();
            void caches.open(SHELL_CACHE).then((cache) => cache.put(page, copy));
          }
          return response;
        })
        .catch(() => caches.match(page ?? '/').then((hit) => hit ?? Response.error())),
    );
    return;
  }

  if (isShellAsset(url)) {
    // Built files are named by their content: the cached copy is the right one.
    event.respondWith(
      caches.match(request).then(
        (hit) =>
          hit ??
          fetch(request).then((response) => {
            if (response.ok) {
              const copy = response.clone();
              void caches.open(SHELL_CACHE).then((cache) => cache.put(request, copy));
            }
            return response;
          }),
      ),
    );
  }
});

/** A notification (an approval waiting, a turn ended) opens its page in an open Yoke window, or a new one. */
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url ?? '/', self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
      if (open) return open.focus().then((w) => w?.navigate(target));
      return self.clients.openWindow(target);
    }),
  );
});
