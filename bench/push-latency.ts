/**
 * Report → dashboard latency under load: open-loop reports (POST /api/cases) at a fixed rate while 200 dashboards
 * follow the event stream; for every (dashboard, report) pair, the time from sending the POST until that dashboard
 * applied the `case:created` event. Also counted: events lost (a 201 report some dashboard never applied) and
 * duplicates (an event a dashboard received again, dropped by the stream client, or applied twice).
 *
 *   DATABASE_URL=postgres://… node --import tsx bench/push-latency.ts     # scratch database on that server
 *   node --import tsx bench/push-latency.ts                              # embedded PostGIS (in the server process)
 *   BENCH_RATES=100,500,1000 BENCH_SOCKETS=200 BENCH_SECONDS=10 BENCH_FRAME_MS=100 …
 *
 * Processes: the server runs alone in a child process (bench/push-server.ts); this process is the load generator
 * and all the dashboards. PostgreSQL is a third party on the same two cores. The send time and the receive time are
 * taken in this one process, on one clock. CPU time of each process (and of this database's PostgreSQL backends)
 * is read from /proc for the "where the time goes" columns. BENCH_DUMP=/path/prefix writes every report's times (sent,
 * answered, received by each dashboard; performance.now() + timeOrigin) to one JSON file per rate, for a closer look.
 *
 * Two kinds of dashboard (BENCH_CLIENTS=full,light):
 *   full   real socket.io-client sockets running shared/protocol/stream.ts (the web app's client): every frame is
 *          parsed and every event applied, as a wall would — 200 of them in one process on the server's machine;
 *   light  the same socket.io-client sockets (handshake, heartbeats, acks, events:resume), but frames are not
 *          parsed: they are scanned for the bench's markers. What a wall's own CPU costs is then left out: the figure
 *          is the server's (on a real deployment each wall parses its frames on its own machine).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import pg from 'pg'
import { io as connect } from 'socket.io-client'
import * as sioParser from 'socket.io-parser'
import { attachEventStream, type StreamSocket } from '../shared/protocol/stream.ts'
import { migrate } from '../server/src/db/migrate.ts'
import { openDb } from '../server/src/db/open-db.ts'
import { syncReferenceData } from '../server/src/db/reference.ts'
import { seedDemoRegions } from '../server/src/db/seed.ts'
import { createScratchDatabase } from '../test/support/scratch-db.ts'
import { createReporter } from './push-reporter.ts'

const RATES = (process.env.BENCH_RATES ?? '100,500,1000').split(',').map(Number)
const CLIENTS = (process.env.BENCH_CLIENTS ?? 'full,light').split(',') as Array<'full' | 'light'>
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 200)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const FRAME_MS = Number(process.env.BENCH_FRAME_MS ?? 100)
/** After the last report: how long to wait for every dashboard to have everything before counting it lost. */
const DRAIN_MS = 15_000
const MAX_IN_FLIGHT = 1024

// ---- database and server process ---------------------------------------------------------------------------------

/** Where reports come from (BENCH_SPOTS): spread (default) or clustered, see bench/push-reporter.ts. */
const SPOTS = (process.env.BENCH_SPOTS ?? 'spread') as 'spread' | 'clustered'

const scratch = process.env.DATABASE_URL ? await createScratchDatabase(process.env.DATABASE_URL, 'gc_bench') : undefined
const dataDir = scratch ? '' : mkdtempSync(join(tmpdir(), 'gc-bench-push-'))
const report = await (async () => {
  const db = await openDb({ databaseUrl: scratch?.url, dataDir })
  await migrate(db)
  await syncReferenceData(db)
  await seedDemoRegions(db)
  if (db.mode === 'postgres') await db.query('ANALYZE')
  const { rows } = await db.query<{ lon: number; lat: number }>(
    `SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(geom) AS p FROM regions WHERE level = 5 AND valid_to IS NULL ORDER BY id) s`,
  )
  await db.close()
  return createReporter({ mode: SPOTS, spots: rows.map((r) => [r.lon, r.lat]) })
})()

const admin = scratch ? new pg.Client({ connectionString: scratch.url }) : undefined
await admin?.connect()

