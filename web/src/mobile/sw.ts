/// <reference lib="webworker" />
/**
 * The field app's service worker (scope /m/). Workbox, with the precache list injected at build time
 * (vite.config.ts: only the field app's own files):
 * - the app shell and its chunks from the precache, so the app opens with no network; every /m/… navigation gets
 *   m/index.html (the router takes it from there);
 * - map tiles (/tiles/…): stale-while-revalidate, the last 3,000 seen kept for 30 days, so the map of the streets a
 *   worker walks still draws offline;
 * - the category list: network first, the last answer offline (a report can be made with no network).
 * Everything else — the API, the socket, photos — goes to the network untouched: what the app sends offline waits in
 * its own outbox (IndexedDB), not here.
 * A new version takes over at once (skipWaiting + clientsClaim): the outbox lives in IndexedDB and survives it.
 */
import { clientsClaim } from 'workbox-core'
import { ExpirationPlugin } from 'workbox-expiration'
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching'
import { NavigationRoute, registerRoute } from 'workbox-routing'
import { CacheableResponsePlugin } from 'workbox-cacheable-response'
import { NetworkFirst, StaleWhileRevalidate } from 'workbox-strategies'

declare const self: ServiceWorkerGlobalScope

self.skipWaiting()
clientsClaim()
cleanupOutdatedCaches()
precacheAndRoute(self.__WB_MANIFEST)

registerRoute(new NavigationRoute(createHandlerBoundToURL('/m/index.html'), { allowlist: [/^\/m(\/|$)/], denylist: [/^\/m\/sw\.js$/] }))

registerRoute(
  ({ url }) => url.origin === self.location.origin && url.pathname.startsWith('/tiles/'),
  new StaleWhileRevalidate({
    cacheName: 'gc-tiles',
    plugins: [new CacheableResponsePlugin({ statuses: [200, 204] }), new ExpirationPlugin({ maxEntries: 3000, maxAgeSeconds: 30 * 24 * 3600 })],
  }),
)

registerRoute(
  ({ url }) => url.origin === self.location.origin && url.pathname === '/api/categories',
  new NetworkFirst({ cacheName: 'gc-reference', networkTimeoutSeconds: 4, plugins: [new CacheableResponsePlugin({ statuses: [200] })] }),
)
