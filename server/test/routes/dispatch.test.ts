import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { starScore } from '../../../shared/domain/star-score.ts'
import type { WireEvent } from '../../../shared/protocol/events.ts'
import { expandEvent } from '../../../shared/protocol/wire.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db, DbMode } from '../../src/db/types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { connectClient, startServer, waitFor, type TestClient } from '../../../test/support/server.ts'
import { bearer, signIn, TEST_SECRET } from '../auth/support.ts'
import { buildApp } from '../../src/app.ts'

/**
 * Issue #8 — the dispatcher's workspace on the server: candidates (KNN workers, cameras within a radius), the 412
 * that says who changed what, bulk dispatch with per-case results, and the region profile's performance part.
 * Test data: cameras from the seed (each case is reported right at one, so it lies in that camera's grid), grids of
 * 金东区/婺城区 chosen by an offset no other suite uses (400+), cases of our own.
 */

interface Spot {
  cameraId: string
  lon: number
  lat: number
  gridId: string
  workers: string[]
}

async function spots(db: Db, offset: number, n: number): Promise<Spot[]> {
  const { rows } = await db.query<{ cameraId: string; lon: number; lat: number; gridId: string; workers: string[] }>(
    `SELECT c.id AS "cameraId", ST_X(c.location) AS lon, ST_Y(c.location) AS lat, g.id AS "gridId",
            (SELECT array_agg(w.id ORDER BY w.id) FROM workers w WHERE w.region_id = g.id AND w.role <> 'microgrid_leader') AS workers
       FROM cameras c JOIN regions g ON nlevel(c.region_path) >= 4 AND g.id = ltree2text(subpath(c.region_path, 3, 1))
      WHERE (SELECT count(*) FROM workers w WHERE w.region_id = g.id AND w.role <> 'microgrid_leader') >= 2
      ORDER BY c.id OFFSET $1 LIMIT $2`,
    [offset, n],
  )
  return rows
}

