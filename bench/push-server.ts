/**
 * Child process of bench/push-latency.ts: the server alone in its process (HTTP + Socket.IO + relay + frame hub),
 * on the database the parent prepared. env: BENCH_DATABASE_URL (PostgreSQL) or BENCH_DATA_DIR (embedded),
 * BENCH_FRAME_MS. Prints {"port":N} when listening; SIGTERM closes it.
 */
import type { AddressInfo } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { buildApp } from '../server/src/app.ts'
import { createEmbeddedDb } from '../server/src/db/embedded-db.ts'
import { createPgDb } from '../server/src/db/pg-db.ts'
import type { Db, QueryOptions, Queryable } from '../server/src/db/types.ts'
import { startPlannerStats } from '../server/src/db/statistics.ts'
import { intakeGroupsOf } from '../server/src/services/intake-group.ts'

const raw = process.env.BENCH_DATABASE_URL ? createPgDb(process.env.BENCH_DATABASE_URL) : await createEmbeddedDb(process.env.BENCH_DATA_DIR!)

/** BENCH_PROFILE=1: time spent per statement (round trip, first 70 characters of the SQL), printed on "stats". */
const profile = new Map<string, { n: number; ms: number }>()
function timed<Q extends Queryable>(q: Q): Q {
  if (process.env.BENCH_PROFILE !== '1') return q
  const wrap = Object.create(q) as Q
  wrap.query = async (sql: string, params?: unknown[], opts?: QueryOptions) => {
    const t = performance.now()
    try {
      return await q.query(sql, params, opts)
    } finally {
      const k = sql.replace(/\s+/g, ' ').trim().slice(0, 70)
      const e = profile.get(k) ?? { n: 0, ms: 0 }
      e.n++
      e.ms += performance.now() - t
      profile.set(k, e)
    }
  }
  return wrap
}
const db: Db = process.env.BENCH_PROFILE === '1'
  ? { ...raw, mode: raw.mode, query: timed(raw).query, exec: raw.exec.bind(raw), transaction: (fn) => raw.transaction((tx) => fn(timed(tx))), listen: raw.listen.bind(raw), close: raw.close.bind(raw) }
  : raw
// As main.ts: on PostgreSQL the relay reads through a pool of its own.
const realtimeDb = process.env.BENCH_DATABASE_URL ? createPgDb(process.env.BENCH_DATABASE_URL) : undefined
const app = await buildApp({
  db,
  relayPollMs: 1000,
  realtime: { db: realtimeDb, retention: false, hub: { frameMs: Number(process.env.BENCH_FRAME_MS ?? 100) } },
})
// As main.ts: planner statistics kept where autovacuum does not (BENCH_PLANNER_STATS=0: without, as before).
const plannerStats = process.env.BENCH_PLANNER_STATS === '0' ? undefined : await startPlannerStats(raw, { onAnalyze: (t) => process.stderr.write(`[push-server ${new Date().toISOString()}] ANALYZE ${t.join(', ')}\n`) })
await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(`${JSON.stringify({ port: (app.server.address() as AddressInfo).port })}\n`)

// How late the event loop runs (a POST or a frame waits that long behind whatever holds it), since the last "stats".
const loop = monitorEventLoopDelay({ resolution: 5 })
loop.enable()

// The parent asks for the hub's, relay's and intake's counters over IPC-less stdin: one line "stats" → one JSON line.
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk: string) => {
  if (chunk.includes('stats')) {
    const loopMs = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 }
    loop.reset()
    process.stdout.write(`${JSON.stringify({ hub: app.realtime.hub.stats, relay: app.relay.stats, intake: { ...intakeGroupsOf(db).stats }, loopMs })}\n`)
  }
  if (chunk.includes('profile')) {
    for (const [k, v] of [...profile].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
      process.stderr.write(`${v.ms.toFixed(0).padStart(8)} ms ${String(v.n).padStart(7)} × ${(v.ms / v.n).toFixed(3)} ms  ${k}\n`)
    }
    profile.clear()
  }
})

process.on('SIGTERM', async () => {
  await plannerStats?.stop()
  await app.close()
  await realtimeDb?.close()
  await db.close()
  process.exit(0)
})
