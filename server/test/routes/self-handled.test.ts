import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { DB_MODES } from '../../../test/support/db.ts'
import { fieldHarness, pointIn, uploadPhoto } from './field-support.ts'

/** 小事不出格 — handled on the spot: POST /api/cases with selfHandled, by the grid worker who found and fixed it. */
describe.each(DB_MODES)('handled on the spot (%s)', (mode) => {
  const h = fieldHarness(mode)
  const BODY = { category: 'sanitation.garbage', description: '垃圾桶倾倒，已扶正清理' }

  const report = async (user: string | null, payload: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const worker = h.user('worker-chengdong')
    const point = await pointIn(h.db, worker.scopeRegionId!)
    return h.app.inject({ method: 'POST', url: '/api/cases', headers: { ...(user ? h.as(user) : {}), ...headers }, payload: { ...BODY, ...point, ...payload } })
  }
  const caseCount = async () => (await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM cases')).rows[0].n

  it('one request: reported, registered, dispatched to the worker at grid level, accepted, handled — each step theirs, marked, and on the log', async () => {
    const worker = h.user('worker-chengdong')
    const before = await uploadPhoto(h.app, h.as('worker-chengdong'))
    const after = await uploadPhoto(h.app, h.as('worker-chengdong'))
    const madeAt = new Date(h.clock.now.getTime() - 10 * 60_000).toISOString()
    const res = await report('worker-chengdong', { source: 'grid_worker', photos: [before], madeAt, selfHandled: { note: '已现场扶正清理', photos: [after] } })
    expect(res.statusCode, res.body).toBe(201)
    const c = res.json()
    expect(c).toMatchObject({ status: 'handled', selfHandled: true, owningLevel: 4, assigneeId: worker.workerId, reporter: worker.workerId, version: 5, madeAt })
    expect(c.possibleDuplicates).toEqual(expect.any(Array))
    expect(res.headers.etag).toBe('"5"')
    expect(c.stages.handledAt).toBe(h.clock.now.toISOString())
    expect(c.timeLeftSeconds).toBeNull() // the clock stops once handled

    const detail = (await h.app.inject({ url: `/api/cases/${c.id}`, headers: h.as('dispatcher-wucheng') })).json()
    const rows = detail.timeline as Array<{ action: string; actor: string; attachments: string[]; note: string | null; data: Record<string, unknown>; toStatus: string }>
    expect(rows.map((e) => [e.action, e.actor, e.toStatus])).toEqual([
      ['report', worker.workerId, 'reported'],
      ['register', worker.workerId, 'registered'],
      ['dispatch', worker.workerId, 'dispatched'],
      ['accept', worker.workerId, 'in_progress'],
      ['handle', worker.workerId, 'handled'],
    ])
    for (const e of rows.slice(1)) expect(e.data, e.action).toMatchObject({ selfHandled: true, madeAt })
    expect(rows[0].attachments).toEqual([`/api/photos/${before}`])
    expect(rows[4]).toMatchObject({ note: '已现场扶正清理', attachments: [`/api/photos/${after}`] })
    expect(rows[2].data).toMatchObject({ assigneeId: worker.workerId })
    // One event per step: what the wall and the dispatcher see is the same loop, step by step.
    const { rows: events } = await h.db.query<{ kind: string; action: string | null; version: number }>(
      `SELECT kind, payload->>'action' AS action, (payload->'case'->>'version')::int AS version FROM events WHERE payload->'case'->>'id' = $1 ORDER BY seq`,
      [c.id],
    )
    expect(events).toEqual([
      { kind: 'case:created', action: null, version: 1 },
      { kind: 'case:updated', action: 'register', version: 2 },
      { kind: 'case:updated', action: 'dispatch', version: 3 },
      { kind: 'case:updated', action: 'accept', version: 4 },
      { kind: 'case:updated', action: 'handle', version: 5 },
    ])
  })

  it('waits for verification by someone else: the worker may not verify it, an inspector or leader of the street does', async () => {
    const res = await report('worker-chengdong', { selfHandled: {} })
    expect(res.statusCode, res.body).toBe(201)
    const c = res.json()
    const verify = (user: string) =>
      h.app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/verify`, headers: { ...h.as(user), 'if-match': `"${c.version}"` }, payload: {} })
    expect((await verify('worker-chengdong')).statusCode).toBe(403)
    expect((await verify('worker-chengdong-2')).statusCode).toBe(403)
    const ok = await verify('inspector-chengdong')
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json()).toMatchObject({ status: 'verified', selfHandled: true })
    // The detail offers the verifier their actions on a self-handled case like on any handled one.
    const other = (await report('worker-chengdong', { selfHandled: {} })).json()
    const offered = (await h.app.inject({ url: `/api/cases/${other.id}`, headers: h.as('leader-chengdong') })).json().allowedActions
    expect(offered).toEqual(['verify', 'send_back', 'note'])
  })

  it('stays owned by the grid even when its category expects a higher level', async () => {
    const res = await report('worker-chengdong', { category: 'city_appearance.illegal_construction', description: '违建苗头，已劝停', selfHandled: { note: '已劝停' } })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({ owningLevel: 4, status: 'handled' })
    const plain = await report('worker-chengdong', { category: 'city_appearance.illegal_construction', description: '违建' })
    expect(plain.json().owningLevel).toBe(3)
  })

  it('grid workers only: anyone else 403 (anonymous 401), nothing written', async () => {
    const n = await caseCount()
    for (const user of ['resident-zhang', 'leader-chengdong', 'inspector-chengdong', 'dispatcher-wucheng', 'admin']) {
      const res = await report(user, { selfHandled: { note: 'x' } })
      expect(res.statusCode, user).toBe(403)
      expect(res.json()).toMatchObject({ error: 'forbidden', field: 'selfHandled' })
    }
    const anon = await report(null, { selfHandled: {} })
    expect(anon.statusCode).toBe(401)
    expect(await caseCount()).toBe(n)
    // The body is checked like any other: an unknown field is named (by itself, the /api convention).
    const odd = await report('worker-chengdong', { selfHandled: { note: 'x', handler: 'someone' } })
    expect(odd.statusCode).toBe(400)
    expect(odd.json()).toMatchObject({ error: 'invalid_request', field: 'handler', message: 'body.handler is not allowed' })
  })

  it('all or nothing: an after-photo that is not theirs is 422 naming selfHandled.photos[0], and no case is left behind', async () => {
    const n = await caseCount()
    const events = (await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0].n
    const theirs = await uploadPhoto(h.app, h.as('worker-chengdong-2'))
    const res = await report('worker-chengdong', { selfHandled: { photos: [theirs] } })
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({ error: 'unknown_photo', field: 'selfHandled.photos[0]' })
    expect(await caseCount()).toBe(n)
    expect((await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(events)
  })

  it('with an Idempotency-Key the replay answers the handled case again, and one case exists', async () => {
    const key = randomUUID()
    const n = await caseCount()
    const first = await report('worker-chengdong', { selfHandled: { note: '已处置' } }, { 'idempotency-key': key })
    const again = await report('worker-chengdong', { selfHandled: { note: '已处置' } }, { 'idempotency-key': key })
    expect([first.statusCode, again.statusCode]).toEqual([201, 201])
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(first.json())
    expect(first.json()).toMatchObject({ status: 'handled', version: 5 })
    expect(await caseCount()).toBe(n + 1)
  })

  it('statistics count it: loop and overview figures carry selfHandled beside gridLevelShare', async () => {
    const grid = h.user('worker-chengdong').scopeRegionId!
    const loop = async () => (await h.app.inject({ url: `/api/stats/loop?region=${grid}`, headers: h.as('dispatcher-wucheng') })).json()
    const overview = async () => (await h.app.inject({ url: `/api/stats/overview?region=${grid}`, headers: h.as('dispatcher-wucheng') })).json()
    // The windows end at now, exclusive: the figures are read a second after the reports they should hold.
    const tick = () => (h.clock.now = new Date(h.clock.now.getTime() + 1000))
    tick()
    const [l0, o0] = [await loop(), await overview()]
    expect(l0).toHaveProperty('selfHandled')
    expect(l0).toHaveProperty('gridLevelShare')
    expect((await report('worker-chengdong', { selfHandled: {} })).statusCode).toBe(201)
    expect((await report('worker-chengdong', {})).statusCode).toBe(201)
    tick()
    const [l1, o1] = [await loop(), await overview()]
    expect(l1.selfHandled).toBe(l0.selfHandled + 1)
    expect(l1.reported).toBe(l0.reported + 2)
    expect(o1.last30Days.selfHandled).toBe(o0.last30Days.selfHandled + 1)
    const { rows } = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM cases WHERE self_handled AND grid_id = $1 AND reported_at >= $2::timestamptz - interval '30 days' AND reported_at < $2`,
      [grid, h.clock.now],
    )
    expect(l1.selfHandled).toBe(rows[0].n)
  })
})
