import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db } from '../../src/db/types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { TEST_SECRET, bearer, signIn } from '../auth/support.ts'

/**
 * The wall's statistics (issue #7): hourly trend, street / department ranking, heat points. The scenario lives on a
 * day no other suite uses (2031-03-05, Asia/Shanghai), so every figure of that window is asserted exactly.
 */
const at = (local: string) => new Date(`${local}+08:00`)
const T = at('2031-03-05T12:30:00')
const DAY = `from=2031-03-05&to=2031-03-05`

interface Place {
  id: string
  street: string
  streetName: string
  lon: number
  lat: number
}

/** The nth grid (by id) of a street, with a point inside it. */
async function gridOf(db: Db, street: string, nth: number): Promise<Place> {
  const { rows } = await db.query<Place>(
    `SELECT g.id, s.id AS street, s.name AS "streetName", ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat
       FROM regions g JOIN regions s ON s.id = ltree2text(subpath(g.path, 1, 1))
      WHERE g.level = 4 AND g.valid_to IS NULL AND s.id = $1 ORDER BY g.id LIMIT 1 OFFSET $2`,
    [street, nth],
  )
  return rows[0]
}

/** Each URL answers 400 and names its field (in `field` where the body has one, else in the message). */
async function expect400(app: AppInstance, cases: ReadonlyArray<readonly [url: string, field: string]>): Promise<void> {
  for (const [url, field] of cases) {
    const res = await app.inject(url)
    expect(res.statusCode, url).toBe(400)
    const body = res.json()
    expect(body.field ?? JSON.stringify(body), url).toContain(field)
  }
}

