import { io as connect } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Ack, FrameEvent, ResumeReply, WireEvent } from '../../../shared/protocol/events.ts'
import type { StreamSocket } from '../../../shared/protocol/stream.ts'
import { expandEvent } from '../../../shared/protocol/wire.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { startServer } from '../../../test/support/server.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db } from '../../src/db/types.ts'
import { appendEvent, logBounds, pruneEvents } from '../../src/repos/events.ts'
import { Dashboard, audit, dbOpenVersions, logSeqs, maxSeq, report, sleep } from './support.ts'

/** Liveness bound for a push, not a speed claim (bench/ measures latency). */
const DEADLINE_MS = 10_000

async function until(cond: () => boolean, what: string, ms = DEADLINE_MS): Promise<void> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(10)
  }
}

/** A bare socket (no stream client), to speak the protocol by hand. */
async function rawSocket(url: string): Promise<StreamSocket> {
  const s: StreamSocket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true })
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve())
    s.once('connect_error', reject)
  })
  return s
}

const resume = (s: StreamSocket, req: unknown) => s.timeout(DEADLINE_MS).emitWithAck('events:resume', req as never) as Promise<Ack<ResumeReply>>

async function resolveChain(url: string, lon: number, lat: number): Promise<Array<{ id: string; level: number }>> {
  const res = await fetch(`${url}/api/regions/resolve?lon=${lon}&lat=${lat}`)
  return ((await res.json()) as { regions: Array<{ id: string; level: number }> }).regions
}

async function postAt(url: string, description: string, lon: number, lat: number) {
  const res = await fetch(`${url}/api/cases`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ category: 'sanitation', description, lon, lat }),
  })
  return { status: res.status, body: (await res.json()) as any }
}

