import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAMILY_CODES } from '../../../shared/domain/categories.ts'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db } from '../../src/db/types.ts'
import { escalateOverdue } from '../../src/services/escalation.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'

/**
 * Loop statistics over a scenario nobody else touches: one community of the demo data (the 18th by id) and the
 * working week 2026-04-13 (Mon) … 2026-04-17 (Fri), Asia/Shanghai. The database is shared with other suites, so the
 * window-based figures are asserted exactly and the live overview (which counts every open case of the region,
 * whenever reported) as the difference from a baseline taken at the same clock reading before the scenario.
 */
const at = (local: string) => new Date(`${local}+08:00`)
/** The clock reading every figure is asked at: Friday noon. */
const T = at('2026-04-17T12:00:00')
const WEEK = `from=${encodeURIComponent('2026-04-13T00:00:00+08:00')}&to=${encodeURIComponent('2026-04-18T00:00:00+08:00')}`

interface Harness {
  app: AppInstance
  db: Db
  clock: { now: Date }
}

interface Place {
  id: string
  name: string
  lon: number
  lat: number
}

describe.each(DB_MODES)('loop statistics (%s)', (mode) => {
  const h = { clock: { now: T } } as Harness
  let community: { id: string; name: string; parentId: string; districtId: string }
  let grids: Place[] // G01 … G05 of the community, with a point inside each
  const ids: Record<string, string> = {}
  let baseline: any

  async function report(key: string, local: string, grid: number, category: string, priority?: string) {
    h.clock.now = at(local)
    const { lon, lat } = grids[grid]
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/cases',
      headers: { 'x-actor': `res-${key}` },
      payload: { category, description: `stats ${key}`, lon, lat, ...(priority ? { priority } : {}) },
    })
    expect(res.statusCode, res.body).toBe(201)
    const c = res.json()
    ids[key] = c.id
    return c
  }

  /** Sets the clock, acts with the case's current version, expects success. */
  async function step(key: string, local: string, action: string, body: Record<string, unknown> = {}, actor = 'staff-1') {
    h.clock.now = at(local)
    const current = (await h.app.inject(`/api/cases/${ids[key]}`)).json()
    const res = await h.app.inject({
      method: 'POST',
      url: `/api/cases/${ids[key]}/actions/${action}`,
      headers: { 'x-actor': actor, 'if-match': `"${current.version}"` },
      payload: body,
    })
    expect(res.statusCode, `${key} ${action}: ${res.body}`).toBe(200)
    return res.json()
  }

  /** The whole loop at the given times: register, dispatch, accept, handle, verify, close. */
  async function loop(key: string, times: [string, string, string, string, string, string]) {
    const [register, dispatch, accept, handle, verify, close] = times
    await step(key, register, 'register')
    await step(key, dispatch, 'dispatch', { department: 'municipal_gardens' })
    await step(key, accept, 'accept', {}, 'worker-1')
    await step(key, handle, 'handle', { note: '已处置' }, 'worker-1')
    await step(key, verify, 'verify', {}, 'verifier-1')
    return step(key, close, 'close')
  }

  const get = async (url: string) => {
    h.clock.now = T
    return h.app.inject(url)
  }
  const ok = async (url: string) => {
    const res = await get(url)
    expect(res.statusCode, res.body).toBe(200)
    return res.json()
  }

  beforeAll(async () => {
    h.db = await testDb(mode)
    h.app = await buildApp({ db: h.db, now: () => h.clock.now })
    await h.app.ready()
    const { rows: [c] } = await h.db.query<{ id: string; name: string; parentId: string; districtId: string }>(
      `SELECT id, name, parent_id AS "parentId", subpath(path, 0, 1)::text AS "districtId" FROM regions WHERE level = 3 ORDER BY id LIMIT 1 OFFSET 17`,
    )
    community = c
    const { rows } = await h.db.query<Place>(
      `SELECT id, name, ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat
         FROM regions WHERE level = 4 AND parent_id = $1 AND valid_to IS NULL ORDER BY id`,
      [community.id],
    )
    grids = rows
    expect(grids.length).toBe(5)

    // Baseline of the live overview at T. Run the clock's pass at T first: the pass inside the scenario (at an
    // earlier time) then finds nothing but the scenario's own case, so the baseline stays true.
    await escalateOverdue(h.db, T)
    baseline = await ok(`/api/stats/overview?region=${community.id}`)

    // ---- The scenario (times are Asia/Shanghai) ----------------------------------------------------------------
    // Just outside the window on both sides (rejected at once, so they stay out of the open counts).
    await report('before', '2026-04-12T23:59:59', 3, 'sanitation.garbage')
    await step('before', '2026-04-12T23:59:59', 'reject', { reason: '窗口外' })

    // A — G01, road, high (24 natural hours: due Tue 09:00); handled Tue 08:00 (on time); rated 5.
    await report('A', '2026-04-13T09:00:00', 0, 'public_facilities.road', 'high')
    await loop('A', ['2026-04-13T09:30:00', '2026-04-13T10:00:00', '2026-04-13T11:00:00', '2026-04-14T08:00:00', '2026-04-14T10:00:00', '2026-04-14T11:00:00'])
    await step('A', '2026-04-14T12:00:00', 'rate', { rating: 5 }, 'res-A')

    // B — G02, street light, urgent (2 hours: due Mon 12:00); handled 15:30 (late, never escalated: no pass ran); rated 2.
    await report('B', '2026-04-13T10:00:00', 1, 'public_facilities.street_light', 'urgent')
    await loop('B', ['2026-04-13T10:10:00', '2026-04-13T10:30:00', '2026-04-13T11:30:00', '2026-04-13T15:30:00', '2026-04-13T16:00:00', '2026-04-13T17:00:00'])
    await step('B', '2026-04-14T09:00:00', 'rate', { rating: 2, comment: '太慢' }, 'res-B')

    // C — G03, road, urgent (due Tue 11:00); escalated by the clock at 11:30 (to the community, fresh limit 13:30);
    // handled 12:30 — within the new limit, but late: the clock escalated it.
    await report('C', '2026-04-14T09:00:00', 2, 'public_facilities.road', 'urgent')
    await step('C', '2026-04-14T09:15:00', 'register')
    await step('C', '2026-04-14T09:45:00', 'dispatch', { department: 'municipal_gardens' })
    await step('C', '2026-04-14T10:00:00', 'accept', {}, 'worker-1')
    h.clock.now = at('2026-04-14T11:30:00')
    const pass = await escalateOverdue(h.db, h.clock.now)
    expect(pass.escalated).toBeGreaterThanOrEqual(1)
    const escalatedC = (await h.app.inject(`/api/cases/${ids.C}`)).json()
    expect(escalatedC).toMatchObject({ owningLevel: 3, escalations: 1, dueAt: at('2026-04-14T13:30:00').toISOString() })
    await step('C', '2026-04-14T12:30:00', 'handle', { note: '已处置' }, 'worker-1')
    await step('C', '2026-04-14T13:00:00', 'verify', {}, 'verifier-1')
    await step('C', '2026-04-14T14:00:00', 'close')

    // D — G04, labour dispute: its category starts at the community (expected level 3); on time.
    const d = await report('D', '2026-04-15T09:00:00', 3, 'dispute.labour')
    expect(d.owningLevel).toBe(3)
    await loop('D', ['2026-04-15T09:20:00', '2026-04-15T09:40:00', '2026-04-15T10:40:00', '2026-04-15T14:40:00', '2026-04-15T15:40:00', '2026-04-15T16:00:00'])

    // E — G05, road, high (due Thu 10:00); the grid blows the whistle (吹哨) at 10:45 → community, fresh limit;
    // handled 13:30 (on time); verified and closed on Friday morning.
    await report('E', '2026-04-15T10:00:00', 4, 'public_facilities.road', 'high')
    await step('E', '2026-04-15T10:30:00', 'register')
    await step('E', '2026-04-15T10:45:00', 'escalate', { reason: '本级无法解决' }, 'grid-chief-1')
    await step('E', '2026-04-15T11:00:00', 'dispatch', { department: 'municipal_gardens' })
    await step('E', '2026-04-15T11:30:00', 'accept', {}, 'worker-1')
    await step('E', '2026-04-15T13:30:00', 'handle', { note: '已处置' }, 'worker-1')
    await step('E', '2026-04-17T09:30:00', 'verify', {}, 'verifier-1')
    await step('E', '2026-04-17T10:00:00', 'close')

    // F — G01, rejected; reported 07:00 on Thursday = Wednesday 23:00 UTC (the day groups are Shanghai days).
    await report('F', '2026-04-16T07:00:00', 0, 'sanitation.garbage')
    await step('F', '2026-04-16T07:30:00', 'reject', { reason: '不属于受理范围' })
    // G — G01, merged into A as a duplicate.
    await report('G', '2026-04-16T09:10:00', 0, 'sanitation.garbage')
    await step('G', '2026-04-16T09:20:00', 'merge', { into: ids.A })

    // Still open on Friday noon: H registered and overdue (due 11:00), I reported (due 22:00), J reported (due 12:30).
    await report('H', '2026-04-17T09:00:00', 1, 'public_facilities.road', 'urgent')
    await step('H', '2026-04-17T09:15:00', 'register')
    await report('I', '2026-04-17T10:00:00', 2, 'safety_hazard')
    await report('J', '2026-04-17T10:30:00', 4, 'public_facilities.road', 'urgent')

    await report('after', '2026-04-18T00:00:00', 3, 'sanitation.garbage')
    await step('after', '2026-04-18T00:00:00', 'reject', { reason: '窗口外' })
    h.clock.now = T
  })
  afterAll(() => h.app.close())

  /** The week's figures, worked out by hand from the scenario above. */
  const WEEK_TOTALS = {
    reported: 10, // A B C D E F G H I J
    registered: 6, // A B C D E H
    rejected: 1, // F
    merged: 1, // G
    closed: 5, // A B (rated) C D E
    open: 3, // H I J
    completionRate: 5 / (10 - 1 - 1),
    handled: 5, // A B C D E
    onTime: 3, // A D E (B handled after its due time; C escalated by the clock)
    onTimeRate: 3 / 5,
    overdueOpen: 1, // H
    escalated: 2, // C (clock) E (whistle)
    closedAtGrid: 2, // A B; C and E climbed, D started at the community
    gridLevelShare: 2 / 5,
    selfHandled: 0, // none handled on the spot (server/test/routes/self-handled.test.ts counts those)
    meanStageMinutes: {
      register: (30 + 10 + 15 + 20 + 30 + 15) / 6, // A B C D E H
      dispatch: (30 + 20 + 30 + 20 + 30) / 5,
      accept: (60 + 60 + 15 + 60 + 30) / 5,
      handle: (1260 + 240 + 150 + 240 + 120) / 5,
      verify: (120 + 30 + 30 + 60 + 2640) / 5,
      close: (60 + 60 + 60 + 20 + 30) / 5,
      total: (1560 + 420 + 300 + 420 + 2880) / 5,
    },
    satisfaction: { mean: 3.5, rated: 2, distribution: { '1': 0, '2': 1, '3': 0, '4': 0, '5': 1 } },
  }

  const ZERO = {
    reported: 0, registered: 0, rejected: 0, merged: 0, closed: 0, open: 0, completionRate: null, handled: 0, onTime: 0,
    onTimeRate: null, overdueOpen: 0, escalated: 0, closedAtGrid: 0, gridLevelShare: null, selfHandled: 0,
    meanStageMinutes: { register: null, dispatch: null, accept: null, handle: null, verify: null, close: null, total: null },
    satisfaction: { mean: null, rated: 0, distribution: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 } },
  }

  /** Every figure of a group is named: keeps the expectations below readable. */
  const figures = (f: Partial<typeof WEEK_TOTALS>) => ({ ...ZERO, ...f })

  it('counts the week under the community exactly', async () => {
    const s = await ok(`/api/stats/loop?region=${community.id}&${WEEK}`)
    const { groups, region, category, department, from, to, asOf, groupBy, ...totals } = s
    expect({ region, category, department, from, to, asOf, groupBy, groups }).toEqual({
      region: { id: community.id, name: community.name, level: 3 },
      category: null,
      department: null,
      from: at('2026-04-13T00:00:00').toISOString(),
      to: at('2026-04-18T00:00:00').toISOString(),
      asOf: T.toISOString(),
      groupBy: 'none',
      groups: undefined,
    })
    expect(totals).toEqual(WEEK_TOTALS)
    expect(WEEK_TOTALS.meanStageMinutes).toEqual({ register: 20, dispatch: 26, accept: 45, handle: 402, verify: 576, close: 46, total: 1116 })
  })

  it('reads bare dates as Asia/Shanghai days, `to` included, and a \'+\' sent unencoded as the offset', async () => {
    const s = await ok(`/api/stats/loop?region=${community.id}&from=2026-04-13&to=2026-04-17`)
    expect([s.from, s.to]).toEqual([at('2026-04-13T00:00:00').toISOString(), at('2026-04-18T00:00:00').toISOString()])
    expect(s.reported).toBe(10)
    // An unencoded '+' arrives as a space: read as the offset it was meant to be.
    const plain = await ok(`/api/stats/loop?region=${community.id}&from=2026-04-13T00:00:00+08:00&to=2026-04-18T00:00:00+08:00`)
    expect([plain.from, plain.to, plain.reported]).toEqual([s.from, s.to, 10])
    // Thursday alone: F and G (F at 07:00 Shanghai, still Wednesday in UTC).
    const thu = await ok(`/api/stats/loop?region=${community.id}&from=2026-04-16&to=2026-04-16`)
    expect(thu).toMatchObject({ reported: 2, rejected: 1, merged: 1, completionRate: null })
  })

  it('takes the case C escalated by the clock as late even though it was handled within its fresh limit', async () => {
    const c = (await get(`/api/cases/${ids.C}`)).json()
    expect(new Date(c.stages.handledAt).getTime()).toBeLessThan(new Date(c.dueAt).getTime())
    expect(c.timeline.map((e: any) => [e.action, e.data?.trigger ?? null])).toContainEqual(['escalate', 'overdue'])
    const s = await ok(`/api/stats/loop?region=${grids[2].id}&${WEEK}`) // G03: C and I
    expect(s).toMatchObject({ reported: 2, handled: 1, onTime: 0, onTimeRate: 0, escalated: 1 })
  })

  it('groups by child region: every grid of the community, with its name', async () => {
    const s = await ok(`/api/stats/loop?region=${community.id}&${WEEK}&groupBy=child_region`)
    expect(s.groups.map((g: any) => [g.key, g.name])).toEqual(grids.map((g) => [g.id, g.name]))
    const [g1, g2, g3, g4, g5] = s.groups.map(({ key: _k, name: _n, ...f }: any) => f)
    expect(g1).toEqual(figures({
      reported: 3, registered: 1, rejected: 1, merged: 1, closed: 1, completionRate: 1, handled: 1, onTime: 1, onTimeRate: 1,
      closedAtGrid: 1, gridLevelShare: 1,
      meanStageMinutes: { register: 30, dispatch: 30, accept: 60, handle: 1260, verify: 120, close: 60, total: 1560 },
      satisfaction: { mean: 5, rated: 1, distribution: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 1 } },
    })) // A F G
    expect(g2).toEqual(figures({
      reported: 2, registered: 2, closed: 1, open: 1, completionRate: 1 / 2, handled: 1, onTime: 0, onTimeRate: 0,
      overdueOpen: 1, closedAtGrid: 1, gridLevelShare: 1,
      meanStageMinutes: { register: (10 + 15) / 2, dispatch: 20, accept: 60, handle: 240, verify: 30, close: 60, total: 420 },
      satisfaction: { mean: 2, rated: 1, distribution: { '1': 0, '2': 1, '3': 0, '4': 0, '5': 0 } },
    })) // B H
    expect(g3).toEqual(figures({
      reported: 2, registered: 1, closed: 1, open: 1, completionRate: 1 / 2, handled: 1, onTime: 0, onTimeRate: 0, escalated: 1,
      closedAtGrid: 0, gridLevelShare: 0,
      meanStageMinutes: { register: 15, dispatch: 30, accept: 15, handle: 150, verify: 30, close: 60, total: 300 },
    })) // C I
    expect(g4).toEqual(figures({
      reported: 1, registered: 1, closed: 1, completionRate: 1, handled: 1, onTime: 1, onTimeRate: 1, gridLevelShare: 0,
      meanStageMinutes: { register: 20, dispatch: 20, accept: 60, handle: 240, verify: 60, close: 20, total: 420 },
    })) // D
    expect(g5).toEqual(figures({
      reported: 2, registered: 1, closed: 1, open: 1, completionRate: 1 / 2, handled: 1, onTime: 1, onTimeRate: 1, escalated: 1,
      gridLevelShare: 0,
      meanStageMinutes: { register: 30, dispatch: 30, accept: 30, handle: 120, verify: 2640, close: 30, total: 2880 },
    })) // E J
    const { groups: _g, groupBy: _b, ...totals } = s
    expect(totals).toMatchObject(WEEK_TOTALS)
  })

  it('scopes by any level: the street sees the community as one of its children; no region groups by district', async () => {
    const street = await ok(`/api/stats/loop?region=${community.parentId}&${WEEK}&groupBy=child_region`)
    expect(street.region.level).toBe(2)
    const mine = street.groups.find((g: any) => g.key === community.id)
    expect(mine).toMatchObject({ name: community.name, ...WEEK_TOTALS })
    const all = await ok(`/api/stats/loop?${WEEK}&groupBy=child_region`)
    expect(all.region).toBeNull()
    const { rows } = await h.db.query<{ id: string }>(`SELECT id FROM regions WHERE level = 1 AND valid_to IS NULL ORDER BY id`)
    expect(all.groups.map((g: any) => g.key)).toEqual(rows.map((r) => r.id))
    expect(all.groups.find((g: any) => g.key === community.districtId).reported).toBeGreaterThanOrEqual(10)
    expect(all.reported).toBe(all.groups.reduce((n: number, g: any) => n + g.reported, 0))
  })

  it('groups by Asia/Shanghai day, every day of the window', async () => {
    const s = await ok(`/api/stats/loop?region=${community.id}&${WEEK}&groupBy=day`)
    expect(s.groups.map((g: any) => [g.key, g.name, g.reported, g.closed, g.open])).toEqual([
      ['2026-04-13', null, 2, 2, 0], // A B
      ['2026-04-14', null, 1, 1, 0], // C
      ['2026-04-15', null, 2, 2, 0], // D E
      ['2026-04-16', null, 2, 0, 0], // F G
      ['2026-04-17', null, 3, 0, 3], // H I J
    ])
    expect(s.groups[3]).toMatchObject({ rejected: 1, merged: 1, completionRate: null })
    expect(s.groups[0]).toMatchObject({ onTime: 1, handled: 2, satisfaction: { mean: 3.5, rated: 2 } })
  })

  it('groups by family, and by code within a family; a family filter matches its children', async () => {
    const s = await ok(`/api/stats/loop?region=${community.id}&${WEEK}&groupBy=category`)
    expect(s.groups.map((g: any) => g.key)).toEqual(FAMILY_CODES)
    const by = Object.fromEntries(s.groups.map((g: any) => [g.key, g]))
    expect(by.public_facilities).toMatchObject({
      name: '公共设施', reported: 6, registered: 5, closed: 4, open: 2, completionRate: 4 / 6, handled: 4, onTime: 2, onTimeRate: 2 / 4,
      overdueOpen: 1, escalated: 2, closedAtGrid: 2, gridLevelShare: 2 / 4,
      meanStageMinutes: { register: (30 + 10 + 15 + 30 + 15) / 5, dispatch: (30 + 20 + 30 + 30) / 4, total: (1560 + 420 + 300 + 2880) / 4 },
    }) // A B C E H J
    expect(by.dispute).toMatchObject({ reported: 1, closed: 1, completionRate: 1, closedAtGrid: 0, gridLevelShare: 0 }) // D
    expect(by.sanitation).toMatchObject({ reported: 2, rejected: 1, merged: 1, closed: 0, completionRate: null }) // F G
    expect(by.safety_hazard).toMatchObject({ reported: 1, open: 1, completionRate: 0, overdueOpen: 0 }) // I
    const others = s.groups.filter((g: any) => !['public_facilities', 'dispute', 'sanitation', 'safety_hazard'].includes(g.key))
    for (const g of others) expect(g, g.key).toMatchObject(ZERO)

    const family = await ok(`/api/stats/loop?region=${community.id}&${WEEK}&category=public_facilities&groupBy=category`)
    expect(family).toMatchObject({ category: 'public_facilities', reported: 6, closed: 4, completionRate: 4 / 6 })
    expect(family.groups.map((g: any) => [g.key, g.reported])).toEqual([
      ['public_facilities', 0],
      ['public_facilities.street_light', 1], // B
      ['public_facilities.water_drainage', 0],
      ['public_facilities.road', 5], // A C E H J
      ['public_facilities.manhole', 0],
    ])
    const child = await ok(`/api/stats/loop?region=${community.id}&${WEEK}&category=public_facilities.street_light`)
    expect(child).toMatchObject({ reported: 1, closed: 1, onTime: 0, satisfaction: { mean: 2, rated: 1 } })
  })

  it('defaults to the last 30 days up to now', async () => {
    const s = await ok(`/api/stats/loop?region=${community.id}`)
    expect([s.from, s.to]).toEqual([new Date(T.getTime() - 30 * 86_400_000).toISOString(), T.toISOString()])
    // 'before' (Sunday 23:59:59) and A … J; 'after' is reported after now.
    expect(s).toMatchObject({ reported: 11, rejected: 2, merged: 1, closed: 5, open: 3, completionRate: 5 / 8 })
  })

  it('answers 400 naming the field for bad windows and filters, 404 for an unknown region', async () => {
    const r = community.id
    const cases: Array<[string, number, string?]> = [
      [`region=${r}&from=yesterday`, 400, 'from'],
      [`region=${r}&to=2026-02-30`, 400, 'to'],
      [`region=${r}&from=2026-04-13T25:00:00%2B08:00`, 400, 'from'],
      [`region=${r}&from=2026-04-13T08:00:00`, 400, 'from'], // no offset: ambiguous
      [`region=${r}&from=2026-04-17&to=2026-04-13`, 400, 'from'],
      [`region=${r}&from=2025-01-01&to=2026-04-17`, 400, 'from'],
      [`region=${r}&groupBy=week`, 400, 'groupBy'],
      [`region=${r}&category=aliens`, 400, 'category'],
      [`region=${r}&category=Not%20a%20code`, 400, 'category'],
      [`region=${r}&colour=red`, 400, 'colour'],
      [`region=no_such_region`, 404, 'region'],
    ]
    for (const [query, status, field] of cases) {
      const res = await get(`/api/stats/loop?${query}`)
      expect(res.statusCode, `${query}: ${res.body}`).toBe(status)
      expect(res.json().field, query).toBe(field)
      expect(res.json().message, query).toBeTruthy()
    }
    // 366 days is the longest window.
    const longest = await get(`/api/stats/loop?region=${r}&from=2025-04-17&to=2026-04-17`)
    expect(longest.statusCode, longest.body).toBe(200)
    expect(longest.json().reported).toBe(11)
    expect((await get('/api/stats/overview?region=no_such_region')).statusCode).toBe(404)
  })

  it('serves the live overview for the wall', async () => {
    const o = await ok(`/api/stats/overview?region=${community.id}`)
    const b = baseline
    expect(o.region).toEqual({ id: community.id, name: community.name, level: 3 })
    expect([o.asOf, o.day]).toEqual([T.toISOString(), '2026-04-17'])
    expect(o.open.byStatus).toEqual({
      ...b.open.byStatus,
      reported: b.open.byStatus.reported + 2, // I J
      registered: b.open.byStatus.registered + 1, // H
    })
    expect(o.open.total).toBe(b.open.total + 3)
    expect(o.overdueNow).toBe(b.overdueNow + 1) // H
    expect(o.dueNextHour).toBe(b.dueNextHour + 1) // J, due 12:30
    expect(o.reportedToday).toBe(b.reportedToday + 3) // H I J
    expect(o.closedToday).toBe(b.closedToday + 1) // E, closed Friday 10:00
    const l = b.last30Days
    expect(o.last30Days).toEqual({
      from: new Date(T.getTime() - 30 * 86_400_000).toISOString(),
      to: T.toISOString(),
      reported: l.reported + 11, // before, A … J
      rejected: l.rejected + 2, // before, F
      merged: l.merged + 1, // G
      closed: l.closed + 5,
      completionRate: (l.closed + 5) / (l.reported + 11 - l.rejected - 2 - l.merged - 1),
      selfHandled: l.selfHandled,
    })
    const cat = (o: any, code: string) => o.openByCategory.find((c: any) => c.category === code) ?? { open: 0, overdue: 0 }
    expect(cat(o, 'public_facilities')).toMatchObject({ name: '公共设施', open: cat(b, 'public_facilities').open + 2, overdue: cat(b, 'public_facilities').overdue + 1 })
    expect(cat(o, 'safety_hazard')).toMatchObject({ open: cat(b, 'safety_hazard').open + 1, overdue: cat(b, 'safety_hazard').overdue })
    const opens = o.openByCategory.map((c: any) => c.open)
    expect(opens).toEqual([...opens].sort((x: number, y: number) => y - x))

    // Everything, no region: at least this community's share.
    const all = await ok('/api/stats/overview')
    expect(all.region).toBeNull()
    expect(all.open.total).toBeGreaterThanOrEqual(o.open.total)
  })
})