const server: ChildProcess = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), '--import', 'tsx', new URL('./push-server.ts', import.meta.url).pathname], {
  env: { ...process.env, BENCH_DATABASE_URL: scratch?.url ?? '', BENCH_DATA_DIR: dataDir, BENCH_FRAME_MS: String(FRAME_MS) },
  stdio: ['pipe', 'pipe', 'inherit'],
})
// A bench that fails must not leave its server running.
process.on('exit', () => server.kill('SIGKILL'))
const serverLines = createInterface({ input: server.stdout! })
const nextLine = () => new Promise<string>((resolve) => serverLines.once('line', resolve))
const { port } = JSON.parse(await nextLine()) as { port: number }
const url = `http://127.0.0.1:${port}`

interface ServerStats {
  hub: { frames: number; broadcasts: number }
  relay: { reads: number; gapsSeen: number; seqsSkipped: number }
  /** services/intake-group.ts: statements and reports so far. */
  intake?: { statements: number; reports: number; largest: number }
  /** The server's event-loop delay since the stats before (ms). */
  loopMs?: { p50: number; p99: number; max: number }
}
async function serverStats(): Promise<ServerStats> {
  server.stdin!.write('stats\n')
  return JSON.parse(await nextLine())
}

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
/** CPU seconds of each of this database's PostgreSQL backends (the server's pool and LISTEN connection). */
async function pgCpu(): Promise<Map<number, number>> {
  const out = new Map<number, number>()
  if (!admin) return out
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')
  for (const { pid } of rows) {
    try {
      out.set(pid, cpuSeconds(pid))
    } catch {
      // gone meanwhile
    }
  }
  return out
}
/** CPU the backends used between two readings (a backend that came meanwhile counts whole). */
function pgCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0
  for (const [pid, t] of after) sum += t - (before.get(pid) ?? 0)
  return sum
}
/** Busy CPU seconds of the whole machine. */
function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100
}

// ---- dashboards ---------------------------------------------------------------------------------------------------

interface Run {
  id: number
  /** receivedAt[socket][report]: when that dashboard had it (performance.now() of this thread; 0: not yet). */
  receivedAt: Float64Array[]
  /** Dashboards that have each report so far. */
  got: Uint16Array
  deliveries: number
  twice: number
}
let run: Run | undefined
const MARK = /^bench (\d+) #(\d+)$/
/** The same mark as it appears in a raw frame (light dashboards). */
const LIGHT_MARK = '"description":"bench '

/** Frames reach a light dashboard as the raw packet: nothing parses them (everything else is parsed as usual). */
class LightDecoder extends sioParser.Decoder {
  add(obj: unknown): void {
    if (typeof obj === 'string' && obj.startsWith('2["events:frame",')) {
      ;(this as unknown as { emitReserved(ev: string, p: sioParser.Packet): void }).emitReserved('decoded', {
        type: sioParser.PacketType.EVENT,
        nsp: '/',
        data: ['events:frame', obj],
      })
      return
    }
    super.add(obj)
  }
}
const lightParser = { protocol: sioParser.protocol, PacketType: sioParser.PacketType, Encoder: sioParser.Encoder, Decoder: LightDecoder }

function noteReport(k: number, id: number, r: number): void {
  if (!run || id !== run.id) return
  const at = run.receivedAt[k]
  if (at[r]) {
    run.twice++
    return
  }
  at[r] = performance.now()
  run.got[r]++
  run.deliveries++
}

let sockets: StreamSocket[] = []
let streams: Array<ReturnType<typeof attachEventStream>> = []

