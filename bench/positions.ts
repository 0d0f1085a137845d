/**
 * Live positions at 2,000 a second: time from a device sending a fix (POST /api/workers/positions) until every
 * dashboard following the wall has it (the `workers:moved` push), with the whole path in between — validation, the
 * spatial engine tagging each fix with its finest region, one transaction (track rows, live positions, one event per
 * street, NOTIFY), relay, frame, socket.
 *
 *   DATABASE_URL=postgres://… node --import tsx bench/positions.ts     # real PostgreSQL (a scratch database)
 *   node --import tsx bench/positions.ts                               # embedded PostGIS
 *
 * The server runs in this process on a random port; the devices and the dashboards run in a child process (this
 * file again, BENCH_ROLE=load), so neither side's event loop is measured as the other's. Fixes come from the patrol
 * model (server/src/simulator/patrol.ts) with every one of the 19,160 staff on duty, walking their own grid; DEVICES
 * gateways each own a contiguous slice of the staff (hence a few streets) and send one batch a second, staggered, so
 * RATE fixes arrive each second, each worker reporting about every 10 s.
 *
 * Phases: a short warm-up, then RATE/s for DURATION_S with tagging, then the same positions through a bench-only
 * route that skips the spatial engine (`tag: false`: the same service, transaction, events and push) — the baseline.
 * Afterwards: every fix stored exactly once, every fix received by every dashboard, and every stored grid equal to
 * the exact SQL rule (ST_Covers on region_parts, finest level, lowest id).
 *
 * Environment: BENCH_RATE (2000), BENCH_DURATION_S (20), BENCH_DEVICES (20), BENCH_CLIENTS (4), BENCH_WARMUP_S (3),
 * BENCH_BASELINE_FIRST (0).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { io as connect, type Socket } from 'socket.io-client'

const RATE = Number(process.env.BENCH_RATE ?? 2000)
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 20)
const DEVICES = Number(process.env.BENCH_DEVICES ?? 20)
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4)
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 3)

/** One second of one device: the workers it reports and where they are. */
type Batch = { ids: string[]; lon: number[]; lat: number[] }
/** seconds[s][device] */
type Plan = Batch[][]

interface PhaseRequest {
  name: string
  path: string
  plan: Plan
}

interface PhaseResult {
  name: string
  sent: number
  /** Positions per second achieved (first send to last send). */
  rate: number
  httpErrors: number
  /** Per position: send → received by every dashboard, ms. */
  push: number[]
  /** Per batch: HTTP round trip, ms. */
  http: number[]
  /** Per dashboard: positions received (of `sent`). */
  received: number[]
  startedAt: string
  endedAt: string
}

function quantiles(ms: number[]) {
  const s = Float64Array.from(ms).sort()
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN)
  return { n: s.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s.length ? s[s.length - 1] : NaN }
}

// ---- the child: devices and dashboards ------------------------------------------------------------------------------

