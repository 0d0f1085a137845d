import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Case } from '../../../shared/schemas/case.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { connectClient, postJson, startServer, waitFor, type TestClient } from '../../../test/support/server.ts'
import type { GcApp } from '../../src/app.ts'

/** Liveness bound for a push, not a speed claim (bench/ measures latency). */
const PUSH_DEADLINE_MS = 5000

describe.each(DB_MODES)('Socket.IO case:created (%s)', (mode) => {
  let app: GcApp
  let url: string
  const clients: TestClient[] = []
  beforeAll(async () => {
    ;({ app, url } = await startServer({ db: await testDb(mode) }))
  })
  afterAll(async () => {
    for (const c of clients) c.disconnect()
    await app.close()
  })

  it('pushes a reported case to every connected dashboard with its sequence number', async () => {
    const a = await connectClient(url)
    const b = await connectClient(url)
    clients.push(a, b)
    const got = (s: TestClient) => waitFor<{ seq: number; case: Case }>((done) => s.on('case:created', done), PUSH_DEADLINE_MS, 'case:created')
    const [ea, eb] = [got(a), got(b)]
    const res = await postJson(`${url}/api/cases`, { category: 'safety_hazard', description: '电梯困人', lon: 119.66, lat: 29.09 })
    expect(res.status).toBe(201)
    const [pa, pb] = await Promise.all([ea, eb])
    expect(pa.case).toEqual(res.body)
    expect(pb.case).toEqual(res.body)
    expect(pa.seq).toBe(pb.seq)
    expect(pa.seq).toBeGreaterThan(0)
  })

  it('delivers events in log order with strictly increasing seq', async () => {
    const s = await connectClient(url)
    clients.push(s)
    const seen: Array<{ seq: number; id: string }> = []
    s.on('case:created', (e) => seen.push({ seq: e.seq, id: e.case.id }))
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const res = await postJson(`${url}/api/cases`, { category: 'sanitation', description: `#${i}`, lon: 119.64 + i * 0.002, lat: 29.08 })
      ids.push(res.body.id)
    }
    await waitFor<void>((done) => {
      const check = () => (seen.length >= 5 ? done() : setTimeout(check, 20))
      check()
    }, PUSH_DEADLINE_MS, 'five events')
    expect(seen.map((e) => e.id)).toEqual(ids)
    for (let i = 1; i < seen.length; i++) expect(seen[i].seq).toBeGreaterThan(seen[i - 1].seq)
  })

  it('emits nothing for a refused report', async () => {
    const s = await connectClient(url)
    clients.push(s)
    const seen: unknown[] = []
    s.on('case:created', (e) => seen.push(e))
    const refused = await postJson(`${url}/api/cases`, { category: 'sanitation', description: 'far away', lon: 121.47, lat: 31.23 })
    expect(refused.status).toBe(422)
    // A later accepted case arrives, and it is the only one: the refused report left no event behind.
    // (Listen before posting: the push can arrive before the POST's response.)
    const arrived = waitFor<void>((done) => s.once('case:created', () => done()), PUSH_DEADLINE_MS, 'accepted case')
    const accepted = await postJson(`${url}/api/cases`, { category: 'sanitation', description: 'here', lon: 119.65, lat: 29.08 })
    await arrived
    expect(seen).toHaveLength(1)
    expect((seen[0] as { case: Case }).case.id).toBe(accepted.body.id)
  })

  it('lets a client subscribe to a region room and acknowledges it', async () => {
    const s = await connectClient(url)
    clients.push(s)
    await expect(s.emitWithAck('region:subscribe', '330703')).resolves.toEqual({ ok: true, data: { room: 'region:330703' } })
    await expect(s.emitWithAck('region:subscribe', 'x; DROP')).resolves.toMatchObject({ ok: false, error: 'invalid_region' })
  })
})
