// Beep's service worker: keeps the app shell so the app opens with no connection (showing
// the list stored in IndexedDB), and focuses the app when a system notification is tapped.
// Network first, so an updated daemon's app is picked up at once; the cache is the fallback.

const CACHE = 'beep-shell-v2';
const SHELL = [
  '/',
  '/app.css',
  '/manifest.webmanifest',
  '/trust.html',
  '/vendor/socket.io.esm.min.js',
  '/vendor/markdown-it.esm.min.js',
  '/vendor/purify.es.js',
  '/vendor/emoji.js',
  '/js/main.js',
  '/js/nodes.js',
  '/js/backoff.js',
  '/js/card.js',
  '/js/connection.js',
  '/js/fingerprint.js',
  '/js/emoji-tags.js',
  '/js/format.js',
  '/js/list-view.js',
  '/js/local-store.js',
  '/js/markdown.js',
  '/js/pairing-view.js',
  '/js/session.js',
  '/js/system-notify.js',
  '/js/trust.js',
  '/icons/icon.svg',
  '/icons/icon-192.png',
  '/icons/badge-96.png',
];
/** ms to wait for the network before answering from the cache (a LAN that hangs). */
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isShell(url) {
  // Attachments (/file/…) are not the shell: never kept in the cache (the browser's own cache honours their expiry).
  return url.origin === self.location.origin && !url.pathname.startsWith('/api/') && !url.pathname.startsWith('/socket.io/') && !url.pathname.startsWith('/file/') && url.pathname !== '/ca.crt';
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error('network timeout')), NETWORK_TIMEOUT_MS)),
    ]);
    if (response.ok) cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = (await cache.match(request, { ignoreSearch: true })) ?? (request.mode === 'navigate' ? await cache.match('/') : undefined);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || !isShell(url)) return;
  event.respondWith(networkFirst(event.request));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
      return open ? open.focus() : self.clients.openWindow('/');
    }),
  );
});
