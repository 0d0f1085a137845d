/**
 * Point → region resolution through the real API: single GET latency (p50/p99) and batch POST throughput
 * (points/s), with the cell index (server/src/repos/resolve.ts) and, in the same run, the SQL-only path it replaced.
 * Baseline in the same run: the same points through a pure-JS index (rbush + @turf/turf booleanPointInPolygon over
 * the exported micro-grids, finest level only — it does less than the API).
 *
 *   node --import tsx bench/resolve.ts                      # embedded PostGIS
 *   DATABASE_URL=postgres://… node --import tsx bench/resolve.ts
 *
 * BENCH_SINGLE (2000) single lookups per row, BENCH_BATCHES (5) batches of 10,000 points per row. Timings on a
 * machine shared with other work are worth little: the load average is printed before and after.
 */
import { execFile } from 'node:child_process'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadavg } from 'node:os'
import { bbox, booleanPointInPolygon } from '@turf/turf'
import RBush from 'rbush'
import { RegionResolver, regionResolver } from '../server/src/repos/resolve/resolver.ts'
import { resolvePoint, resolvePointsJson } from '../server/src/repos/resolve/sql-fallback.ts'
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
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')
const loadBefore = load()

const { db, dispose } = await openBenchDb()
const { app, url } = await startServer({ db, relayPollMs: 1000 })
const resolver = regionResolver(db)
const cells = await resolver.ready()

// Time in the server per request: from the request's arrival to the last byte of the response handed to the kernel.
const serverMs: number[] = []
app.server.on('request', (_req, res) => {
  const t0 = performance.now()
  res.on('finish', () => serverMs.push(performance.now() - t0))
})

/** bench/http-client.ts in a child process. */
const client = (mode: string, count: number, clientSeed: number, target = url) =>
  new Promise<{ ms: number[]; inside: number }>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', new URL('./http-client.ts', import.meta.url).pathname, target, mode, String(count), String(clientSeed)], { maxBuffer: 64 << 20 }, (err, out) =>
      err ? reject(err) : resolve(JSON.parse(out)),
    ),
  )

// The floor of this machine: an empty node:http server (no routing, no validation, no database) in this process.
const empty = http.createServer((_req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end('{"regions":[]}')
})
await new Promise<void>((resolve) => empty.listen(0, '127.0.0.1', resolve))
const emptyUrl = `http://127.0.0.1:${(empty.address() as AddressInfo).port}`

