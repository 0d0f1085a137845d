import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { pruneUnattachedPhotos } from '../../src/services/photos.ts'
import { DB_MODES } from '../../../test/support/db.ts'
import { fieldHarness, pointIn, uploadPhoto } from './field-support.ts'

/** Patrol check-ins (走访打卡): POST /api/checkins, GET /api/checkins, their photos and their event. */
describe.each(DB_MODES)('patrol check-ins (%s)', (mode) => {
  const h = fieldHarness(mode, new Date('2026-11-20T10:00:00+08:00'))

  const post = (user: string | null, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
    h.app.inject({ method: 'POST', url: '/api/checkins', headers: { ...(user ? h.as(user) : {}), ...headers }, payload })
  const list = (user: string | null, query = '') => h.app.inject({ url: `/api/checkins${query}`, headers: user ? h.as(user) : {} })
  const count = async () => (await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM patrol_checkins')).rows[0].n
  const here = () => pointIn(h.db, h.user('worker-chengdong').scopeRegionId!)

  it('a grid worker checks in at a place of their grid: resolved, stored at the server’s time, photos attached, on the log', async () => {
    const me = h.user('worker-chengdong')
    const photo = await uploadPhoto(h.app, h.as('worker-chengdong'))
    const madeAt = new Date(h.clock.now.getTime() - 30 * 60_000).toISOString()
    const at = await here()
    const res = await post('worker-chengdong', { ...at, kind: 'household', address: '桃园小区3幢201', note: '独居老人，状态良好', photos: [photo], madeAt })
    expect(res.statusCode, res.body).toBe(201)
    const k = res.json()
    expect(k).toMatchObject({
      workerId: me.workerId, actor: me.workerId, kind: 'household', at: h.clock.now.toISOString(), madeAt, lon: at.lon, lat: at.lat,
      gridId: me.scopeRegionId, address: '桃园小区3幢201', note: '独居老人，状态良好', photos: [{ id: photo, url: `/api/photos/${photo}` }],
    })
    expect(k.workerName).toEqual(expect.any(String))
    expect(k.regions.map((r: { level: number }) => r.level).slice(0, 4)).toEqual([1, 2, 3, 4])
    const { rows } = await h.db.query<{ path: string; photos: string[]; photoOwner: string }>(
      `SELECT k.region_path::text AS path, k.photos::text[] AS photos, p.checkin_id::text AS "photoOwner"
         FROM patrol_checkins k JOIN photos p ON p.id = $2 WHERE k.id = $1`,
      [k.id, photo],
    )
    expect(rows[0]).toMatchObject({ photos: [photo], photoOwner: k.id })
    expect(rows[0].path.split('.')).toContain(me.scopeRegionId)
    const { rows: ev } = await h.db.query<{ path: string; actors: string[]; payload: { checkin: unknown } }>(
      `SELECT region_path::text AS path, actors, payload FROM events WHERE kind = 'checkin:created' AND payload->'checkin'->>'id' = $1`,
      [k.id],
    )
    expect(ev).toHaveLength(1)
    expect(ev[0]).toMatchObject({ path: rows[0].path, actors: [me.workerId], payload: { checkin: k } })
  })

  it('outside every grid → 422 outside_grid naming lon; a bad madeAt → 400; nothing written', async () => {
    const n = await count()
    const away = await post('worker-chengdong', { lon: 121.47, lat: 31.23, kind: 'place' })
    expect(away.statusCode).toBe(422)
    expect(away.json()).toMatchObject({ error: 'outside_grid', field: 'lon' })
    const late = await post('worker-chengdong', { ...(await here()), kind: 'place', madeAt: '2020-01-01T00:00:00Z' })
    expect(late.statusCode).toBe(400)
    expect(late.json().field).toBe('madeAt')
    const kind = await post('worker-chengdong', { ...(await here()), kind: 'party' })
    expect(kind.statusCode).toBe(400)
    expect(kind.json().field).toBe('kind')
    expect(await count()).toBe(n)
  })

  it('who records: the grid worker their own, an admin for a named worker; nobody else', async () => {
    const at = await here()
    const n = await count()
    for (const u of ['resident-zhang', 'dispatcher-wucheng', 'leader-chengdong', 'inspector-chengdong', 'commander']) {
      const res = await post(u, { ...at, kind: 'place', workerId: h.user('worker-chengdong').workerId })
      expect(res.statusCode, u).toBe(403)
    }
    expect((await post(null, { ...at, kind: 'place' })).statusCode).toBe(401)
    const forOther = await post('worker-chengdong', { ...at, kind: 'place', workerId: h.user('worker-chengdong-2').workerId })
    expect(forOther.statusCode).toBe(403)
    expect(forOther.json().field).toBe('workerId')
    const adminBare = await post('admin', { ...at, kind: 'place' })
    expect(adminBare.statusCode).toBe(400)
    expect(adminBare.json().field).toBe('workerId')
    const adminUnknown = await post('admin', { ...at, kind: 'place', workerId: 'W-nobody' })
    expect(adminUnknown.statusCode).toBe(422)
    expect(adminUnknown.json()).toMatchObject({ error: 'unknown_worker', field: 'workerId' })
    expect(await count()).toBe(n)
    const gateway = await post('admin', { ...at, kind: 'building', workerId: h.user('worker-chengdong-2').workerId })
    expect(gateway.statusCode, gateway.body).toBe(201)
    expect(gateway.json()).toMatchObject({ workerId: h.user('worker-chengdong-2').workerId, actor: 'admin' })
  })

  it('an Idempotency-Key replays the first 201 and records one check-in', async () => {
    const key = randomUUID()
    const body = { ...(await here()), kind: 'building', note: '离线补传' }
    const n = await count()
    const first = await post('worker-chengdong', body, { 'idempotency-key': key })
    const again = await post('worker-chengdong', body, { 'idempotency-key': key })
    expect([first.statusCode, again.statusCode]).toEqual([201, 201])
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(first.json())
    expect(await count()).toBe(n + 1)
    const other = await post('worker-chengdong', { ...body, note: '另一次' }, { 'idempotency-key': key })
    expect(other.statusCode).toBe(422)
  })

  it('GET: GeoJSON in the caller’s scope — staff of the area and the worker themselves; residents 403', async () => {
    const me = h.user('worker-chengdong')
    const k = (await post('worker-chengdong', { ...(await here()), kind: 'place', note: '巡查消防通道' })).json()
    const ids = async (user: string, query = '') => {
      const res = await list(user, query)
      expect(res.statusCode, `${user}: ${res.body}`).toBe(200)
      return (res.json().features as Array<{ id: string }>).map((f) => f.id)
    }
    for (const u of ['admin', 'commander', 'dispatcher-wucheng', 'leader-chengdong', 'inspector-chengdong', 'worker-chengdong']) {
      expect(await ids(u), u).toContain(k.id)
    }
    for (const u of ['dispatcher-jindong', 'leader-chengzhong', 'worker-chengzhong']) expect(await ids(u), u).not.toContain(k.id)
    expect((await list('resident-zhang')).statusCode).toBe(403)
    expect((await list(null)).statusCode).toBe(401)

    const fc = (await list('dispatcher-wucheng', `?worker=${me.workerId}&region=${me.scopeRegionId}`)).json()
    expect(fc.type).toBe('FeatureCollection')
    const feature = fc.features.find((f: { id: string }) => f.id === k.id)
    expect(feature).toEqual({
      type: 'Feature',
      id: k.id,
      geometry: { type: 'Point', coordinates: [k.lon, k.lat] },
      properties: { id: k.id, workerId: me.workerId, workerName: k.workerName, kind: 'place', at: k.at, madeAt: null, address: null, note: '巡查消防通道', photoCount: 0 },
    })
    expect(fc.features.every((f: { properties: { workerId: string } }) => f.properties.workerId === me.workerId)).toBe(true)
    const ats = fc.features.map((f: { properties: { at: string } }) => f.properties.at)
    expect(ats).toEqual([...ats].sort().reverse())
    // Filters: another worker, another region, a window before it, a limit.
    expect(await ids('dispatcher-wucheng', `?worker=${h.user('worker-chengzhong').workerId}`)).not.toContain(k.id)
    expect(await ids('admin', '?region=330703')).not.toContain(k.id)
    const before = new Date(h.clock.now.getTime() - 3_600_000).toISOString()
    expect(await ids('admin', `?to=${encodeURIComponent(before)}`)).not.toContain(k.id)
    const one = (await list('admin', `?worker=${me.workerId}&limit=1`)).json()
    expect(one.features).toHaveLength(1)
    expect(one.truncated).toBe(true)
    const bad = await list('admin', '?region=no_such_region')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().field).toBe('region')
    expect((await list('admin', '?limit=5001')).statusCode).toBe(400)
  })

  it('photos of a check-in: read by whoever reads the check-in, never by residents or the public; not pruned; not reusable', async () => {
    const photo = await uploadPhoto(h.app, h.as('worker-chengdong'))
    const res = await post('worker-chengdong', { ...(await here()), kind: 'place', photos: [photo] })
    expect(res.statusCode, res.body).toBe(201)
    const get = (user: string | null) => h.app.inject({ url: `/api/photos/${photo}`, headers: user ? h.as(user) : {} })
    for (const u of ['worker-chengdong', 'leader-chengdong', 'dispatcher-wucheng', 'admin']) expect((await get(u)).statusCode, u).toBe(200)
    for (const u of ['dispatcher-jindong', 'resident-zhang', 'worker-chengzhong']) expect((await get(u)).statusCode, u).toBe(404)
    expect((await get(null)).statusCode).toBe(401)
    // A day and more later the unattached-photo sweep leaves it alone.
    await pruneUnattachedPhotos(h.db, '/nonexistent-uploads', new Date(h.clock.now.getTime() + 3 * 86_400_000))
    expect((await h.db.query('SELECT 1 FROM photos WHERE id = $1', [photo])).rows).toHaveLength(1)
    // It belongs to the check-in: neither a case nor another check-in can take it.
    const again = await post('worker-chengdong', { ...(await here()), kind: 'place', photos: [photo] })
    expect(again.statusCode).toBe(422)
    expect(again.json()).toMatchObject({ error: 'photo_in_use', field: 'photos[0]' })
    const report = await h.app.inject({ method: 'POST', url: '/api/cases', headers: h.as('worker-chengdong'), payload: { category: 'sanitation', description: '照片复用', ...(await here()), photos: [photo] } })
    expect(report.statusCode).toBe(422)
    expect(report.json().error).toBe('photo_in_use')
    // Somebody else's upload is not theirs to attach.
    const theirs = await uploadPhoto(h.app, h.as('worker-chengdong-2'))
    const taken = await post('worker-chengdong', { ...(await here()), kind: 'place', photos: [theirs] })
    expect(taken.statusCode).toBe(422)
    expect(taken.json()).toMatchObject({ error: 'unknown_photo', field: 'photos[0]' })
  })
})
