import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { DB_MODES } from '../../../test/support/db.ts'
import { fieldHarness, pointIn, uploadPhoto } from './field-support.ts'

/** "Me too" (同一问题已有人上报): POST /api/cases/:id/supplements adds to an existing case instead of a new report. */
describe.each(DB_MODES)('supplements (%s)', (mode) => {
  const h = fieldHarness(mode)
  const east = (m: number) => pointIn(h.db, h.user('worker-chengdong').scopeRegionId!, m)

  const report = async (user: string, body: Record<string, unknown> = {}) => {
    const res = await h.app.inject({
      method: 'POST', url: '/api/cases', headers: h.as(user),
      payload: { category: 'public_facilities.street_light', description: '路灯不亮（我也遇到）', ...(await east(0)), ...body },
    })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as { id: string; version: number; supporters: number }
  }
  const supplement = async (user: string | null, id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    h.app.inject({ method: 'POST', url: `/api/cases/${id}/supplements`, headers: { ...(user ? h.as(user) : {}), ...headers }, payload: body })
  const detail = (user: string, id: string) => h.app.inject({ url: `/api/cases/${id}`, headers: h.as(user) })
  const followers = async (id: string) =>
    (await h.db.query<{ actor: string }>('SELECT actor FROM case_followers WHERE case_id = $1 ORDER BY actor', [id])).rows.map((r) => r.actor)

  it('a neighbour adds to the case: a supplement row with note and photo, a new version and event, and they follow it', async () => {
    const c = await report('resident-zhang')
    const photo = await uploadPhoto(h.app, h.as('resident-li'))
    const madeAt = new Date(h.clock.now.getTime() - 5 * 60_000).toISOString()
    const res = await supplement('resident-li', c.id, { ...(await east(30)), note: '我家门口这盏也不亮', photos: [photo], madeAt })
    expect(res.statusCode, res.body).toBe(201)
    const { case: after, entry } = res.json()
    expect(after).toMatchObject({ id: c.id, version: c.version + 1, supporters: 1, status: 'reported', reporter: 'resident-zhang' })
    expect(res.headers.etag).toBe(`"${c.version + 1}"`)
    expect(entry).toMatchObject({ action: 'supplement', actor: 'resident-li', note: '我家门口这盏也不亮', fromStatus: 'reported', toStatus: 'reported', attachments: [`/api/photos/${photo}`] })
    expect(entry.data).toMatchObject({ madeAt })
    expect(entry.data.distanceM).toBeGreaterThan(25)
    expect(entry.data.distanceM).toBeLessThan(35)
    expect(entry.data).not.toHaveProperty('lon')
    expect(await followers(c.id)).toEqual(['resident-li'])
    const { rows } = await h.db.query<{ action: string; actors: string[] }>(
      `SELECT payload->>'action' AS action, actors FROM events WHERE kind = 'case:updated' AND payload->'case'->>'id' = $1`,
      [c.id],
    )
    expect(rows).toEqual([{ action: 'supplement', actors: expect.arrayContaining(['resident-zhang', 'resident-li']) }])
    // The timeline shows it to staff; the photo is the case's.
    const staff = (await detail('dispatcher-wucheng', c.id)).json()
    expect(staff.timeline.map((e: { action: string }) => e.action)).toEqual(['report', 'supplement'])
    expect(staff.photos.map((p: { id: string }) => p.id)).toContain(photo)
  })

  it('the follower reads the case and finds it among their cases, may not rate or act on it; the count shows in lists and nearby', async () => {
    const c = await report('resident-zhang')
    expect((await detail('resident-li', c.id)).statusCode).toBe(404)
    expect((await supplement('resident-li', c.id, await east(10))).statusCode).toBe(201)
    const read = await detail('resident-li', c.id)
    expect(read.statusCode).toBe(200)
    expect(read.json()).toMatchObject({ supporters: 1, allowedActions: [] })
    expect((await detail('resident-zhang', c.id)).json().allowedActions).toEqual(['note'])
    const mine = (await h.app.inject({ url: '/api/cases?status=open&limit=20000', headers: h.as('resident-li') })).json().cases as Array<{ id: string }>
    expect(mine.map((x) => x.id)).toContain(c.id)
    for (const action of ['rate', 'note']) {
      const res = await h.app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/${action}`, headers: h.as('resident-li'), payload: action === 'rate' ? { rating: 1 } : { note: 'x' } })
      expect(res.statusCode, action).toBe(403)
    }
    const p = await east(0)
    const near = (await h.app.inject({ url: `/api/cases/nearby?lon=${p.lon}&lat=${p.lat}` })).json().cases as Array<{ id: string; supporters: number }>
    expect(near.find((x) => x.id === c.id)?.supporters).toBe(1)
  })

  it('once per person: a second supplement is another row, the count stays; the reporter’s own adds a row and no follower', async () => {
    const c = await report('resident-zhang')
    expect((await supplement('resident-li', c.id, await east(5))).statusCode).toBe(201)
    const again = await supplement('resident-li', c.id, { ...(await east(8)), note: '还是不亮' })
    expect(again.statusCode).toBe(201)
    expect(again.json().case.supporters).toBe(1)
    const own = await supplement('resident-zhang', c.id, { ...(await east(2)), note: '补充：灯杆有编号 A-17' })
    expect(own.statusCode).toBe(201)
    expect(own.json().case).toMatchObject({ supporters: 1, version: c.version + 3 })
    expect(await followers(c.id)).toEqual(['resident-li'])
    const staff = await supplement('worker-chengdong', c.id, await east(1))
    expect(staff.json().case.supporters).toBe(2)
  })

  it('refuses: too far (422 naming lon), a case the caller could not find (404 like missing), a final case (409), nothing written', async () => {
    const c = await report('resident-zhang')
    const far = await supplement('resident-li', c.id, await east(260))
    expect(far.statusCode).toBe(422)
    expect(far.json()).toMatchObject({ error: 'too_far', field: 'lon' })
    // A dispute is not public: a neighbour never saw it nearby, so for them it does not exist; its staff may add to it.
    const dispute = await report('resident-zhang', { category: 'dispute.neighbour', description: '邻里纠纷（补充）' })
    const hidden = await supplement('resident-li', dispute.id, await east(5))
    expect(hidden.statusCode).toBe(404)
    expect(hidden.json()).toEqual({ error: 'case_not_found', message: `no case ${dispute.id}` })
    expect((await supplement('leader-chengdong', dispute.id, await east(5))).statusCode).toBe(201)
    const missing = await supplement('resident-li', '00000000-0000-4000-8000-000000000000', await east(5))
    expect(missing.statusCode).toBe(404)
    const rejected = await report('resident-zhang')
    const r = await h.app.inject({ method: 'POST', url: `/api/cases/${rejected.id}/actions/reject`, headers: { ...h.as('dispatcher-wucheng'), 'if-match': '"1"' }, payload: { reason: '非本辖区' } })
    expect(r.statusCode).toBe(200)
    const closed = await supplement('resident-li', rejected.id, await east(5))
    expect(closed.statusCode).toBe(409)
    expect(closed.json().error).toBe('case_not_open')
    expect((await supplement(null, c.id, await east(5))).statusCode).toBe(401)
    const bad = await supplement('resident-li', c.id, { ...(await east(5)), madeAt: '2020-01-01T00:00:00Z' })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().field).toBe('madeAt')
    expect(await followers(c.id)).toEqual([])
    expect(await followers(rejected.id)).toEqual([])
    expect((await detail('dispatcher-wucheng', c.id)).json()).toMatchObject({ version: 1, supporters: 0 })
  })

  it('with an Idempotency-Key the replay answers the first 201 and adds nothing', async () => {
    const c = await report('resident-zhang')
    const key = randomUUID()
    const body = { ...(await east(12)), note: '离线时拍的' }
    const first = await supplement('resident-li', c.id, body, { 'idempotency-key': key })
    const again = await supplement('resident-li', c.id, body, { 'idempotency-key': key })
    expect([first.statusCode, again.statusCode]).toEqual([201, 201])
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(first.json())
    const timeline = (await detail('dispatcher-wucheng', c.id)).json().timeline as Array<{ action: string }>
    expect(timeline.filter((e) => e.action === 'supplement')).toHaveLength(1)
  })

  it('a follower of an Open311 report does not get its intake record (the reporter’s contact details)', async () => {
    const p = await east(0)
    const posted = await h.app.inject({
      method: 'POST', url: '/open311/v2/requests.json',
      payload: { api_key: 'o311-demo-key', service_code: 'public_facilities.street_light', description: '路灯（Open311）', lat: p.lat, long: p.lon, phone: '13800138000' },
    })
    expect(posted.statusCode, posted.body).toBe(201)
    const id = posted.json()[0].x_gridcommand_id as string
    expect((await supplement('resident-li', id, await east(5))).statusCode).toBe(201)
    const follower = await detail('resident-li', id)
    expect(follower.statusCode).toBe(200)
    expect(follower.body).not.toContain('13800138000')
    const staff = await detail('dispatcher-wucheng', id)
    expect(staff.body).toContain('13800138000')
  })
})