async function connectDashboards(kind: 'full' | 'light'): Promise<void> {
  for (let i = 0; i < SOCKETS; i++) {
    const k = i
    if (kind === 'light') {
      const socket = connect(url, { transports: ['websocket'], forceNew: true, reconnection: true, parser: lightParser }) as unknown as StreamSocket
      // Scan the raw frame for "description":"bench <run> #<report>" (the compact wire form renames nothing, and a
      // description is never left out: shared/protocol/wire.ts).
      // Digits are read off the string in place (no slice, no regular expression): the 200 dashboards share this one
      // process, and what each spends on a frame delays the next one's clock reading.
      ;(socket as unknown as { on(ev: string, f: (raw: string) => void): void }).on('events:frame', (raw) => {
        for (let at = raw.indexOf(LIGHT_MARK); at >= 0; at = raw.indexOf(LIGHT_MARK, at + LIGHT_MARK.length)) {
          let p = at + LIGHT_MARK.length
          let runId = 0
          let report = 0
          for (let c = raw.charCodeAt(p); c >= 48 && c <= 57; c = raw.charCodeAt(++p)) runId = runId * 10 + c - 48
          if (raw.charCodeAt(p) !== 32 || raw.charCodeAt(p + 1) !== 35) continue // " #"
          p += 2
          const start = p
          for (let c = raw.charCodeAt(p); c >= 48 && c <= 57; c = raw.charCodeAt(++p)) report = report * 10 + c - 48
          if (p > start && raw.charCodeAt(p) === 34) noteReport(k, runId, report)
        }
      })
      sockets.push(socket)
      continue
    }
    const socket: StreamSocket = connect(url, { transports: ['websocket'], forceNew: true, reconnection: true })
    let position: number | null = null
    const stream = attachEventStream(socket, {
      getPosition: () => position,
      setPosition: (s) => (position = s),
      // No state to load: a bench dashboard starts from the server's position (a snapshot of one case).
      snapshot: async () => {
        const res = await fetch(`${url}/api/cases?status=open&limit=1`)
        return ((await res.json()) as { seq: number }).seq
      },
      apply(e) {
        if (e.kind !== 'case:created') return
        const m = MARK.exec(e.case.description)
        if (m) noteReport(k, Number(m[1]), Number(m[2]))
      },
    })
    sockets.push(socket)
    streams.push(stream)
  }
  if (kind === 'light') {
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => (s.connected ? resolve() : s.once('connect', () => resolve())))))
    await Promise.all(sockets.map((s) => s.timeout(30_000).emitWithAck('events:resume', {})))
  } else await Promise.all(streams.map((s) => s.whenLive()))
}

function disconnectDashboards(): void {
  for (const s of streams) s.detach()
  for (const s of sockets) s.disconnect()
  sockets = []
  streams = []
}

// ---- load ---------------------------------------------------------------------------------------------------------

function quantile(sorted: Float64Array, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN
}