/** `wrk --latency` for 10 s on one connection; null when wrk is not installed. */
function runWrk(target: string): Promise<{ p50: number; p99: number; requests: number } | null> {
  const script = new URL('./resolve-wrk.lua', import.meta.url).pathname
  return new Promise((resolve) =>
    execFile('wrk', ['-t1', '-c1', '-d10s', '--latency', '-s', script, target], (err, out) => {
      if (err) return resolve(null)
      const ms = (q: string) => {
        const m = new RegExp(`^\\s*${q}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out)
        return m ? Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 } as const)[m[2] as 'us' | 'ms' | 's'] : NaN
      }
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN)
      resolve({ p50: ms('50'), p99: ms('99'), requests })
    }),
  )
}

const rows: Record<string, { 'p50 ms': string; 'p99 ms': string; 'points/s': string | number }> = {}
const latency = (name: string, ms: number[]) => (rows[name] = { 'p50 ms': pct(ms, 0.5).toFixed(3), 'p99 ms': pct(ms, 0.99).toFixed(3), 'points/s': '' })
const throughput = (name: string, points: number, ms: number) => (rows[name] = { 'p50 ms': '', 'p99 ms': '', 'points/s': Math.round((points / ms) * 1000) })

// --- single lookups ---
// Client in the server's process, through fetch (as measured before).
for (let i = 0; i < 500; i++) await (await fetch(`${url}/api/regions/resolve?lon=${point()[0]}&lat=${point()[1]}`)).arrayBuffer()
const single: number[] = []
for (let i = 0; i < SINGLE; i++) {
  const [lon, lat] = point()
  const t0 = performance.now()
  await (await fetch(`${url}/api/regions/resolve?lon=${lon}&lat=${lat}`)).arrayBuffer()
  single.push(performance.now() - t0)
}
latency('GET, fetch client in the server process', single)
const remoteFetch = await client('get-fetch', SINGLE, 7)
latency('GET, fetch client in another process', remoteFetch.ms)
latency('GET, node:http keep-alive client in another process', (await client('get-http', SINGLE, 7)).ms)
serverMs.length = 0
latency('GET, hand-written HTTP/1.1 client in another process', (await client('get-raw', SINGLE, 7)).ms)
latency('  of which in the server (request in → response out)', serverMs.slice(-SINGLE))
latency('  floor: an empty node:http server, node:http client', (await client('get-http', SINGLE, 7, emptyUrl)).ms)
latency('  floor: an empty node:http server, hand-written client', (await client('get-raw', SINGLE, 7, emptyUrl)).ms)
// wrk (Debian's wrk, if installed), one connection: the standard HTTP load generator, as a check on our own client.
const wrk = await runWrk(url)
if (wrk) {
  rows['GET, wrk, 1 thread, 1 connection, 10 s (another process)'] = { 'p50 ms': wrk.p50.toFixed(3), 'p99 ms': wrk.p99.toFixed(3), 'points/s': '' }
  const floor = await runWrk(emptyUrl)
  if (floor) rows['  floor: an empty node:http server, wrk'] = { 'p50 ms': floor.p50.toFixed(3), 'p99 ms': floor.p99.toFixed(3), 'points/s': '' }
}
empty.close()
// Without HTTP: the resolver (cell index + version read, or the exact test) and the SQL-only path it replaced.
const direct: number[] = []
const strictMs: number[] = []
const sqlOnly: number[] = []
// The previous way, for comparison: no LISTEN, so every request reads region_version.
const strict = new RegionResolver(db, { listen: false })
await strict.ready()
for (const [out, f] of [
  [direct, (x: number, y: number) => resolver.resolveOne(x, y)],
  [strictMs, (x: number, y: number) => strict.resolveOne(x, y)],
  [sqlOnly, (x: number, y: number) => resolvePoint(db, x, y)],
] as const) {
  for (let i = 0; i < SINGLE + 200; i++) {
    const [lon, lat] = point()
    const t0 = performance.now()
    await f(lon, lat)
    if (i >= 200) out.push(performance.now() - t0)
  }
}
latency('resolver.resolveOne() in process (no HTTP)', direct)
latency('  the same, reading region_version per request (no LISTEN: the previous way)', strictMs)
latency('resolvePoint() in process (SQL alone: the old path)', sqlOnly)

// --- batches of 10,000 ---
const batches: Array<Array<[number, number]>> = Array.from({ length: BATCHES }, () => Array.from({ length: BATCH }, point))
await fetch(`${url}/api/regions/resolve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ points: batches[0] }) })
let inside = 0
let answerBytes = 0
const apiResults: unknown[][] = []
const tb = performance.now()
for (const points of batches) {
  const res = await fetch(`${url}/api/regions/resolve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ points }) })
  answerBytes += Number(res.headers.get('content-length'))
  const body = (await res.json()) as { results: unknown[] }
  inside += body.results.filter(Boolean).length
  apiResults.push(body.results)
}
throughput('POST 10,000 per request, fetch client in the server process', BATCHES * BATCH, performance.now() - tb)
serverMs.length = 0
const remoteBatch = await client('post-http', BATCHES, 9)
const serverBatch = serverMs.slice(-BATCHES)
throughput('POST 10,000 per request, node:http client in another process', BATCHES * BATCH, remoteBatch.ms.reduce((a, b) => a + b, 0))
throughput('  of which in the server', BATCHES * BATCH, serverBatch.reduce((a, b) => a + b, 0))
const tr = performance.now()
for (const points of batches) await resolver.resolveJson(points)
throughput('resolver.resolveJson() in process (no HTTP)', BATCHES * BATCH, performance.now() - tr)
const sqlResults: string[] = []
const ts = performance.now()
for (const points of batches) sqlResults.push(await resolvePointsJson(db, points))
throughput('resolvePointsJson() in process (SQL alone: the old path)', BATCHES * BATCH, performance.now() - ts)
// The API (cells + exact test) and SQL alone, point by point.
let differ = 0
sqlResults.forEach((text, b) =>
  (JSON.parse(text) as unknown[]).forEach((chain, i) => JSON.stringify(chain) !== JSON.stringify(apiResults[b][i]) && differ++),
)

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
rows['baseline: rbush + turf in process (finest level only)'] = {
  'p50 ms': pct(jsSingle, 0.5).toFixed(3), 'p99 ms': pct(jsSingle, 0.99).toFixed(3), 'points/s': Math.round((BATCHES * BATCH) / jsSec),
}

console.log(`database: ${db.mode}; ${SINGLE} single lookups per row; ${BATCHES} × ${BATCH} batch points; ${fc.features.length} micro-grids`)
console.log(
  `cell index: cells of 2^-${cells.level}°, ${cells.rows} rows, ${cells.stats.runs} runs, ${cells.stats.regions} regions in ${cells.stats.pieces} pieces; ` +
    `built in ${Math.round(resolver.stats.lastBuildMs ?? 0)} ms (reading the pieces included)`,
)
console.table(rows)
const s = resolver.stats
console.log(`reads of region_version by the API's resolver ${s.versionReads} (notifications ${s.notifications})`)
console.log(`points answered from cells ${s.fromCells}, by the exact test ${s.exact} (${((100 * s.exact) / (s.fromCells + s.exact)).toFixed(1)} %), by SQL alone ${s.sqlOnly}`)
console.log(`inside coverage: API ${inside}, baseline ${jsInside} of ${BATCHES * BATCH}; API and SQL alone differ on ${differ} points; baseline index build ${indexMs.toFixed(0)} ms`)
console.log(`answer to a batch: ${(answerBytes / BATCHES / 1e6).toFixed(2)} MB`)
console.log(`load average (1, 5, 15 min) before ${loadBefore}, after ${load()}`)

await app.close()
await dispose()