describe.each(DB_MODES)('dispatcher workspace (%s)', (mode: DbMode) => {
  let db: Db
  let app: AppInstance
  let url: string
  let spot: Spot
  const sockets: TestClient[] = []

  const post = (path: string, payload: unknown, actor = 'dispatcher-a', headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: path, payload: payload as object, headers: { 'x-actor': actor, ...headers } })
  const report = async (description: string, at: { lon: number; lat: number } = spot) => {
    const res = await post('/api/cases', { category: 'public_facilities.street_light', description, lon: at.lon, lat: at.lat }, 'resident-d')
    expect(res.statusCode, res.body).toBe(201)
    return res.json()
  }
  const act = async (c: { id: string; version: number }, action: string, body: Record<string, unknown>, actor = 'dispatcher-a') => {
    const res = await post(`/api/cases/${c.id}/actions/${action}`, body, actor, { 'if-match': `"${c.version}"` })
    expect(res.statusCode, res.body).toBe(200)
    return res.json()
  }
  const registered = async (description: string) => act(await report(description), 'register', {})

  beforeAll(async () => {
    db = await testDb(mode)
    ;({ app, url } = await startServer({ db }))
    const all = await spots(db, 0, 100000)
    // Far from the head of the list (other suites take the first grids and cameras).
    spot = all[Math.floor(all.length * 0.37)]
    expect(spot, 'a seeded camera in a grid with two workers').toBeTruthy()
  })
  afterAll(async () => {
    for (const s of sockets) s.disconnect()
    await app?.close()
  })

  describe('GET /api/cases/:id/candidates', () => {
    it('lists the nearest workers with distance, load, last-seen age and duty, and the cameras within the radius', async () => {
      const c = await registered('候选人：路灯')
      const [near, far] = spot.workers
      // near stands on the case, far 200 m north; both on duty, seen now.
      const moved = await post('/api/workers/positions', {
        positions: [
          { workerId: near, lon: spot.lon, lat: spot.lat, status: 'on_duty' },
          { workerId: far, lon: spot.lon, lat: spot.lat + 0.0018, status: 'on_duty' },
        ],
      })
      expect(moved.statusCode, moved.body).toBe(200)
      // Give `near` one case on their desk.
      const busyCase = await registered('候选人：负载')
      await act(busyCase, 'dispatch', { assigneeId: near, department: 'municipal_gardens' })

      const res = await app.inject({ url: `/api/cases/${c.id}/candidates?limit=20`, headers: { 'x-actor': 'dispatcher-a' } })
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json()
      expect(body).toMatchObject({ caseId: c.id, code: c.code, version: c.version, radiusM: 300, point: [c.lon, c.lat] })
      const ws = body.workers as any[]
      expect(ws[0]).toMatchObject({ id: near, onDuty: true, stale: false })
      expect(ws[0].distanceM).toBeLessThan(1)
      expect(ws[0].load).toBeGreaterThanOrEqual(1)
      expect(ws[0].lastSeenAgeS).toBeGreaterThanOrEqual(0)
      expect(ws[0].lastSeenAgeS).toBeLessThan(120)
      const f = ws.find((w) => w.id === far)
      expect(f, 'the worker 200 m away is among the 20 nearest').toBeTruthy()
      expect(f.distanceM).toBeGreaterThan(190)
      expect(f.distanceM).toBeLessThan(210)
      // Nearest first, and none off duty by default.
      expect(ws.map((w) => w.distanceM)).toEqual([...ws.map((w) => w.distanceM)].sort((a, b) => a - b))
      expect(ws.every((w) => w.status !== 'off_duty')).toBe(true)
      // The camera the case was reported at, at 0 m, with its stream; every camera within 300 m, nearest first.
      const cams = body.cameras as any[]
      expect(cams[0]).toMatchObject({ id: spot.cameraId, distanceM: 0 })
      expect(cams[0].streamUrl).toBeTruthy()
      expect(cams.every((k) => k.distanceM <= 300)).toBe(true)
      expect(cams.map((k) => k.distanceM)).toEqual([...cams.map((k) => k.distanceM)].sort((a, b) => a - b))
      // The radius is honoured: the same as an independent ST_DWithin count.
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM cameras WHERE ST_DWithin(location::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, 1000)`,
        [c.lon, c.lat],
      )
      const wide = (await app.inject({ url: `/api/cases/${c.id}/candidates?radiusM=1000&cameraLimit=100`, headers: { 'x-actor': 'd' } })).json()
      expect(wide.cameras.length).toBe(Math.min(100, rows[0].n))
      expect(wide.cameras.length).toBeGreaterThanOrEqual(cams.length)
    })

    it('shows an off-duty worker only when asked, and marks a position older than 10 minutes stale', async () => {
      const c = await registered('候选人：下班')
      const [near, far] = spot.workers
      await post('/api/workers/positions', { positions: [{ workerId: near, lon: c.lon, lat: c.lat, status: 'on_duty' }, { workerId: far, lon: c.lon, lat: c.lat + 0.0005 }] })
      await post(`/api/workers/${far}/status`, { status: 'off_duty' })
      try {
        const def = (await app.inject({ url: `/api/cases/${c.id}/candidates?limit=50`, headers: { 'x-actor': 'd' } })).json()
        expect(def.workers.some((w: any) => w.id === far)).toBe(false)
        const all = (await app.inject({ url: `/api/cases/${c.id}/candidates?limit=50&status=on_duty,busy,off_duty`, headers: { 'x-actor': 'd' } })).json()
        expect(all.workers.find((x: any) => x.id === far)).toMatchObject({ onDuty: false, status: 'off_duty', stale: false })
        // The same question an hour later (a server whose clock is ahead): nobody has reported since.
        const later = await buildApp({ db, now: () => new Date(Date.now() + 3600_000) })
        await later.ready()
        try {
          const w = (await later.inject({ url: `/api/cases/${c.id}/candidates?limit=50`, headers: { 'x-actor': 'd' } })).json().workers.find((x: any) => x.id === near)
          expect(w.lastSeenAgeS).toBeGreaterThanOrEqual(3600)
          expect(w.stale).toBe(true)
          // maxAgeS leaves them out.
          const fresh = (await later.inject({ url: `/api/cases/${c.id}/candidates?limit=50&maxAgeS=600`, headers: { 'x-actor': 'd' } })).json()
          expect(fresh.workers.some((x: any) => x.id === near)).toBe(false)
        } finally {
          await later.close()
        }
      } finally {
        await post(`/api/workers/${far}/status`, { status: 'on_duty' })
      }
    })

    it('answers 400 naming the field for a bad query and 404 for an unknown case', async () => {
      const c = await registered('候选人：参数')
      const bad = await app.inject({ url: `/api/cases/${c.id}/candidates?radiusM=0`, headers: { 'x-actor': 'd' } })
      expect(bad.statusCode).toBe(400)
      expect(bad.json().field ?? bad.json().message).toMatch(/radiusM/)
      const st = await app.inject({ url: `/api/cases/${c.id}/candidates?status=asleep`, headers: { 'x-actor': 'd' } })
      expect(st.statusCode).toBe(400)
      expect(JSON.stringify(st.json())).toMatch(/status/)
      const missing = await app.inject({ url: `/api/cases/00000000-0000-4000-8000-000000000000/candidates`, headers: { 'x-actor': 'd' } })
      expect(missing.statusCode).toBe(404)
    })
  })

  describe('412: who changed what', () => {
    it('tells the second dispatcher who changed the case, how, and what it looks like now', async () => {
      const c = await registered('冲突：顺序')
      const [w1, w2] = spot.workers
      const first = await act(c, 'dispatch', { assigneeId: w1, department: 'municipal_gardens', note: '先到先得' }, 'dispatcher-a')
      const late = await post(`/api/cases/${c.id}/actions/dispatch`, { assigneeId: w2, department: 'municipal_gardens' }, 'dispatcher-b', { 'if-match': `"${c.version}"` })
      expect(late.statusCode).toBe(412)
      const body = late.json()
      expect(body).toMatchObject({ error: 'version_mismatch', field: 'version', currentVersion: first.version })
      expect(body.changes).toHaveLength(1)
      expect(body.changes[0]).toMatchObject({ actor: 'dispatcher-a', action: 'dispatch', fromStatus: 'registered', toStatus: 'dispatched', note: '先到先得', data: { assigneeId: w1 } })
      expect(body.case).toMatchObject({ id: c.id, version: first.version, assigneeId: w1, status: 'dispatched' })
      // Nothing of dispatcher-b's was written.
      const now = (await app.inject(`/api/cases/${c.id}`)).json()
      expect(now.assigneeId).toBe(w1)
      expect(now.timeline.filter((e: any) => e.actor === 'dispatcher-b')).toEqual([])
    })

    it('lists every change since the version sent, oldest first', async () => {
      const c0 = await report('冲突：多步')
      const c1 = await act(c0, 'register', {}, 'dispatcher-a')
      const c2 = await act(c1, 'note', { note: '已电话联系' }, 'leader-x')
      await act(c2, 'escalate', { reason: '需要社区协调' }, 'leader-x')
      const res = await post(`/api/cases/${c0.id}/actions/register`, {}, 'dispatcher-b', { 'if-match': '"1"' })
      expect(res.statusCode).toBe(412)
      expect(res.json().changes.map((e: any) => [e.actor, e.action])).toEqual([
        ['dispatcher-a', 'register'],
        ['leader-x', 'note'],
        ['leader-x', 'escalate'],
      ])
      expect(res.json().case.version).toBe(4)
    })

    it('two dispatchers at the same moment: exactly one succeeds, the other sees the winner', async () => {
      const c = await registered('冲突：同时')
      const [w1, w2] = spot.workers
      const [a, b] = await Promise.all([
        post(`/api/cases/${c.id}/actions/dispatch`, { assigneeId: w1, department: 'municipal_gardens' }, 'dispatcher-a', { 'if-match': `"${c.version}"` }),
        post(`/api/cases/${c.id}/actions/dispatch`, { assigneeId: w2, department: 'municipal_gardens' }, 'dispatcher-b', { 'if-match': `"${c.version}"` }),
      ])
      expect([a.statusCode, b.statusCode].sort()).toEqual([200, 412])
      const [won, lost] = a.statusCode === 200 ? [a, b] : [b, a]
      const winner = a.statusCode === 200 ? 'dispatcher-a' : 'dispatcher-b'
      expect(lost.json().changes.map((e: any) => e.actor)).toEqual([winner])
      expect(lost.json().case.assigneeId).toBe(won.json().assigneeId)
    })
  })

  describe('POST /api/cases/actions/bulk', () => {
    it('dispatches several cases, one transaction each, and reports each one; a stale one carries its conflict', async () => {
      const [w1, w2] = spot.workers
      const a = await registered('批量：一')
      const b = await registered('批量：二')
      const c = await registered('批量：三')
      const bNow = await act(b, 'note', { note: '别人先动了' }, 'dispatcher-b')
      const watcher = await connectClient(url)
      sockets.push(watcher)
      const seen = new Map<string, number>()
      watcher.on('events:frame', (frame: WireEvent[]) => {
        for (const e of frame.map(expandEvent)) if (e.kind === 'case:updated') seen.set(e.case.id, e.case.version)
      })
      const ack = await watcher.timeout(10_000).emitWithAck('events:resume', { scope: { all: true } })
      expect(ack.ok).toBe(true)

      const res = await post('/api/cases/actions/bulk', {
        action: 'dispatch',
        assigneeId: w1,
        department: 'municipal_gardens',
        note: '批量派遣',
        items: [{ id: a.id, version: a.version }, { id: b.id, version: b.version }, { id: c.id, version: c.version }],
      })
      expect(res.statusCode, res.body).toBe(200)
      const out = res.json()
      expect(out).toMatchObject({ action: 'dispatch', succeeded: 2, failed: 1 })
      expect(out.results.map((r: any) => [r.id, r.status])).toEqual([[a.id, 200], [b.id, 412], [c.id, 200]])
      expect(out.results[0].case).toMatchObject({ status: 'dispatched', assigneeId: w1, version: a.version + 1 })
      expect(out.results[1]).toMatchObject({ ok: false, error: 'version_mismatch', currentVersion: bNow.version, case: { status: 'registered' } })
      expect(out.results[1].changes.map((e: any) => [e.actor, e.action])).toEqual([['dispatcher-b', 'note']])
      // Every change reached the other screen.
      await waitFor<void>((done) => {
        const t = setInterval(() => {
          if (seen.get(a.id) === a.version + 1 && seen.get(c.id) === c.version + 1) {
            clearInterval(t)
            done()
          }
        }, 50)
      }, 10_000, 'case:updated for both dispatched cases')
      // The stale case was not written: no version after the note it already had (which may arrive late, live).
      expect(seen.get(b.id) ?? bNow.version).toBe(bNow.version)
      // And a reassign of the two, then an escalation, through the same route.
      const re = await post('/api/cases/actions/bulk', {
        action: 'reassign', assigneeId: w2, reason: '就近', items: [{ id: a.id, version: a.version + 1 }, { id: c.id, version: c.version + 1 }],
      })
      expect(re.json()).toMatchObject({ succeeded: 2, failed: 0 })
      const up = await post('/api/cases/actions/bulk', { action: 'escalate', reason: '需街道协调', items: [{ id: a.id, version: a.version + 2 }] })
      expect(up.json().results[0]).toMatchObject({ ok: true, case: { owningLevel: 3, escalations: 1 } })
    })

    it('reports a missing version (428), an unknown case (404) and a refused status (409) per item', async () => {
      const a = await registered('批量：错误')
      const closedish = await report('批量：未立案')
      const res = await post('/api/cases/actions/bulk', {
        action: 'dispatch',
        department: 'municipal_gardens',
        items: [{ id: a.id }, { id: '00000000-0000-4000-8000-000000000000', version: 1 }, { id: closedish.id, version: closedish.version }],
      })
      expect(res.statusCode).toBe(200)
      expect(res.json().results.map((r: any) => [r.status, r.error])).toEqual([
        [428, 'version_required'],
        [404, 'case_not_found'],
        [409, 'action_not_allowed'],
      ])
      expect((await app.inject(`/api/cases/${a.id}`)).json().version).toBe(a.version)
    })

    it('refuses a bad body with 400 naming the field, before touching any case', async () => {
      const a = await registered('批量：坏请求')
      const cases = [
        [{ action: 'escalate', items: [{ id: a.id, version: a.version }] }, 'reason'],
        [{ action: 'dispatch', items: [{ id: a.id, version: a.version }] }, 'department'],
        [{ action: 'dispatch', department: 'gas', items: [{ id: a.id, version: a.version }, { id: a.id, version: a.version }] }, 'items[1].id'],
        [{ action: 'close', items: [{ id: a.id, version: a.version }] }, 'action'],
        [{ action: 'dispatch', department: 'gas', items: [] }, 'items'],
      ] as const
      for (const [body, field] of cases) {
        const res = await post('/api/cases/actions/bulk', body)
        expect(res.statusCode, JSON.stringify(body)).toBe(400)
        expect(JSON.stringify(res.json()), JSON.stringify(body)).toContain(field)
      }
      expect((await app.inject(`/api/cases/${a.id}`)).json().version).toBe(a.version)
    })
  })

  describe('GET /api/regions/:id — the drill-down profile', () => {
    it('has who serves the grid, open and overdue cases, the 30-day trend, category mix and the star score', async () => {
      await registered('画像：路灯')
      const res = await app.inject(`/api/regions/${spot.gridId}`)
      expect(res.statusCode).toBe(200)
      const p = res.json()
      expect(p.openCases).toBeGreaterThan(0)
      expect(p.overdueCases).toBeGreaterThanOrEqual(0)
      expect(p.members.map((m: any) => m.id)).toEqual(expect.arrayContaining(spot.workers))
      expect(p.members[0].role).toBe('grid_chief')
      const perf = p.performance
      expect(perf.trend.length).toBeGreaterThanOrEqual(30)
      expect(perf.trend.reduce((s: number, d: any) => s + d.reported, 0)).toBe(perf.reported)
      expect(perf.categoryMix.find((m: any) => m.category === 'public_facilities').reported).toBeGreaterThan(0)
      const expected = starScore({
        completionRate: perf.completionRate, onTimeRate: perf.onTimeRate, satisfactionMean: perf.satisfaction.mean,
        overdueOpen: perf.overdueOpen, open: perf.open, gridLevelShare: perf.gridLevelShare, reported: perf.reported,
      })
      expect([perf.score, perf.stars]).toEqual([expected.score, expected.stars])
      expect(perf.rank.of).toBe(perf.rank.siblings.length)
      expect(perf.rank.siblings.map((s: any) => s.id)).toContain(spot.gridId)
      const better = perf.rank.siblings.filter((s: any) => s.score !== null && perf.score !== null && s.score > perf.score).length
      if (perf.score !== null) expect(perf.rank.position).toBe(better + 1)
      // A district ranks among districts; a community has no members list.
      const district = (await app.inject(`/api/regions/${p.chain[0].id}`)).json()
      expect(district.members).toBeNull()
      expect(district.performance.rank.siblings.length).toBeGreaterThanOrEqual(1)
    })

    it('keeps members and performance from anonymous callers and staff outside the region (AUTH_MODE=token)', async () => {
      const tokenApp = await buildApp({ db, auth: { mode: 'token', secret: TEST_SECRET, addressLimit: { max: 10_000, windowSeconds: 60 } } })
      await tokenApp.ready()
      try {
        const anon = (await tokenApp.inject('/api/regions/330702001')).json()
        expect([anon.members, anon.performance]).toEqual([null, null])
        expect(anon.openCases).toBeGreaterThanOrEqual(0)
        const jd = await signIn(tokenApp, 'dispatcher-jindong')
        const wc = await signIn(tokenApp, 'dispatcher-wucheng')
        expect((await tokenApp.inject({ url: '/api/regions/330702001', headers: bearer(jd.accessToken) })).json().performance).toBeNull()
        expect((await tokenApp.inject({ url: '/api/regions/330702001', headers: bearer(wc.accessToken) })).json().performance).not.toBeNull()
        const resident = await signIn(tokenApp, 'resident-li')
        expect((await tokenApp.inject({ url: '/api/regions/330702001', headers: bearer(resident.accessToken) })).json().performance).toBeNull()
      } finally {
        await tokenApp.close()
      }
    })
  })
})