async function loadRole(): Promise<void> {
  const send = (m: unknown) => process.send!(m)
  const url = process.env.BENCH_URL!
  type Client = Socket
  const clients: Client[] = []
  /** key workerId|tMillis → send time (performance.now) and how many dashboards have it. */
  const pending = new Map<string, { t0: number; got: number }>()
  let phase: { push: number[]; received: number[] } | null = null

  const onMoved = (ci: number) => (e: { positions: Array<[string, number, number, number, string, string | null]> }) => {
    const now = performance.now()
    if (!phase) return
    for (const p of e.positions) {
      const key = `${p[0]}|${p[3]}`
      const rec = pending.get(key)
      if (!rec) continue
      phase.received[ci]++
      if (++rec.got === CLIENTS) {
        phase.push.push(now - rec.t0)
        pending.delete(key)
      }
    }
  }
  for (let i = 0; i < CLIENTS; i++) {
    const s: Client = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true })
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve())
      s.once('connect_error', reject)
    })
    const handler = onMoved(i)
    s.on('events:frame', (frame: Array<{ kind: string }>) => {
      for (const e of frame) if (e.kind === 'workers:moved') handler(e as never)
    })
    // Follow the wall (everything) from now on.
    const ack = await s.emitWithAck('events:resume', {})
    if (!ack?.ok) throw new Error(`events:resume refused: ${JSON.stringify(ack)}`)
    clients.push(s)
  }

  process.on('message', async (msg: PhaseRequest | { done: true }) => {
    if ('done' in msg) {
      for (const c of clients) c.disconnect()
      process.exit(0)
    }
    const { plan, path, name } = msg
    const result: PhaseResult = { name, sent: 0, rate: 0, httpErrors: 0, push: [], http: [], received: new Array(CLIENTS).fill(0), startedAt: new Date().toISOString(), endedAt: '' }
    phase = result
    pending.clear()
    const devices = plan[0].length
    const start = performance.now() + 200
    let first = Infinity
    let last = 0
    const sends: Promise<void>[] = []
    await new Promise<void>((allScheduled) => {
      let scheduled = 0
      const total = plan.length * devices
      plan.forEach((second, s) =>
        second.forEach((batch, d) => {
          const at = start + s * 1000 + (d * 1000) / devices
          setTimeout(() => {
            const t0 = performance.now()
            first = Math.min(first, t0)
            last = Math.max(last, t0)
            const tMillis = Date.now()
            const positions = batch.ids.map((id, i) => {
              pending.set(`${id}|${tMillis}`, { t0, got: 0 })
              return { workerId: id, lon: batch.lon[i], lat: batch.lat[i], at: new Date(tMillis).toISOString() }
            })
            result.sent += positions.length
            sends.push(
              fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ positions }) })
                .then(async (res) => {
                  await res.arrayBuffer()
                  if (res.status !== 200) result.httpErrors++
                  result.http.push(performance.now() - t0)
                })
                .catch(() => void result.httpErrors++),
            )
            if (++scheduled === total) allScheduled()
          }, Math.max(0, at - performance.now()))
        }),
      )
    })
    await Promise.all(sends)
    // Let the last pushes arrive (or give up on them: they count as lost).
    const deadline = performance.now() + 15_000
    while (pending.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    result.rate = result.sent / Math.max(0.001, (last - first) / 1000 + 1 / devices)
    result.endedAt = new Date().toISOString()
    phase = null
    send(result)
  })
  send({ ready: true })
}

// ---- the parent: server, plan, checks -------------------------------------------------------------------------------