describe.each(DB_MODES)('event stream over Socket.IO (%s)', (mode) => {
  let app: AppInstance
  let url: string
  let db: Db
  const dashboards: Dashboard[] = []
  const sockets: StreamSocket[] = []
  const dashboard = async (opts?: ConstructorParameters<typeof Dashboard>[0]) => {
    const d = new Dashboard(opts)
    dashboards.push(d)
    await d.connect(url)
    return d
  }

  beforeAll(async () => {
    db = await testDb(mode)
    // Quiet scopes hear of the log's position every 300 ms here (5 s by default).
    ;({ app, url } = await startServer({ db, realtime: { retention: false, hub: { idleReportMs: 300 } } }))
  })
  afterAll(async () => {
    for (const d of dashboards) d.disconnect()
    for (const s of sockets) s.disconnect()
    await app.close()
  })

  it('pushes a reported case to every connected dashboard, in a frame, with its seq', async () => {
    const [a, b] = [await dashboard(), await dashboard()]
    const res = await report(url, '电梯困人')
    expect(res.status).toBe(201)
    await until(() => a.cases.has(res.body.id) && b.cases.has(res.body.id), 'the case on both dashboards')
    const { possibleDuplicates, ...reported } = res.body
    expect(possibleDuplicates).toBeInstanceOf(Array)
    const ea = a.events.find((e) => e.kind === 'case:created' && e.case.id === reported.id)!
    const eb = b.events.find((e) => e.kind === 'case:created' && e.case.id === reported.id)!
    expect(ea).toEqual({ kind: 'case:created', seq: expect.any(Number), case: reported })
    expect(eb).toEqual(ea)
    expect(ea.seq).toBeGreaterThan(0)
  })

  it('delivers events in log order with strictly increasing seq, each once', async () => {
    const d = await dashboard()
    const from = d.position!
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await report(url, `#${i}`, i)).body.id)
    const last = await maxSeq(db)
    await d.reach(last)
    const created = d.events.filter((e): e is Extract<FrameEvent, { kind: 'case:created' }> => e.kind === 'case:created').map((e) => e.case.id)
    expect(created).toEqual(ids)
    expect(audit(d.applied, await logSeqs(db, from, last))).toEqual({ lost: [], twice: [], outOfOrder: 0 })
  })

  it('emits nothing for a refused report', async () => {
    const d = await dashboard()
    const refused = await postAt(url, 'far away', 121.47, 31.23)
    expect(refused.status).toBe(422)
    const accepted = await report(url, 'here')
    await until(() => d.cases.has(accepted.body.id), 'the accepted case')
    expect(d.events.map((e) => e.kind === 'case:created' && e.case.id)).toEqual([accepted.body.id])
  })

  it('GET /api/cases tells the log position of its snapshot; resuming after it gives exactly the later events', async () => {
    const snap = (await (await fetch(`${url}/api/cases?status=open&limit=20000`)).json()) as { seq: number; cases: unknown[] }
    expect(snap.seq).toBeGreaterThanOrEqual(0)
    for (let i = 0; i < 3; i++) await report(url, `after snapshot ${i}`, i)
    const last = await maxSeq(db)
    const s = await rawSocket(url)
    sockets.push(s)
    const got: WireEvent[] = []
    s.on('events:frame', (f) => got.push(...f))
    const ack = await resume(s, { after: snap.seq })
    expect(ack).toEqual({ ok: true, data: { from: snap.seq, head: expect.any(Number), rooms: ['wall'] } })
    await until(() => got.some((e) => e.seq >= last), 'the replay')
    expect(got.map((e) => e.seq)).toEqual(await logSeqs(db, snap.seq, got.at(-1)!.seq))
  })

  it('sends events in their compact wire form, live and replayed alike; expanded, each is the logged event', async () => {
    const from = await maxSeq(db)
    const listen = async (after?: number) => {
      const s = await rawSocket(url)
      sockets.push(s)
      const got: WireEvent[] = []
      s.on('events:frame', (f) => got.push(...f))
      expect(await resume(s, after === undefined ? {} : { after })).toMatchObject({ ok: true })
      return got
    }
    const live = await listen()
    const res = await report(url, '井盖缺失')
    expect(res.status).toBe(201)
    const last = await maxSeq(db)
    await until(() => live.some((e) => e.seq >= last), 'the live event')
    const replayed = await listen(from)
    await until(() => replayed.some((e) => e.seq >= last), 'the replay')
    const ours = (got: WireEvent[]) => got.filter((e) => e.seq > from && e.seq <= last)
    expect(ours(replayed)).toEqual(ours(live))
    const wire = JSON.stringify(live.find((e) => e.kind === 'case:created' && e.case?.id === res.body.id))
    expect(wire).not.toContain('null')
    // expandEvent fills the events in place (they are this test's own).
    const expanded = ours(live).map(expandEvent)
    const { rows } = await db.query<{ seq: number; kind: string; payload: object }>('SELECT seq, kind, payload FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq', [from, last])
    expect(expanded).toEqual(rows.map((r) => ({ ...r.payload, seq: Number(r.seq), kind: r.kind })))
    const whole = expanded.find((e) => e.kind === 'case:created' && e.case.id === res.body.id)!
    expect(wire.length).toBeLessThan(JSON.stringify(whole).length * 0.8)
    const { possibleDuplicates: _, ...reported } = res.body
    expect(whole).toEqual({ kind: 'case:created', seq: expect.any(Number), case: reported })
  })

  it('scopes: a socket following a region (any level) gets only what happens under it; the wall gets everything', async () => {
    const pa = { lon: 119.64, lat: 29.08 }
    const chainA = await resolveChain(url, pa.lon, pa.lat)
    // A point in the other district of the demo region.
    let pb = { lon: 119.7, lat: 29.1 }
    let chainB = await resolveChain(url, pb.lon, pb.lat)
    for (let i = 0; chainB.length < 4 || chainB[0].id === chainA[0].id; i++) {
      if (i > 400) throw new Error('no point in another district found')
      pb = { lon: 119.55 + (i % 20) * 0.02, lat: 28.95 + Math.floor(i / 20) * 0.02 }
      chainB = await resolveChain(url, pb.lon, pb.lat)
    }
    const gridA = chainA.find((r) => r.level === 4)!.id
    const districtB = chainB[0].id
    const onlyA = await dashboard({ scope: { regions: [gridA] } })
    const onlyB = await dashboard({ scope: { regions: [districtB] } })
    const wall = await dashboard()
    expect(onlyA.stream!.stats.lastResume!.rooms).toEqual([`region:${gridA}`])

    const a = await postAt(url, 'in grid A', pa.lon, pa.lat)
    const b = await postAt(url, 'in district B', pb.lon, pb.lat)
    expect([a.status, b.status]).toEqual([201, 201])
    await wall.reach(await maxSeq(db))
    await onlyA.reach(wall.position!)
    await onlyB.reach(wall.position!)
    const ids = (d: Dashboard) => d.events.flatMap((e) => (e.kind === 'case:created' ? [e.case.id] : []))
    expect(ids(wall)).toEqual(expect.arrayContaining([a.body.id, b.body.id]))
    expect(ids(onlyA)).toEqual([a.body.id])
    expect(ids(onlyB)).toEqual([b.body.id])
  })

  it('refuses malformed requests', async () => {
    const s = await rawSocket(url)
    sockets.push(s)
    for (const bad of [{ after: -1 }, { after: 1.5 }, { after: 'x' }, { scope: { regions: ['x; DROP'] } }, { scope: { regions: [] } }, { scope: 'all' }, { other: 1 }]) {
      expect(await resume(s, bad), JSON.stringify(bad)).toMatchObject({ ok: false, error: 'invalid_request' })
    }
  })

  it('asks the subscribe policy on every resume, reconnects included', async () => {
    let allowed = new Set<string | null>([null, '330703'])
    const asked: Array<string | null> = []
    const guarded = await startServer({
      db,
      realtime: { retention: false },
      subscribePolicy: (_s, regionId) => {
        asked.push(regionId)
        return allowed.has(regionId)
      },
    })
    try {
      const s = await rawSocket(guarded.url)
      sockets.push(s)
      expect(await resume(s, {})).toMatchObject({ ok: true })
      expect(await resume(s, { scope: { regions: ['330703'] } })).toMatchObject({ ok: true, data: { rooms: ['region:330703'] } })
      expect(await resume(s, { scope: { regions: ['330703', '330702'] } })).toMatchObject({ ok: false, error: 'forbidden' })
      const d = new Dashboard({ scope: { all: true }, reconnection: true })
      dashboards.push(d)
      await d.connect(guarded.url)
      allowed = new Set(['330703'])
      asked.length = 0
      d.socket!.io.engine.close() // the link drops; Socket.IO reconnects and the stream resumes
      await until(() => asked.includes(null), 'the policy asked again on reconnect')
      await sleep(100)
      expect(d.stream!.status).not.toBe('live')
    } finally {
      await guarded.app.close()
    }
  })

  it('coalesces a burst into frames: no socket gets two frames less than 100 ms apart', async () => {
    const d = await dashboard()
    const from = d.position!
    // 400 events from 40 transactions, as fast as the database takes them.
    for (let t = 0; t < 40; t++) {
      await db.transaction(async (tx) => {
        for (let i = 0; i < 10; i++) await appendEvent(tx, 'test:burst', null, { t, i })
      })
    }
    const last = await maxSeq(db)
    await d.reach(last)
    expect(audit(d.applied, await logSeqs(db, from, last))).toEqual({ lost: [], twice: [], outOfOrder: 0 })
    const stats = app.realtime.hub.socketStats(d.socket!.id!)!
    expect(stats.minGapMs).toBeGreaterThanOrEqual(app.realtime.hub.frameMs)
    expect(d.frames.length).toBeLessThan(400)
  })

  it('replays what a client missed while offline, then goes on live without a seam or a duplicate', async () => {
    const d = await dashboard()
    const from = d.position!
    await report(url, 'before the break')
    await d.reach(await maxSeq(db))
    d.disconnect()
    for (let i = 0; i < 20; i++) await report(url, `while offline ${i}`, i)
    await d.connect(url)
    for (let i = 0; i < 5; i++) await report(url, `back online ${i}`, i)
    const last = await maxSeq(db)
    await d.reach(last)
    expect(audit(d.applied, await logSeqs(db, from, last))).toEqual({ lost: [], twice: [], outOfOrder: 0 })
    expect(d.snapshots).toBe(1)
    expect(d.openVersions()).toEqual(await dbOpenVersions(db))
  })

  it('tells a client at a position this log never had to reload, and it does', async () => {
    const s = await rawSocket(url)
    sockets.push(s)
    const head = (await logBounds(db)).head
    expect(await resume(s, { after: head + 1000 })).toMatchObject({ ok: false, error: 'reset' })
    // The stream client: reset → snapshot → resume from the snapshot's seq.
    const d = new Dashboard()
    dashboards.push(d)
    d.position = head + 1000
    await d.connect(url)
    expect(d.resets + d.stream!.stats.resets).toBe(1)
    expect(d.snapshots).toBe(1)
    expect(d.position).toBeLessThanOrEqual(head + 1)
  })

  it('tells a client too far behind to reload a snapshot (maxReplay)', async () => {
    const small = await startServer({ db, realtime: { retention: false, hub: { maxReplay: 5 } } })
    try {
      const d = new Dashboard()
      dashboards.push(d)
      await d.connect(small.url)
      d.disconnect()
      for (let i = 0; i < 8; i++) await report(small.url, `away ${i}`, i)
      await d.connect(small.url)
      expect(d.resets).toBe(0)
      expect(d.stream!.stats.resets).toBe(1)
      expect(d.snapshots).toBe(2)
      await d.reach(await maxSeq(db))
      expect(d.openVersions()).toEqual(await dbOpenVersions(db))
    } finally {
      await small.app.close()
    }
  })

  it('retention: prunes by count and by age, records the mark, and a client from before it reloads', async () => {
    const d = await dashboard()
    d.disconnect()
    for (let i = 0; i < 6; i++) await report(url, `before pruning ${i}`, i)
    const head = await maxSeq(db)
    // By age: everything older than a day, here the events backdated below.
    await db.query(`UPDATE events SET created_at = now() - interval '3 days' WHERE seq <= $1`, [head - 4])
    const byAge = await pruneEvents(db, { keepDays: 1, keepRows: 0 }, new Date())
    expect(byAge.prunedThrough).toBe(head - 4)
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE seq <= $1', [head - 4])).rows[0].n).toBe(0)
    // By count: a window of the newest 2 seqs.
    const byCount = await pruneEvents(db, { keepDays: 0, keepRows: 2 }, new Date())
    expect(byCount.prunedThrough).toBe(head - 2)
    expect(await logSeqs(db, 0)).toEqual([head - 1, head])
    expect((await logBounds(db)).prunedThrough).toBe(head - 2)
    // Nothing to do: no change.
    expect(await pruneEvents(db, { keepDays: 1, keepRows: 2 }, new Date())).toMatchObject({ deleted: 0, prunedThrough: head - 2 })

    await d.connect(url)
    expect(d.stream!.stats.resets).toBe(1)
    expect(d.snapshots).toBe(2)
    expect(d.openVersions()).toEqual(await dbOpenVersions(db))
  })
})
