/**
 * MapLibre's worker for the field app, run from a blob: URL made of the bundled file. A dedicated worker started
 * from a script URL is matched against service-worker scopes by that URL — /assets/…, outside the field app's /m/
 * scope — so its tile requests would bypass the service worker (no tiles kept, no map offline). A worker started
 * from a blob: URL belongs to the page that made it and goes through the page's service worker. The script itself
 * comes from the precache when there is no network. Imported (top-level await) before the first map is made.
 */
import { MAP_WORKER_URL, setMapWorkerUrl } from '../../map/create-map.ts'

try {
  const res = await fetch(MAP_WORKER_URL)
  if (!res.ok) throw new Error(String(res.status))
  const blob = new Blob([await res.arrayBuffer()], { type: 'text/javascript' })
  setMapWorkerUrl(URL.createObjectURL(blob))
} catch (err) {
  // The bundled URL, as on the wall: the map works online, only its tiles are not kept for offline use.
  console.warn('[field] map worker from its URL:', err instanceof Error ? err.message : err)
}