async function serverRole(): Promise<void> {
  const { openBenchDb } = await import('./bench-db.ts')
  const { buildApp } = await import('../server/src/app.ts')
  const { regionResolver } = await import('../server/src/repos/resolve/resolver.ts')
  const { recordPositions } = await import('../server/src/services/workers.ts')
  const { loadPatrolModel } = await import('../server/src/simulator/patrol.ts')
  const { PositionBatchSchema } = await import('../shared/schemas/worker.ts')

  const { db, dispose } = await openBenchDb()
  const app = await buildApp({ db, relayPollMs: 1000 })
  // The baseline: the same service without the spatial engine (bench only; never part of the API).
  app.post('/bench/positions-untagged', { bodyLimit: 4 * 1024 * 1024, schema: { body: PositionBatchSchema } }, async (req) => {
    const { positions } = req.body as { positions: Parameters<typeof recordPositions>[1] }
    const { chains: _c, liveFlags: _l, ...r } = await recordPositions(app.db, positions, { now: app.now(), tag: false })
    return r
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const url = `http://127.0.0.1:${port}`
  const index = await regionResolver(db).ready()

  // Plans from the patrol model: everyone on duty, walking their own grid, one step per second.
  const model = await loadPatrolModel(db, { grids: 'all' }, { dayShare: 1, nightShare: 1, busyPerHour: 0 })
  const walkers = [...model.walkers].sort((a, b) => (a.id < b.id ? -1 : 1))
  const perDevice = Math.round(RATE / DEVICES)
  const slices = Array.from({ length: DEVICES }, (_, d) => walkers.slice(Math.floor((d * walkers.length) / DEVICES), Math.floor(((d + 1) * walkers.length) / DEVICES)))
  let clock = Date.now()
  let cursor = 0
  const plan = (seconds: number): Plan =>
    Array.from({ length: seconds }, () => {
      clock += 1000
      model.advance(clock)
      const second = slices.map((slice) => {
        const batch: Batch = { ids: [], lon: [], lat: [] }
        for (let k = 0; k < perDevice; k++) {
          const w = slice[(cursor + k) % slice.length]
          batch.ids.push(w.id)
          batch.lon.push(w.x)
          batch.lat.push(w.y)
        }
        return batch
      })
      cursor += perDevice
      return second
    })

  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_ROLE: 'load', BENCH_URL: url },
  })
  const next = () => new Promise<any>((resolve) => child.once('message', resolve))
  await next() // ready
  const run = async (name: string, path: string, seconds: number): Promise<PhaseResult> => {
    const reply = next()
    child.send({ name, path, plan: plan(seconds) } satisfies PhaseRequest)
    return reply
  }

  await run('warm-up', '/api/workers/positions', WARMUP_S)
  // BENCH_BASELINE_FIRST=1 swaps the order (the later phase writes into bigger tables).
  const phases = [
    ['tagged', '/api/workers/positions'],
    ['baseline (no tagging)', '/bench/positions-untagged'],
  ] as const
  const results = new Map<string, PhaseResult>()
  for (const [name, path] of process.env.BENCH_BASELINE_FIRST === '1' ? [...phases].reverse() : phases) results.set(name, await run(name, path, DURATION_S))
  const tagged = results.get('tagged')!
  const baseline = results.get('baseline (no tagging)')!
  child.send({ done: true })

  // Checks on what the database holds for each phase.
  const check = async (r: PhaseResult, exact: boolean) => {
    const { rows } = await db.query<{ n: number; distinct_n: number; wrong: number; outside: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT (p.worker_id, p.at))::int AS distinct_n,
              ${exact ? `count(*) FILTER (WHERE p.grid_id IS DISTINCT FROM f.region_id)::int` : '0'} AS wrong,
              count(*) FILTER (WHERE p.grid_id IS NULL)::int AS outside
         FROM worker_positions p
         ${exact ? `LEFT JOIN LATERAL (SELECT r.region_id FROM region_parts r WHERE ST_Covers(r.geom, p.location) ORDER BY r.level DESC, r.region_id LIMIT 1) f ON true` : ''}
        WHERE p.received_at >= $1 AND p.received_at <= $2`,
      [r.startedAt, r.endedAt],
    )
    const events = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE kind = 'workers:moved' AND created_at >= $1 AND created_at <= $2`,
      [r.startedAt, r.endedAt],
    )
    return { ...rows[0], events: events.rows[0].n }
  }
  const checks = [await check(tagged, true), await check(baseline, false)]

  const f = (x: number) => x.toFixed(1)
  console.log(
    `database: ${db.mode}; ${walkers.length} staff walking ${new Set(walkers.map((w) => w.gridId)).size} grids; ${DEVICES} devices × ${perDevice} fixes/s; ` +
      `${CLIENTS} wall dashboards; ${DURATION_S} s per phase; cell index level ${index.level} (${index.stats.runs} runs); milliseconds`,
  )
  console.table(
    Object.fromEntries(
      [tagged, baseline].map((r, i) => {
        const push = quantiles(r.push)
        const http = quantiles(r.http)
        const c = checks[i]
        return [
          r.name,
          {
            'fixes/s': Math.round(r.rate),
            sent: r.sent,
            stored: c.n,
            'received (min over dashboards)': Math.min(...r.received),
            'push p50': f(push.p50),
            'push p95': f(push.p95),
            'push p99': f(push.p99),
            'push max': f(push.max),
            'POST p50': f(http.p50),
            'POST p99': f(http.p99),
            'http errors': r.httpErrors,
            'events/s': Math.round(c.events / DURATION_S),
            'wrong tags': i === 0 ? c.wrong : '—',
            'outside (null grid)': c.outside,
          },
        ]
      }),
    ),
  )
  const lost = [tagged, baseline].map((r, i) => r.sent - checks[i].n + (r.sent - Math.min(...r.received)) + (r.sent - checks[i].distinct_n))
  const ok = lost.every((n) => n === 0) && checks[0].wrong === 0 && [tagged, baseline].every((r) => r.httpErrors === 0)
  console.log(ok ? 'none lost, every tag right' : `PROBLEM: lost/duplicated ${lost.join(' / ')}, wrong tags ${checks[0].wrong}`)
  const p99 = quantiles(tagged.push).p99
  console.log(`target p99 ≤ 250 ms at ${RATE}/s: ${p99 <= 250 && tagged.rate >= RATE * 0.97 ? 'met' : 'NOT met'} (p99 ${f(p99)} ms at ${Math.round(tagged.rate)}/s)`)

  await app.close()
  await dispose()
  if (!ok) process.exitCode = 1
}

if (process.env.BENCH_ROLE === 'load') await loadRole()
else await serverRole()
