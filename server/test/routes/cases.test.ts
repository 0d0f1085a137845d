import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db } from '../../src/db/types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'

const VALID = { category: 'public_facilities', description: '路灯不亮', lon: 119.652, lat: 29.083 }

async function counts(db: Db) {
  const { rows } = await db.query<{ cases: number; timeline: number; events: number }>(
    `SELECT (SELECT count(*) FROM cases)::int AS cases, (SELECT count(*) FROM case_events)::int AS timeline,
            (SELECT count(*) FROM events)::int AS events`,
  )
  return rows[0]
}

describe.each(DB_MODES)('cases API (%s)', (mode) => {
  let app: AppInstance
  let db: Db
  beforeAll(async () => {
    db = await testDb(mode)
    app = await buildApp({ db })
    await app.ready()
  })
  afterAll(() => app.close())

  it('POST /api/cases reports a case resolved to its grid and logs it, in one go', async () => {
    const before = await counts(db)
    const res = await app.inject({ method: 'POST', url: '/api/cases', payload: VALID })
    expect(res.statusCode).toBe(201)
    const c = res.json()
    expect(c).toMatchObject({ status: 'reported', category: VALID.category, description: VALID.description, version: 1 })
    expect(c.lon).toBeCloseTo(VALID.lon, 9)
    expect(c.lat).toBeCloseTo(VALID.lat, 9)
    expect(c.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(c.code).toMatch(/^GC\d{8}\d{6,}$/)
    expect(new Date(c.reportedAt).getTime()).toBeGreaterThan(Date.now() - 60_000)
    const resolved = (await app.inject(`/api/regions/resolve?lon=${VALID.lon}&lat=${VALID.lat}`)).json()
    expect(c.regions).toEqual(resolved.regions)
    expect(c.regions.map((r: any) => r.level)).toEqual([1, 2, 3, 4, 5])

    expect(await counts(db)).toEqual({ cases: before.cases + 1, timeline: before.timeline + 1, events: before.events + 1 })
    const { rows } = await db.query<{ kind: string; path: string; caseId: string; grid: string }>(
      `SELECT e.kind, e.region_path::text AS path, e.payload->'case'->>'id' AS "caseId", c.grid_id AS grid
         FROM events e JOIN cases c ON c.id = (e.payload->'case'->>'id')::uuid ORDER BY e.seq DESC LIMIT 1`,
    )
    expect(rows[0]).toEqual({ kind: 'case:created', path: c.regions.map((r: any) => r.id).join('.'), caseId: c.id, grid: c.regions[3].id })
  })

  it('GET /api/cases?status=open lists it, newest first', async () => {
    const created = (await app.inject({ method: 'POST', url: '/api/cases', payload: { ...VALID, description: 'newest' } })).json()
    // Within the last minute and the next: other suites on the shared database report cases on their own clocks (the
    // wall's stats suite on a day in 2031), which would otherwise be "newer" than this one.
    const window = `from=${new Date(Date.now() - 60_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`
    const res = await app.inject(`/api/cases?status=open&${window}`)
    expect(res.statusCode).toBe(200)
    const { cases } = res.json()
    expect(cases[0].id).toBe(created.id)
    expect(cases.every((x: any) => !['closed', 'rated', 'rejected', 'merged'].includes(x.status))).toBe(true)
    const times = cases.map((x: any) => Date.parse(x.reportedAt))
    expect(times).toEqual([...times].sort((a, b) => b - a))
  })

  it('answers 422 outside_grid for a point outside every grid and writes nothing', async () => {
    const before = await counts(db)
    const res = await app.inject({ method: 'POST', url: '/api/cases', payload: { ...VALID, lon: 121.47, lat: 31.23 } })
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({ error: 'outside_grid' })
    expect(await counts(db)).toEqual(before)
  })

  it.each([
    ['category missing', { description: 'x', lon: 119.65, lat: 29.08 }, 'category'],
    ['category unknown', { ...VALID, category: 'aliens' }, 'category'],
    ['description empty', { ...VALID, description: '' }, 'description'],
    ['description not a string', { ...VALID, description: 42 }, 'description'],
    ['lon missing', { category: 'dispute', description: 'x', lat: 29.08 }, 'lon'],
    ['lon a string', { ...VALID, lon: 'east' }, 'lon'],
    ['lat above 90', { ...VALID, lat: 95 }, 'lat'],
    ['an unknown field', { ...VALID, severity: 'urgent' }, 'severity'],
    ['priority not one of the three', { ...VALID, priority: 'asap' }, 'priority'],
    ['source not a source', { ...VALID, source: 'api' }, 'source'],
    ['photos not ids', { ...VALID, photos: ['x'] }, 'photos.0'],
  ])('answers 400 naming the field when %s, and writes nothing', async (_what, payload, field) => {
    const before = await counts(db)
    const res = await app.inject({ method: 'POST', url: '/api/cases', payload })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ error: 'invalid_request', field })
    expect(res.json().message).toContain(field)
    expect(await counts(db)).toEqual(before)
  })

  it('answers 400 for a body that is not JSON', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/cases', headers: { 'content-type': 'application/json' }, payload: '{"category":' })
    expect(res.statusCode).toBe(400)
  })

  it('answers 404 in JSON for an unknown API route', async () => {
    const res = await app.inject('/api/nope')
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ error: 'not_found' })
  })
})
