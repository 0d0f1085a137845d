/**
 * Report → dashboard latency: time from sending POST /api/cases until every connected Socket.IO client has received
 * the `case:created` event (the whole path: validation, PostGIS resolution, one transaction with the event log,
 * NOTIFY, relay, emit). Baseline in the same run: the same clients receiving a bare `io.emit` from the server.
 *
 *   node --import tsx bench/push-latency.ts            # embedded PostGIS
 *   DATABASE_URL=postgres://… node --import tsx bench/push-latency.ts
 *
 * Uses a temporary data dir / scratch database, 5 clients, 200 sequential reports.
 */
import { openBenchDb } from './bench-db.ts'
import { connectClient, startServer, type TestClient } from '../test/support/server.ts'

const CLIENTS = 5
const REPORTS = Number(process.env.BENCH_REPORTS ?? 200)

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b)
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]
  return { n: s.length, p50: q(0.5).toFixed(2), p95: q(0.95).toFixed(2), max: s.at(-1)!.toFixed(2) }
}

const { db, dispose } = await openBenchDb()
const { app, url } = await startServer({ db, relayPollMs: 1000 })
const clients: TestClient[] = await Promise.all(Array.from({ length: CLIENTS }, () => connectClient(url)))

async function measure(send: (i: number) => Promise<unknown>, event: 'case:created' | 'bench:ping'): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < REPORTS; i++) {
    const t0 = performance.now()
    const got = Promise.all(clients.map((c) => new Promise<void>((r) => (c as any).once(event, () => r()))))
    await send(i)
    await got
    out.push(performance.now() - t0)
  }
  return out
}

const baseline = await measure(async () => (app.io as any).emit('bench:ping', { seq: 0 }), 'bench:ping')
const reports = await measure(
  (i) =>
    fetch(`${url}/api/cases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ category: 'sanitation', description: `bench ${i}`, lon: 119.6 + (i % 50) * 0.003, lat: 29.06 + (i % 7) * 0.005 }),
    }).then((r) => {
      if (r.status !== 201) throw new Error(`POST → ${r.status}`)
    }),
  'case:created',
)

console.log(`database: ${db.mode}; ${CLIENTS} clients; ${REPORTS} sequential operations; milliseconds`)
console.table({ 'baseline: bare io.emit → all clients': stats(baseline), 'POST /api/cases → case:created at all clients': stats(reports) })

for (const c of clients) c.disconnect()
await app.close()
await dispose()