async function measure(rate: number, id: number) {
  const n = Math.round(rate * SECONDS)
  const r: Run = { id, receivedAt: Array.from({ length: SOCKETS }, () => new Float64Array(n)), got: new Uint16Array(n), deliveries: 0, twice: 0 }
  run = r
  const dup0 = streams.reduce((a, s) => a + s.stats.duplicates, 0)
  const before = { stats: await serverStats(), server: cpuSeconds(server.pid!), pg: await pgCpu(), client: process.cpuUsage(), machine: machineBusySeconds(), t: performance.now() }
  const sent = await report({ url, runId: id, rate, n, maxInFlight: MAX_IN_FLIGHT })
  const ok = (k: number) => sent.status[k] === 201
  let okCount = 0
  for (let k = 0; k < n; k++) if (ok(k)) okCount++
  const failed = n - sent.skipped - okCount
  // Everything every dashboard should have: wait for it (or DRAIN_MS), then count what never came.
  const tDrain = performance.now()
  const complete = () => {
    for (let k = 0; k < n; k++) if (ok(k) && r.got[k] < SOCKETS) return false
    return true
  }
  while (!complete() && performance.now() - tDrain < DRAIN_MS) await new Promise((res) => setTimeout(res, 20))
  const wall = (performance.now() - before.t) / 1000
  const after = { stats: await serverStats(), server: cpuSeconds(server.pid!), pg: await pgCpu(), client: process.cpuUsage(before.client), machine: machineBusySeconds() }
  run = undefined
  let lost = 0
  const lat: number[] = []
  const after201: number[] = []
  const postMs: number[] = []
  for (let k = 0; k < n; k++) {
    if (!ok(k)) continue
    const s0 = sent.sentAt[k]
    const a0 = sent.answeredAt[k]
    postMs.push(a0 - s0)
    for (const at of r.receivedAt) {
      if (!at[k]) {
        lost++
        continue
      }
      lat.push(at[k] - s0)
      if (at[k] > a0) after201.push(at[k] - a0)
    }
  }
  if (process.env.BENCH_DUMP) {
    const { writeFileSync } = await import('node:fs')
    writeFileSync(`${process.env.BENCH_DUMP}-${rate}-${id}.json`, JSON.stringify({ sentAt: [...sent.sentAt], answeredAt: [...sent.answeredAt], status: [...sent.status], receivedAt: r.receivedAt.map((a) => [...a]) }))
  }
  const sorted = (xs: number[]) => Float64Array.from(xs).sort()
  const [latS, postS, after201S] = [sorted(lat), sorted(postMs), sorted(after201)]
  const cores = cpus().length
  return {
    'reports/s (asked/sent)': `${rate} / ${Math.round((n - sent.skipped) / sent.sendSeconds)}`,
    'reports ok': `${okCount}${failed ? ` (${failed} failed)` : ''}${sent.skipped ? ` (${sent.skipped} not sent: ${MAX_IN_FLIGHT} in flight)` : ''}`,
    deliveries: r.deliveries,
    'p50 ms': quantile(latS, 0.5).toFixed(1),
    'p90 ms': quantile(latS, 0.9).toFixed(1),
    'p99 ms': quantile(latS, 0.99).toFixed(1),
    'max ms': latS.length ? latS[latS.length - 1].toFixed(1) : 'n/a',
    lost,
    duplicates: r.twice + streams.reduce((a, s) => a + s.stats.duplicates, 0) - dup0,
    'POST p50/p99 ms': `${quantile(postS, 0.5).toFixed(1)} / ${quantile(postS, 0.99).toFixed(1)}`,
    '201→dashboard p50/p99 ms': `${quantile(after201S, 0.5).toFixed(1)} / ${quantile(after201S, 0.99).toFixed(1)}`,
    'frames/socket/s': ((after.stats.hub.frames - before.stats.hub.frames) / SOCKETS / wall).toFixed(1),
    // (An older server, compared with this bench, may not report these.)
    'reports/statement (max)': after.stats.intake && before.stats.intake
      ? `${((after.stats.intake.reports - before.stats.intake.reports) / Math.max(1, after.stats.intake.statements - before.stats.intake.statements)).toFixed(1)} (${after.stats.intake.largest})`
      : 'n/a',
    'server loop delay p99/max ms': after.stats.loopMs ? `${after.stats.loopMs.p99.toFixed(0)} / ${after.stats.loopMs.max.toFixed(0)}` : 'n/a',
    'relay reads/s, gaps': `${Math.round((after.stats.relay.reads - before.stats.relay.reads) / wall)}, ${after.stats.relay.gapsSeen - before.stats.relay.gapsSeen}`,
    'CPU % server/pg/client/other': [
      (after.server - before.server) / wall,
      pgCpuBetween(before.pg, after.pg) / wall,
      (after.client.user + after.client.system) / 1e6 / wall,
      (after.machine - before.machine - (after.server - before.server) - pgCpuBetween(before.pg, after.pg) - (after.client.user + after.client.system) / 1e6) / wall,
    ]
      .map((x) => `${Math.round(x * 100)}`)
      .join(' / ') + ` of ${cores * 100}`,
  }
}

const db = scratch ? 'PostgreSQL (pg)' : 'embedded PGlite (in the server process)'
console.log(`push latency: ${db}; ${SOCKETS} sockets (one client process), ${SECONDS} s per rate, frames every ${FRAME_MS} ms, report points ${SPOTS}, ${cpus().length} cores`)
const rows: Record<string, unknown> = {}
let runId = 0
for (const kind of CLIENTS) {
  await connectDashboards(kind)
  // Warm-up: compile both sides, fill the pools.
  await measure(20, ++runId)
  for (const rate of RATES) {
    await new Promise((res) => setTimeout(res, 2000))
    // A rate may be listed more than once (BENCH_RATES=500,500,500): each run gets its own row.
    let key = `${kind} ${rate}/s`
    for (let k = 2; key in rows; k++) key = `${kind} ${rate}/s #${k}`
    rows[key] = await measure(rate, ++runId)
  }
  disconnectDashboards()
  await new Promise((res) => setTimeout(res, 1000))
}
console.table(rows)
if (process.env.BENCH_PROFILE === '1') {
  server.stdin!.write('profile\n')
  await new Promise((r) => setTimeout(r, 500))
}

server.kill('SIGTERM')
await new Promise((r) => server.once('exit', r))
await admin?.end()
await scratch?.drop()
if (dataDir) rmSync(dataDir, { recursive: true, force: true })
process.exit(0)
