/**
 * Point → region resolution through the real API: single GET latency (p50/p99) and batch POST throughput
 * (points/s). Baseline in the same run: the same points through a pure-JS index (rbush + @turf/turf
 * booleanPointInPolygon over the exported micro-grids, finest level only — it does less than the API).
 *
 *   node --import tsx bench/resolve.ts                      # embedded PostGIS
 *   DATABASE_URL=postgres://… node --import tsx bench/resolve.ts
 */
import { bbox, booleanPointInPolygon } from '@turf/turf'
import RBush from 'rbush'
import { resolvePoint } from '../server/src/repos/resolve.ts'
import { startServer } from '../test/support/server.ts'
import { openBenchDb } from './bench-db.ts'

const SINGLE = Number(process.env.BENCH_SINGLE ?? 2000)
const BATCHES = Number(process.env.BENCH_BATCHES ?? 5)
const BATCH = 10_000

let seed = 42
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
// Inside the demo region's extent: most points land in a micro-grid, some outside.
const point = (): [number, number] => [119.3 + rand() * 0.62, 28.85 + rand() * 0.45]

function pct(ms: number[], p: number) {
  const s = [...ms].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]
}

const { db, dispose } = await openBenchDb()
const { app, url } = await startServer({ db, relayPollMs: 1000 })

// --- API ---
for (let i = 0; i < 50; i++) await fetch(`${url}/api/regions/resolve?lon=${point()[0]}&lat=${point()[1]}`) // warm-up
const single: number[] = []
for (let i = 0; i < SINGLE; i++) {
  const [lon, lat] = point()
  const t0 = performance.now()
  const res = await fetch(`${url}/api/regions/resolve?lon=${lon}&lat=${lat}`)
  await res.arrayBuffer()
  single.push(performance.now() - t0)
}
// The same lookups from a separate client process (the server alone in this one).
const { execFile } = await import('node:child_process')
const remote: number[] = await new Promise((resolve, reject) =>
  execFile(process.execPath, ['--import', 'tsx', new URL('./http-client.ts', import.meta.url).pathname, url, String(SINGLE), '7'], { maxBuffer: 64 << 20 }, (err, out) =>
    err ? reject(err) : resolve(JSON.parse(out)),
  ),
)
// The same lookups without HTTP, straight through the repository (one query each).
const direct: number[] = []
for (let i = 0; i < SINGLE; i++) {
  const [lon, lat] = point()
  const t0 = performance.now()
  await resolvePoint(db, lon, lat)
  direct.push(performance.now() - t0)
}
const batches: Array<Array<[number, number]>> = Array.from({ length: BATCHES }, () => Array.from({ length: BATCH }, point))
let inside = 0
const tb = performance.now()
for (const points of batches) {
  const res = await fetch(`${url}/api/regions/resolve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ points }) })
  const body = (await res.json()) as { results: unknown[] }
  inside += body.results.filter(Boolean).length
}
const batchSec = (performance.now() - tb) / 1000

// --- pure-JS baseline over the exported micro-grids ---
const fc = (await (await fetch(`${url}/api/regions?level=5`)).json()) as { features: any[] }
const tIndex = performance.now()
const index = new RBush<{ minX: number; minY: number; maxX: number; maxY: number; f: any }>()
index.load(
  fc.features.map((f) => {
    const [minX, minY, maxX, maxY] = bbox(f)
    return { minX, minY, maxX, maxY, f }
  }),
)
const indexMs = performance.now() - tIndex
const jsLookup = ([x, y]: [number, number]) => index.search({ minX: x, minY: y, maxX: x, maxY: y }).find((i) => booleanPointInPolygon([x, y], i.f))?.f.id ?? null
const jsSingle: number[] = []
for (let i = 0; i < SINGLE; i++) {
  const p = point()
  const t0 = performance.now()
  jsLookup(p)
  jsSingle.push(performance.now() - t0)
}
const tj = performance.now()
let jsInside = 0
for (const points of batches) for (const p of points) if (jsLookup(p)) jsInside++
const jsSec = (performance.now() - tj) / 1000

console.log(`database: ${db.mode}; ${SINGLE} single lookups; ${BATCHES} × ${BATCH} batch points; ${fc.features.length} micro-grids`)
console.table({
  'API GET /api/regions/resolve, client in the server process': { 'p50 ms': pct(single, 0.5).toFixed(3), 'p99 ms': pct(single, 0.99).toFixed(3), 'points/s': '' },
  'API GET, client in a separate process': { 'p50 ms': pct(remote, 0.5).toFixed(3), 'p99 ms': pct(remote, 0.99).toFixed(3), 'points/s': '' },
  'resolvePoint() in process (one SQL query, no HTTP)': { 'p50 ms': pct(direct, 0.5).toFixed(3), 'p99 ms': pct(direct, 0.99).toFixed(3), 'points/s': '' },
  'API POST /api/regions/resolve, 10,000 per request': { 'p50 ms': '', 'p99 ms': '', 'points/s': Math.round((BATCHES * BATCH) / batchSec) },
  'baseline: rbush + turf in-process (finest level only)': {
    'p50 ms': pct(jsSingle, 0.5).toFixed(3), 'p99 ms': pct(jsSingle, 0.99).toFixed(3), 'points/s': Math.round((BATCHES * BATCH) / jsSec),
  },
})
console.log(`inside coverage: API ${inside}, baseline ${jsInside} of ${BATCHES * BATCH}; baseline index build ${indexMs.toFixed(0)} ms`)

await app.close()
await dispose()