describe.each(DB_MODES)('wall statistics (%s)', (mode) => {
  const clock = { now: T }
  let app: AppInstance
  let db: Db
  let a: Place // a grid of the first street
  let b: Place // a grid of another street
  const ids: string[] = []

  async function report(local: string, p: Place, priority?: string) {
    clock.now = at(local)
    const res = await app.inject({
      method: 'POST',
      url: '/api/cases',
      headers: { 'x-actor': 'wall-stats' },
      payload: { category: 'public_facilities.road', description: 'wall stats', lon: p.lon, lat: p.lat, ...(priority ? { priority } : {}) },
    })
    expect(res.statusCode, res.body).toBe(201)
    ids.push(res.json().id)
    return res.json()
  }

  async function step(id: string, local: string, action: string, body: Record<string, unknown> = {}, actor = 'staff-1') {
    clock.now = at(local)
    const current = (await app.inject(`/api/cases/${id}`)).json()
    const res = await app.inject({
      method: 'POST',
      url: `/api/cases/${id}/actions/${action}`,
      headers: { 'x-actor': actor, 'if-match': `"${current.version}"` },
      payload: body,
    })
    expect(res.statusCode, `${action}: ${res.body}`).toBe(200)
  }

  const ok = async (url: string, headers: Record<string, string> = {}) => {
    clock.now = T
    const res = await app.inject({ url, headers })
    expect(res.statusCode, res.body).toBe(200)
    return res.json()
  }

  beforeAll(async () => {
    db = await testDb(mode)
    app = await buildApp({ db, now: () => clock.now })
    await app.ready()
    a = await gridOf(db, '330702001', 3)
    b = await gridOf(db, '330703001', 3)

    await report('2031-03-05T09:10:00', a)
    await report('2031-03-05T09:40:00', a, 'urgent')
    await report('2031-03-05T11:20:00', b)
    // The first case runs the whole loop (dispatched to municipal_gardens), closed at 11:50.
    await step(ids[0], '2031-03-05T09:20:00', 'register')
    await step(ids[0], '2031-03-05T09:30:00', 'dispatch', { department: 'municipal_gardens' })
    await step(ids[0], '2031-03-05T10:00:00', 'accept', {}, 'worker-1')
    await step(ids[0], '2031-03-05T11:00:00', 'handle', { note: '已处置' }, 'worker-1')
    await step(ids[0], '2031-03-05T11:30:00', 'verify', {}, 'verifier-1')
    await step(ids[0], '2031-03-05T11:50:00', 'close')
    // The second one is dispatched to the same department and left open.
    await step(ids[1], '2031-03-05T09:45:00', 'register')
    await step(ids[1], '2031-03-05T09:50:00', 'dispatch', { department: 'municipal_gardens' })
  })
  afterAll(() => app?.close())

  describe('GET /api/stats/hourly', () => {
    it('counts reports and closures per clock hour over the last 24 hours, the current hour last', async () => {
      const h = await ok('/api/stats/hourly')
      expect(h.hours).toHaveLength(24)
      expect(h.hours[23].start).toBe(at('2031-03-05T12:00:00').toISOString())
      expect(h.hours[0].start).toBe(at('2031-03-04T13:00:00').toISOString())
      const slot = (local: string) => h.hours.find((x: { start: string }) => x.start === at(local).toISOString())
      expect(slot('2031-03-05T09:00:00')).toEqual({ start: at('2031-03-05T09:00:00').toISOString(), reported: 2, closed: 0 })
      expect(slot('2031-03-05T11:00:00')).toMatchObject({ reported: 1, closed: 1 })
      const total = h.hours.reduce((s: number, x: { reported: number }) => s + x.reported, 0)
      expect(total).toBe(3)
    })

    it('is limited to a region when asked', async () => {
      const h = await ok(`/api/stats/hourly?region=${b.street}`)
      expect(h.region).toMatchObject({ id: b.street, level: 2 })
      expect(h.hours.reduce((s: number, x: { reported: number }) => s + x.reported, 0)).toBe(1)
    })
  })

  describe('GET /api/stats/ranking', () => {
    it('by street: every street with the loop figures of its cases in the window', async () => {
      const r = await ok(`/api/stats/ranking?by=street&${DAY}`)
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM regions WHERE level = 2 AND valid_to IS NULL`)
      expect(r.groups).toHaveLength(rows[0].n)
      const ga = r.groups.find((g: { key: string }) => g.key === a.street)
      expect(ga).toMatchObject({ name: a.streetName, reported: 2, closed: 1, open: 1, completionRate: 0.5, handled: 1, onTime: 1 })
      expect(r.groups.find((g: { key: string }) => g.key === b.street)).toMatchObject({ reported: 1, closed: 0, completionRate: 0 })
      const others = r.groups.filter((g: { key: string }) => g.key !== a.street && g.key !== b.street)
      expect(others.every((g: { reported: number }) => g.reported === 0)).toBe(true)
    })

    it('by street under a district: only its streets', async () => {
      const r = await ok(`/api/stats/ranking?by=street&region=330703&${DAY}`)
      expect(r.groups.length).toBeGreaterThan(1)
      expect(r.groups.every((g: { key: string }) => g.key.startsWith('330703'))).toBe(true)
      expect(r.groups.find((g: { key: string }) => g.key === b.street)).toMatchObject({ reported: 1 })
    })

    it('by department: the departments the cases went to (a road case goes to municipal_gardens from intake)', async () => {
      const r = await ok(`/api/stats/ranking?by=department&${DAY}`)
      expect(r.groups).toEqual([expect.objectContaining({ key: 'municipal_gardens', reported: 3, closed: 1, open: 2, completionRate: 1 / 3 })])
      expect(r.groups[0].name).toMatch(/\p{Script=Han}/u)
      // The English name from the departments table (the wall's English switch), a street ranking has none.
      const { rows } = await db.query<{ name_en: string }>(`SELECT name_en FROM departments WHERE code = 'municipal_gardens'`)
      expect(r.groups[0].nameEn).toBe(rows[0].name_en)
      expect(r.groups[0].nameEn).toMatch(/^[\x20-\x7e]+$/)
      const streets = await ok(`/api/stats/ranking?by=street&${DAY}`)
      expect(streets.groups[0]).not.toHaveProperty('nameEn')
    })

    it('refuses a missing or unknown `by` and a bad window with a 400 naming the field', async () => {
      clock.now = T
      await expect400(app, [
        ['/api/stats/ranking', 'by'],
        ['/api/stats/ranking?by=grid', 'by'],
        ['/api/stats/ranking?by=street&from=yesterday', 'from'],
        ['/api/stats/ranking?by=street&bogus=1', 'bogus'],
      ])
      expect((await app.inject('/api/stats/ranking?by=street&region=NOPE')).statusCode).toBe(404)
    })
  })

  describe('GET /api/stats/heat', () => {
    it('returns the points of the cases reported today, newest first', async () => {
      const h = await ok('/api/stats/heat?window=today')
      expect(h).toMatchObject({ window: 'today', count: 3, truncated: false, from: at('2031-03-05T00:00:00').toISOString(), to: T.toISOString() })
      const round = (x: number) => Math.round(x * 1e6) / 1e6
      expect(h.points).toEqual([[round(b.lon), round(b.lat)], [round(a.lon), round(a.lat)], [round(a.lon), round(a.lat)]])
    })

    it('windows of 7 and 30 days, a limit, and a region', async () => {
      expect((await ok('/api/stats/heat?window=7d')).count).toBe(3)
      expect(await ok('/api/stats/heat?window=30d&limit=2')).toMatchObject({ count: 2, truncated: true })
      expect((await ok(`/api/stats/heat?window=today&region=${b.street}`)).count).toBe(1)
    })

    it('refuses an unknown window or a limit out of range with a 400 naming the field', async () => {
      clock.now = T
      await expect400(app, [
        ['/api/stats/heat?window=week', 'window'],
        ['/api/stats/heat?limit=0', 'limit'],
        ['/api/stats/heat?limit=100001', 'limit'],
      ])
    })
  })
})

/**
 * The cross-filter (the wall's category ring and department ranking filter its other panels): every statistics route
 * takes `category` and `department` besides `region`. Its own day (2031-03-08) and grid, so figures are exact.
 */
describe.each(DB_MODES)('wall statistics filtered by category and department (%s)', (mode) => {
  const T2 = at('2031-03-08T12:00:00')
  const DAY2 = 'from=2031-03-08&to=2031-03-08'
  let app: AppInstance
  let db: Db
  let grid: Place

  const ok = async (url: string) => {
    const res = await app.inject({ url })
    expect(res.statusCode, res.body).toBe(200)
    return res.json()
  }

  beforeAll(async () => {
    db = await testDb(mode)
    const clock = { now: at('2031-03-08T10:00:00') }
    app = await buildApp({ db, now: () => clock.now })
    await app.ready()
    grid = await gridOf(db, '330702001', 7)
    // Three open cases at 10:00: two of one family going to two departments, one of another family.
    for (const category of ['public_facilities.water_drainage', 'public_facilities.road', 'sanitation.garbage']) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/cases',
        headers: { 'x-actor': 'wall-filter' },
        payload: { category, description: 'wall filter', lon: grid.lon, lat: grid.lat },
      })
      expect(res.statusCode, res.body).toBe(201)
    }
    clock.now = T2
  })
  afterAll(() => app?.close())

  it('overview: today and open narrowed by category and department, the filter echoed', async () => {
    const all = await ok(`/api/stats/overview?region=${grid.id}`)
    expect(all).toMatchObject({ category: null, department: null, reportedToday: 3 })
    const family = await ok(`/api/stats/overview?region=${grid.id}&category=public_facilities`)
    expect(family).toMatchObject({ category: 'public_facilities', department: null, reportedToday: 2 })
    expect(family.openByCategory.map((c: { category: string }) => c.category)).toEqual(['public_facilities'])
    const both = await ok(`/api/stats/overview?region=${grid.id}&category=public_facilities&department=water_supply`)
    expect(both).toMatchObject({ category: 'public_facilities', department: 'water_supply', reportedToday: 1 })
    expect((await ok(`/api/stats/overview?region=${grid.id}&category=sanitation&department=water_supply`)).reportedToday).toBe(0)
    // Open: every open case of the filter under the grid, whenever reported (other suites may add some): the database's count.
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM cases c JOIN regions r ON r.id = $1
        WHERE c.region_path <@ r.path AND c.department = 'water_supply' AND c.status IN ('reported','registered','dispatched','in_progress','handled','verified')`,
      [grid.id],
    )
    expect(rows[0].n).toBeGreaterThanOrEqual(1)
    expect((await ok(`/api/stats/overview?region=${grid.id}&department=water_supply`)).open.total).toBe(rows[0].n)
  })

  it('hourly, loop, heat and rankings take the same filter', async () => {
    const sum = (h: { hours: Array<{ reported: number }> }) => h.hours.reduce((s, x) => s + x.reported, 0)
    expect(sum(await ok(`/api/stats/hourly?region=${grid.id}`))).toBe(3)
    const hourly = await ok(`/api/stats/hourly?region=${grid.id}&category=public_facilities&department=municipal_gardens`)
    expect(hourly).toMatchObject({ category: 'public_facilities', department: 'municipal_gardens' })
    expect(sum(hourly)).toBe(1)

    expect(await ok(`/api/stats/loop?${DAY2}&department=water_supply`)).toMatchObject({ department: 'water_supply', reported: 1, open: 1 })
    expect((await ok(`/api/stats/loop?${DAY2}&category=sanitation`)).reported).toBe(1)

    const heat = await ok(`/api/stats/heat?window=today&department=sanitation`)
    expect(heat).toMatchObject({ department: 'sanitation', count: 1 })
    expect((await ok(`/api/stats/heat?window=today&category=public_facilities`)).count).toBe(2)

    const depts = await ok(`/api/stats/ranking?by=department&category=public_facilities&${DAY2}`)
    expect(depts.groups.map((g: { key: string; reported: number }) => [g.key, g.reported])).toEqual([
      ['municipal_gardens', 1],
      ['water_supply', 1],
    ])
    const streets = await ok(`/api/stats/ranking?by=street&department=sanitation&${DAY2}`)
    expect(streets.department).toBe('sanitation')
    expect(streets.groups.find((g: { key: string }) => g.key === grid.street)).toMatchObject({ reported: 1, open: 1 })
    expect(streets.groups.reduce((s: number, g: { reported: number }) => s + g.reported, 0)).toBe(1)
  })

  it('an unknown or malformed department or category is a 400 naming the field', async () => {
    await expect400(app, [
      ['/api/stats/overview?department=nobody', 'department'],
      ['/api/stats/hourly?department=Water-Supply', 'department'],
      ['/api/stats/heat?category=no_such_family', 'category'],
      ['/api/stats/ranking?by=street&department=nobody', 'department'],
    ])
  })
})

describe.each(DB_MODES)('wall statistics when signed in (%s)', (mode) => {
  let app: AppInstance
  beforeAll(async () => {
    app = await buildApp({ db: await testDb(mode), auth: { mode: 'token', secret: TEST_SECRET, addressLimit: { max: 10_000, windowSeconds: 60 } } })
    await app.ready()
  })
  afterAll(() => app?.close())

  it('anonymous 401; a street leader gets their street only, and another street answers 404', async () => {
    expect((await app.inject('/api/stats/heat')).statusCode).toBe(401)
    const { accessToken } = await signIn(app, 'leader-chengdong')
    const r = (await app.inject({ url: '/api/stats/ranking?by=street', headers: bearer(accessToken) })).json()
    expect(r.region).toMatchObject({ id: '330702001' })
    expect(r.groups.map((g: { key: string }) => g.key)).toEqual(['330702001'])
    expect((await app.inject({ url: '/api/stats/hourly?region=330703001', headers: bearer(accessToken) })).statusCode).toBe(404)
    expect((await app.inject({ url: '/api/stats/heat', headers: bearer(accessToken) })).json().region).toMatchObject({ id: '330702001' })
    const resident = await signIn(app, 'resident-zhang')
    expect((await app.inject({ url: '/api/stats/heat', headers: bearer(resident.accessToken) })).statusCode).toBe(403)
  })
})
