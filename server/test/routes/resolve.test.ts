import { bbox as turfBbox, booleanPointInPolygon } from '@turf/turf'
import type { Feature, MultiPolygon, Polygon } from 'geojson'
import RBush from 'rbush'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import { createPgDb } from '../../src/db/pg-db.ts'
import type { Db, Queryable } from '../../src/db/types.ts'
import { buildCellIndex, CELL_BOUNDARY, CELL_OUTSIDE } from '../../src/repos/resolve/cell-index.ts'
import { cellLookup } from '../../src/repos/resolve/cell-lookup.ts'
import { RegionResolver, regionResolver } from '../../src/repos/resolve/resolver.ts'
import { wkbRings } from '../../src/repos/wkb.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'

/**
 * The tests that build the whole cell index (several times) take 4–11 s on an idle 2-core machine; on one shared with
 * a browser they took three times that. Their limit is for a hang, not a speed check (bench/resolve.ts times it).
 */
const HEAVY_MS = 120_000

type Area = Feature<Polygon | MultiPolygon, { id: string; parentId: string | null; level: number }>
interface Item { minX: number; minY: number; maxX: number; maxY: number; f: Area }

/** mulberry32, so the 20,000 oracle points are the same on every run. */
function prng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const bbox = (f: Area) => turfBbox(f) as [number, number, number, number]

/** Distance in degrees from a point to the nearest edge of a (multi)polygon. */
function edgeDistance([px, py]: [number, number], f: Area): number {
  const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates
  let best = Infinity
  for (const poly of polys)
    for (const ring of poly)
      for (let i = 1; i < ring.length; i++) {
        const [ax, ay] = ring[i - 1]
        const [bx, by] = ring[i]
        const [dx, dy] = [bx - ax, by - ay]
        const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy || 1)))
        best = Math.min(best, Math.hypot(px - (ax + t * dx), py - (ay + t * dy)))
      }
  return best
}

describe.each(DB_MODES)('point → region resolution (%s)', (mode) => {
  let app: AppInstance
  let db: Db
  const byLevel = new Map<number, { features: Area[]; index: RBush<Item>; byId: Map<string, Area> }>()
  beforeAll(async () => {
    db = await testDb(mode)
    app = await buildApp({ db })
    await app.ready()
    // The oracle works on the polygons as the API exports them, independently of PostGIS.
    for (const level of [3, 4, 5]) {
      const features: Area[] = (await app.inject(`/api/regions?level=${level}`)).json().features
      const index = new RBush<Item>()
      index.load(features.map((f) => { const [minX, minY, maxX, maxY] = bbox(f); return { minX, minY, maxX, maxY, f } }))
      byLevel.set(level, { features, index, byId: new Map(features.map((f) => [f.id as string, f])) })
    }
  })
  afterAll(() => app.close())

  const resolve = async (points: Array<[number, number]>, extra: object = {}) => {
    const res = await app.inject({ method: 'POST', url: '/api/regions/resolve', payload: { points, ...extra } })
    expect(res.statusCode).toBe(200)
    return res.json().results as Array<Array<{ id: string; name: string; level: number }> | null>
  }
  const containing = (level: number, p: [number, number]) =>
    byLevel.get(level)!.index.search({ minX: p[0], minY: p[1], maxX: p[0], maxY: p[1] }).filter((i) => booleanPointInPolygon(p, i.f)).map((i) => i.f.id as string)

  it('agrees with an independent point-in-polygon oracle on 20,000 random points', async () => {
    const rand = prng(7)
    const micro = byLevel.get(5)!.features
    const all = micro.map(bbox)
    const [minX, minY, maxX, maxY] = [Math.min(...all.map((b) => b[0])), Math.min(...all.map((b) => b[1])), Math.max(...all.map((b) => b[2])), Math.max(...all.map((b) => b[3]))]
    const points: Array<[number, number]> = Array.from({ length: 20_000 }, () => [minX + rand() * (maxX - minX), minY + rand() * (maxY - minY)])
    const results = [...(await resolve(points.slice(0, 10_000))), ...(await resolve(points.slice(10_000)))]
    expect(results).toHaveLength(points.length)

    const disagreements: string[] = []
    let inside = 0
    let nearEdge = 0
    points.forEach((p, i) => {
      const chain = results[i]
      for (const level of [5, 4, 3]) {
        const oracle = containing(level, p)
        const got = chain?.find((r) => r.level === level)?.id
        const agrees = got ? oracle.includes(got) : oracle.length === 0
        if (agrees) continue
        // Only tolerated within 1e-9° of an edge of a polygon involved.
        const involved = [...oracle, ...(got ? [got] : [])].map((id) => byLevel.get(level)!.byId.get(id)!)
        if (involved.some((f) => edgeDistance(p, f) < 1e-9)) nearEdge++
        else disagreements.push(`${p} level ${level}: resolver ${got ?? 'none'}, oracle ${oracle.join('|') || 'none'}`)
      }
      if (chain) inside++
    })
    expect(disagreements).toEqual([])
    // The points are spread over the bounding box: a good share falls inside the region, a good share outside.
    expect(inside).toBeGreaterThan(5000)
    expect(inside).toBeLessThan(points.length)
    expect(nearEdge).toBeLessThan(5)
  })

  it('returns the chain from district to micro-grid, each region the parent of the next', async () => {
    const [chain] = await resolve([[119.652, 29.083]])
    expect(chain!.map((r) => r.level)).toEqual([1, 2, 3, 4, 5])
    for (let i = 1; i < 5; i++) {
      const f = byLevel.get(chain![i].level)?.byId.get(chain![i].id)
      if (f) expect(f.properties.parentId).toBe(chain![i - 1].id)
    }
  })

  it('resolves a shared vertex and a shared edge to exactly one region per level, the same every time', async () => {
    // Find two neighbouring micro-grids and a vertex they share.
    const micro = byLevel.get(5)!
    let shared: [number, number] | undefined
    let edgeMid: [number, number] | undefined
    const a = micro.features[Math.floor(micro.features.length / 2)]
    const ring = (a.geometry.type === 'Polygon' ? a.geometry.coordinates : a.geometry.coordinates[0])[0]
    for (let i = 1; i < ring.length && !shared; i++) {
      const v = ring[i] as [number, number]
      const owners = containing(5, v)
      if (owners.length >= 2) {
        shared = v
        const w = ring[i - 1] as [number, number]
        if (containing(5, w).length >= 2) edgeMid = [(v[0] + w[0]) / 2, (v[1] + w[1]) / 2]
      }
    }
    expect(shared, 'a vertex shared by two micro-grids').toBeDefined()
    for (const p of [shared!, ...(edgeMid ? [edgeMid] : [])]) {
      const runs = await Promise.all([resolve([p]), resolve([p]), resolve([p, p, p])])
      const chains = runs.flat()
      for (const c of chains) {
        expect(c!.map((r) => r.level)).toEqual([1, 2, 3, 4, 5])
        expect(c).toEqual(chains[0])
      }
      // On a boundary the lowest id among the regions that cover the point wins.
      const owners = containing(5, p).sort()
      if (owners.length) expect(chains[0]!.at(-1)!.id).toBe(owners[0])
    }
  })

  it('answers in input order, null outside every region, in one request of up to 10,000 points', async () => {
    const results = await resolve([[116.39, 39.9], [119.652, 29.083], [0, 0], [119.75, 29.12]])
    expect(results[0]).toBeNull()
    expect(results[1]![0].id).toBe('330702')
    expect(results[2]).toBeNull()
    expect(results[3]![0].id).toBe('330703')
  })

  it('refuses more than 10,000 points, an empty list, and bad coordinates with 400', async () => {
    const tooMany = Array.from({ length: 10_001 }, () => [119.65, 29.08])
    for (const payload of [{ points: tooMany }, { points: [] }, { points: [[119.65, 91]] }, { points: [[119.65]] }, { points: [['a', 'b']] }, {}]) {
      const res = await app.inject({ method: 'POST', url: '/api/regions/resolve', payload })
      expect(res.statusCode, JSON.stringify(payload).slice(0, 60)).toBe(400)
      expect(res.json().error).toBe('invalid_request')
    }
  })

  it('converts GCJ-02 input (Chinese map apps) to WGS84 before resolving', async () => {
    // A point inside a micro-grid, shifted into GCJ-02 the way AMap would report it (about 0.005° here).
    const wgs: [number, number] = [119.652, 29.083]
    const gcoord = (await import('gcoord')).default
    const gcj = gcoord.transform(wgs, gcoord.WGS84, gcoord.GCJ02) as [number, number]
    expect(Math.abs(gcj[0] - wgs[0]) + Math.abs(gcj[1] - wgs[1])).toBeGreaterThan(0.003)
    const [fromWgs] = await resolve([wgs])
    expect(fromWgs!.map((r) => r.level)).toEqual([1, 2, 3, 4, 5])
    const [fromGcj] = await resolve([gcj], { crs: 'gcj02' })
    const [gcjTakenAsWgs] = await resolve([gcj])
    expect(fromGcj).toEqual(fromWgs)
    expect(gcjTakenAsWgs!.at(-1)!.id).not.toBe(fromWgs!.at(-1)!.id)
    const single = await app.inject({ url: '/api/regions/resolve', query: { lon: String(gcj[0]), lat: String(gcj[1]), crs: 'gcj02' } })
    expect(single.json().regions).toEqual(fromWgs)
    const bad = await app.inject({ url: '/api/regions/resolve', query: { lon: '119.6', lat: '29.1', crs: 'bd09' } })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().field).toBe('crs')
  })

  it('resolves against the boundaries valid at asOf', async () => {
    const p: [number, number] = [119.652, 29.083]
    const [now] = await resolve([p])
    const [asNow] = await resolve([p], { asOf: new Date().toISOString() })
    expect(asNow).toEqual(now)
    // Before the demo region was loaded nothing existed.
    const [before] = await resolve([p], { asOf: '2000-01-01T00:00:00Z' })
    expect(before).toBeNull()
    const old = await app.inject({ url: '/api/regions/resolve', query: { lon: '119.652', lat: '29.083', asOf: '2000-01-01T00:00:00Z' } })
    expect(old.statusCode).toBe(404)
    const bad = await app.inject({ url: '/api/regions/resolve', query: { lon: '119.652', lat: '29.083', asOf: 'yesterday' } })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().field).toBe('asOf')
  })

  it('takes GCJ-02 on case intake too and stores WGS84', async () => {
    const gcoord = (await import('gcoord')).default
    const wgs: [number, number] = [119.661, 29.091]
    const gcj = gcoord.transform(wgs, gcoord.WGS84, gcoord.GCJ02) as [number, number]
    const res = await app.inject({ method: 'POST', url: '/api/cases', payload: { category: 'sanitation', description: 'GCJ-02 上报', lon: gcj[0], lat: gcj[1], crs: 'gcj02' } })
    expect(res.statusCode).toBe(201)
    expect(res.json().lon).toBeCloseTo(wgs[0], 5)
    expect(res.json().lat).toBeCloseTo(wgs[1], 5)
    const [chain] = await resolve([wgs])
    expect(res.json().regions).toEqual(chain)
  })
})

describe.each(DB_MODES)('GET /api/regions/:id (%s)', (mode) => {
  let app: AppInstance
  beforeAll(async () => {
    app = await buildApp({ db: await testDb(mode) })
    await app.ready()
  })
  afterAll(() => app.close())

  it('profiles a district: numbers, descendants by level, staff and cameras under it', async () => {
    const res = await app.inject('/api/regions/330703')
    expect(res.statusCode).toBe(200)
    const p = res.json()
    expect(p).toMatchObject({ id: '330703', name: '金东区', level: 1, parentId: null, chain: [{ id: '330703', name: '金东区', level: 1 }] })
    expect(p.households).toBeGreaterThan(100_000)
    expect(p.areaKm2).toBeGreaterThan(600)
    expect(p.areaKm2).toBeLessThan(700)
    expect(p.descendants['2']).toBe(11)
    expect(p.children).toBe(11)
    expect(p.descendants['3']).toBe(361)
    expect(p.descendants['5']).toBeGreaterThan(p.descendants['4'])
    expect(p.staff.byRole.grid_chief).toBe(p.descendants['4'])
    expect(p.staff.byRole.microgrid_leader).toBe(p.descendants['5'])
    expect(p.cameras).toBeGreaterThan(50)
  })

  it('profiles a grid with its chief, and sums households up the tree', async () => {
    const grid = (await app.inject('/api/regions?level=4&parentId=330703101001')).json().features[0]
    const p = (await app.inject(`/api/regions/${grid.id}`)).json()
    expect(p.chain.map((r: any) => r.level)).toEqual([1, 2, 3, 4])
    expect(p.chain.slice(0, 3).map((r: any) => r.id)).toEqual(['330703', '330703101', '330703101001'])
    expect(p.staff.chief).toMatchObject({ id: expect.stringMatching(/^W\d{6}$/), name: expect.any(String) })
    expect(p.staff.byRole.grid_chief).toBe(1)
    expect(p.staff.byRole.grid_worker).toBeGreaterThanOrEqual(1)
    expect(p.staff.byRole.grid_worker).toBeLessThanOrEqual(3)
    const micros = (await app.inject(`/api/regions?level=5&parentId=${grid.id}`)).json().features
    const sums = await Promise.all(micros.map(async (m: any) => (await app.inject(`/api/regions/${m.id}`)).json().households))
    expect(sums.reduce((a: number, b: number) => a + b, 0)).toBe(p.households)
  })

  it('answers 404 for an unknown region and 400 for a malformed id', async () => {
    expect((await app.inject('/api/regions/999999')).statusCode).toBe(404)
    expect((await app.inject('/api/regions/bad-id!')).statusCode).toBe(400)
  })
})

describe.each(DB_MODES)('resolution follows every change to regions (%s)', (mode) => {
  let db: Db
  beforeAll(async () => {
    db = await testDb(mode)
  })
  afterAll(async () => {
    await db.query(`DELETE FROM regions WHERE id IN ('TRESOLVE1C', 'TRESOLVE1')`)
  })

  it('keeps the subdivided pieces in step with inserts, moves, retirement, renames and deletion', async () => {
    const { resolvePoint } = await import('../../src/repos/resolve/sql-fallback.ts')
    const square = (x: number, y: number) => `ST_Multi(ST_MakeEnvelope(${x}, ${y}, ${x + 1}, ${y + 1}, 4326))`
    await db.query(`INSERT INTO regions (id, level, name, path, geom) VALUES ('TRESOLVE1', 1, 'test', 'TRESOLVE1', ${square(100, 10)})`)
    expect((await resolvePoint(db, 100.5, 10.5)).regions.map((r) => r.id)).toEqual(['TRESOLVE1'])
    await db.query(`UPDATE regions SET geom = ${square(102, 10)} WHERE id = 'TRESOLVE1'`)
    expect((await resolvePoint(db, 100.5, 10.5)).regions).toEqual([])
    expect((await resolvePoint(db, 102.5, 10.5)).regions.map((r) => r.id)).toEqual(['TRESOLVE1'])
    await db.query(`UPDATE regions SET valid_to = now() WHERE id = 'TRESOLVE1'`)
    expect((await resolvePoint(db, 102.5, 10.5)).regions).toEqual([])
    await db.query(`UPDATE regions SET valid_to = NULL WHERE id = 'TRESOLVE1'`)
    expect((await resolvePoint(db, 102.5, 10.5)).regions.map((r) => r.id)).toEqual(['TRESOLVE1'])
    // A child, then a rename of its parent: the child's chain carries the new name.
    await db.query(`INSERT INTO regions (id, parent_id, level, name, path, geom)
                    VALUES ('TRESOLVE1C', 'TRESOLVE1', 2, 'child', 'TRESOLVE1.TRESOLVE1C', ST_Multi(ST_MakeEnvelope(102, 10, 102.5, 11, 4326)))`)
    expect((await resolvePoint(db, 102.2, 10.5)).regions).toEqual([
      { id: 'TRESOLVE1', name: 'test', level: 1 },
      { id: 'TRESOLVE1C', name: 'child', level: 2 },
    ])
    await db.query(`UPDATE regions SET name = 'renamed' WHERE id = 'TRESOLVE1'`)
    expect((await resolvePoint(db, 102.2, 10.5)).regions[0]).toEqual({ id: 'TRESOLVE1', name: 'renamed', level: 1 })
    expect((await resolvePoint(db, 102.7, 10.5)).regions).toEqual([{ id: 'TRESOLVE1', name: 'renamed', level: 1 }])
    await db.query(`DELETE FROM regions WHERE id IN ('TRESOLVE1C')`)
    await db.query(`DELETE FROM regions WHERE id = 'TRESOLVE1'`)
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM region_parts WHERE region_id LIKE 'TRESOLVE1%'`)
    expect(rows[0].n).toBe(0)
  })
})

/**
 * The plain rule, on the whole polygons of `regions` (not region_parts, not the cells): per point the finest current
 * region whose geometry covers it, lowest id on a tie, as its path; null outside. One query, compared point by point.
 */
async function oracle(db: Queryable, points: Array<[number, number]>): Promise<Array<string | null>> {
  const { rows } = await db.query<{ path: string | null }>(
    `SELECT (SELECT r.path::text FROM regions r
              WHERE r.valid_to IS NULL AND ST_Covers(r.geom, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326))
              ORDER BY r.level DESC, r.id LIMIT 1) AS path
       FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(lon, lat, ord)
      ORDER BY u.ord`,
    [points.map((p) => p[0]), points.map((p) => p[1])],
  )
  return rows.map((r) => r.path)
}

type Chain = Array<{ id: string; name: string; level: number }> | null

/** Every point whose chain differs from the oracle's path (ids), or whose names are not the regions' names. */
async function mismatches(db: Queryable, points: Array<[number, number]>, chains: Chain[]): Promise<string[]> {
  const expected = await oracle(db, points)
  const { rows } = await db.query<{ id: string; name: string; level: number }>(
    'SELECT id, name, level FROM regions WHERE id = ANY($1::text[])',
    [[...new Set(chains.flatMap((c) => c?.map((r) => r.id) ?? []))]],
  )
  const byId = new Map(rows.map((r) => [r.id, r]))
  const out: string[] = []
  points.forEach((p, i) => {
    const got = chains[i]?.map((r) => r.id).join('.') ?? null
    if (got !== expected[i]) out.push(`[${p}]: resolver ${got}, ST_Covers ${expected[i]}`)
    for (const r of chains[i] ?? []) if (byId.get(r.id)?.name !== r.name || byId.get(r.id)?.level !== r.level) out.push(`[${p}]: ${JSON.stringify(r)}`)
  })
  return out
}

describe.each(DB_MODES)('the cell index answers exactly as ST_Covers (%s)', (mode) => {
  let app: AppInstance
  let db: Db
  const resolve = async (points: Array<[number, number]>) => {
    const chains: Chain[] = []
    for (let i = 0; i < points.length; i += 10_000) {
      const res = await app.inject({ method: 'POST', url: '/api/regions/resolve', payload: { points: points.slice(i, i + 10_000) } })
      expect(res.statusCode).toBe(200)
      chains.push(...res.json().results)
    }
    return chains
  }
  const single = async ([lon, lat]: [number, number]): Promise<Chain> => {
    const res = await app.inject({ url: '/api/regions/resolve', query: { lon: String(lon), lat: String(lat) } })
    expect([200, 404]).toContain(res.statusCode)
    return res.statusCode === 200 ? res.json().regions : null
  }

  beforeAll(async () => {
    db = await testDb(mode)
    app = await buildApp({ db })
    await app.ready()
    await regionResolver(db).ready()
  })
  afterAll(() => app.close())

  it('random points over the whole region: every one as ST_Covers on the regions, most of them from cells', async () => {
    const rand = prng(11)
    const { rows } = await db.query<{ x0: number; y0: number; x1: number; y1: number }>(
      `SELECT ST_XMin(e) AS x0, ST_YMin(e) AS y0, ST_XMax(e) AS x1, ST_YMax(e) AS y1
         FROM (SELECT ST_Extent(geom) AS e FROM regions WHERE id LIKE '33070%' AND valid_to IS NULL) x`,
    )
    const { x0, y0, x1, y1 } = rows[0]
    const points: Array<[number, number]> = Array.from({ length: 20_000 }, () => [x0 + rand() * (x1 - x0), y0 + rand() * (y1 - y0)])
    const stats = { ...regionResolver(db).stats }
    const chains = await resolve(points)
    expect(await mismatches(db, points, chains)).toEqual([])
    const after = regionResolver(db).stats
    expect(after.sqlOnly).toBe(stats.sqlOnly)
    expect(after.fromCells - stats.fromCells).toBeGreaterThan(points.length * 0.9)
    expect(after.exact - stats.exact).toBeGreaterThan(0)
    expect(chains.filter(Boolean).length).toBeGreaterThan(points.length / 2)
    // The single lookup takes the same path.
    for (const p of points.slice(0, 200)) expect(await single(p)).toEqual(chains[points.indexOf(p)])
  }, HEAVY_MS)

  it('vertices, points on and beside shared edges, on cell lines and outside: exactly as ST_Covers', async () => {
    const idx = await regionResolver(db).ready()
    // Vertices of micro-grids, grids, communities, streets and both districts, and midpoints of their edges.
    const { rows } = await db.query<{ level: number; wkb: Uint8Array }>(
      `(SELECT level, ST_AsBinary(geom) AS wkb FROM regions WHERE level = 5 AND id LIKE '33070%' ORDER BY md5(id) LIMIT 300)
       UNION ALL (SELECT level, ST_AsBinary(geom) FROM regions WHERE level BETWEEN 2 AND 4 AND id LIKE '33070%' ORDER BY md5(id) LIMIT 30)
       UNION ALL (SELECT level, ST_AsBinary(geom) FROM regions WHERE level = 1 AND id LIKE '33070%')`,
    )
    const points: Array<[number, number]> = []
    const rand = prng(5)
    for (const { level, wkb } of rows)
      for (const ring of wkbRings(wkb))
        for (let i = 2; i < ring.length; i += 2) {
          if (rand() > (level === 5 ? 0.5 : 0.1)) continue
          const [ax, ay, bx, by] = [ring[i - 2], ring[i - 1], ring[i], ring[i + 1]]
          const [mx, my] = [(ax + bx) / 2, (ay + by) / 2]
          // The normal, for points just beside the edge (1e-12° and 1e-9° either side).
          const len = Math.hypot(bx - ax, by - ay) || 1
          const [nx, ny] = [-(by - ay) / len, (bx - ax) / len]
          points.push([ax, ay], [mx, my], [ax + (bx - ax) * 0.25, ay + (by - ay) * 0.25])
          for (const d of [1e-12, -1e-12, 1e-9, -1e-9, 5e-7, -5e-7]) points.push([mx + nx * d, my + ny * d])
        }
    // Points on the lines between cells, and on their corners.
    const size = 2 ** -idx.level
    for (let k = 0; k < 2000; k++) {
      const i = Math.floor((119.35 + rand() * 0.55 - idx.x0) / size)
      const j = Math.floor((28.8 + rand() * 0.45 - idx.y0) / size)
      const [cx, cy] = [idx.x0 + i * size, idx.y0 + j * size]
      points.push([cx, cy], [cx, cy + rand() * size], [cx + rand() * size, cy])
    }
    // Outside: far away, just outside the extent, the ends of the coordinate ranges.
    points.push([0, 0], [116.39, 39.9], [-180, -90], [180, 90], [idx.x0, idx.y0], [idx.x0 - 1e-9, idx.y0 + 0.3], [119.3, 28.5], [119.99, 29.35])
    expect(points.length).toBeGreaterThan(10_000)
    const chains = await resolve(points)
    expect(await mismatches(db, points, chains)).toEqual([])
    // Every kind of cell was involved: boundary, outside, owned (0 here).
    const kinds = new Set(points.map(([x, y]) => Math.min(0, cellLookup(idx, x, y))))
    expect([...kinds].sort((a, b) => a - b)).toEqual([CELL_BOUNDARY, CELL_OUTSIDE, 0])
    // On a vertex or an edge the boundary cells send the point to the exact test: the same answer every time.
    const again = await resolve(points.slice(0, 500))
    expect(again).toEqual(chains.slice(0, 500))
  }, HEAVY_MS)

  it('a cell that no edge comes near has one owner: checked by brute force on a synthetic ring', async () => {
    // A diamond and a square with a hole, as WKB, ranked diamond first: check every cell's value against a plain
    // point-in-polygon test of its four corners and centre (a wrong owner or a missed edge shows up here).
    const wkbPolygon = (rings: number[][][]) => {
      const n = rings.reduce((a, r) => a + 4 + r.length * 16, 9)
      const b = Buffer.alloc(n)
      let at = b.writeUInt8(1, 0)
      at = b.writeUInt32LE(3, at)
      at = b.writeUInt32LE(rings.length, at)
      for (const r of rings) {
        at = b.writeUInt32LE(r.length, at)
        for (const [x, y] of r) at = b.writeDoubleLE(y, b.writeDoubleLE(x, at))
      }
      return new Uint8Array(b)
    }
    const diamond = [[10.3, 20.1], [10.5, 20.3], [10.3, 20.5], [10.1, 20.3], [10.3, 20.1]]
    const square = [[[10.0, 20.0], [10.6, 20.0], [10.6, 20.6], [10.0, 20.6], [10.0, 20.0]], [[10.05, 20.05], [10.05, 20.15], [10.15, 20.15], [10.15, 20.05], [10.05, 20.05]]]
    const idx = await buildCellIndex(1, [
      { regionId: 'A', chain: '"A"', wkb: wkbPolygon([diamond]) },
      { regionId: 'B', chain: '"B"', wkb: wkbPolygon(square) },
    ], { maxLevel: 8 })
    const inRing = (r: number[][], x: number, y: number) => {
      let c = false
      for (let i = 1; i < r.length; i++) if (r[i][1] > y !== r[i - 1][1] > y && x < r[i - 1][0] + ((y - r[i - 1][1]) * (r[i][0] - r[i - 1][0])) / (r[i][1] - r[i - 1][1])) c = !c
      return c
    }
    const owner = (x: number, y: number) => (inRing(diamond, x, y) ? 0 : inRing(square[0], x, y) && !inRing(square[1], x, y) ? 1 : CELL_OUTSIDE)
    const size = 2 ** -idx.level
    const counts = { owned: 0, boundary: 0, outside: 0 }
    const wrong: string[] = []
    for (let y = 19.9 + size / 2; y < 20.7; y += size)
      for (let x = 9.9 + size / 2; x < 10.7; x += size) {
        const v = cellLookup(idx, x, y)
        if (v === CELL_BOUNDARY) {
          counts.boundary++
          continue
        }
        counts[v === CELL_OUTSIDE ? 'outside' : 'owned']++
        const [cx, cy] = [idx.x0 + Math.floor((x - idx.x0) / size) * size, idx.y0 + Math.floor((y - idx.y0) / size) * size]
        for (const [px, py] of [[cx + 1e-7, cy + 1e-7], [cx + size - 1e-7, cy + 1e-7], [cx + 1e-7, cy + size - 1e-7], [cx + size - 1e-7, cy + size - 1e-7], [x, y]])
          if (owner(px, py) !== v) wrong.push(`${px}, ${py}: cell ${v}, polygon test ${owner(px, py)}`)
      }
    expect(wrong).toEqual([])
    expect(counts.owned).toBeGreaterThan(counts.boundary)
    expect(counts.outside).toBeGreaterThan(0)
  })
})

describe.each(DB_MODES)('the cell index never answers for changed boundaries (%s)', (mode) => {
  let app: AppInstance
  let db: Db
  let other: { db: Queryable; close: () => Promise<void> }
  let seqBefore = 0
  const P = 'TRCELL'
  // A district at lon 105, lat 20 (far from the demo region and from the other tests' regions), two streets.
  const district = (split: number) => ({
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', properties: { id: `${P}D`, name: '测试区', level: 1 }, geometry: { type: 'Polygon', coordinates: [[[105, 20], [105.2, 20], [105.2, 20.2], [105, 20.2], [105, 20]]] } },
      { type: 'Feature', properties: { id: `${P}S1`, name: '西街道', level: 2, parentId: `${P}D` }, geometry: { type: 'Polygon', coordinates: [[[105, 20], [split, 20], [split, 20.2], [105, 20.2], [105, 20]]] } },
      { type: 'Feature', properties: { id: `${P}S2`, name: '东街道', level: 2, parentId: `${P}D` }, geometry: { type: 'Polygon', coordinates: [[[split, 20], [105.2, 20], [105.2, 20.2], [split, 20.2], [split, 20]]] } },
    ],
  })
  const importRegions = async (body: unknown) => {
    const res = await app.inject({ method: 'POST', url: '/api/regions/import', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })
    expect(res.statusCode, res.body).toBe(200)
  }
  const finest = (chain: Chain) => chain?.at(-1)?.id ?? null
  const viaApi = async (p: [number, number]) => {
    const res = await app.inject({ method: 'POST', url: '/api/regions/resolve', payload: { points: [p] } })
    return finest(res.json().results[0])
  }

  beforeAll(async () => {
    db = await testDb(mode)
    app = await buildApp({ db })
    await app.ready()
    // "Another server process": its own resolver and, on PostgreSQL, its own connection pool.
    if (mode === 'postgres') {
      const d = createPgDb(inject('pgUrl')!)
      other = { db: d, close: () => d.close() }
    } else other = { db, close: async () => {} }
    seqBefore = (await db.query<{ s: number }>('SELECT coalesce(max(seq), 0)::bigint AS s FROM events')).rows[0].s
  })
  afterAll(async () => {
    await db.query(`DELETE FROM region_history WHERE id LIKE '${P}%'`)
    await db.query(`DELETE FROM regions WHERE id LIKE '${P}%' AND level = 2`)
    await db.query(`DELETE FROM regions WHERE id LIKE '${P}%'`)
    await db.query(`DELETE FROM events WHERE kind = 'regions:imported' AND seq > $1`, [seqBefore])
    await other.close()
    await app.close()
  })

  it('an import that moves a boundary changes the answer at once in this process, and in another when its NOTIFY arrives', async () => {
    const here = regionResolver(db)
    const there = new RegionResolver(other.db)
    const strict = new RegionResolver(other.db, { listen: false })
    await importRegions(district(105.1))
    await Promise.all([here.ready(), there.ready(), strict.ready()])
    const p: [number, number] = [105.09, 20.05]
    expect(await viaApi(p)).toBe(`${P}S1`)
    expect(finest(await there.resolveOne(...p))).toBe(`${P}S1`)
    expect(finest(await strict.resolveOne(...p))).toBe(`${P}S1`)
    const before = { ...there.stats }

    await importRegions(district(105.08))
    // The importing process: its very next request (read-your-writes). Without LISTEN: the very next request too.
    expect(await viaApi(p)).toBe(`${P}S2`)
    expect(finest(await strict.resolveOne(...p))).toBe(`${P}S2`)
    // Another process: as soon as the notification sent at commit has arrived (no request needed to find out).
    await vi.waitFor(() => expect(there.stats.notifications).toBeGreaterThan(before.notifications))
    expect(finest(await there.resolveOne(...p))).toBe(`${P}S2`)
    expect(finest((JSON.parse(await there.resolveJson([p, [105.07, 20.05]])) as Chain[])[0])).toBe(`${P}S2`)
    expect(there.stats.sqlOnly).toBeGreaterThan(before.sqlOnly)
    expect(there.stats.fromCells).toBe(before.fromCells)

    // Rebuilt, it answers from cells again, with the new boundary.
    await there.ready()
    expect(finest(await there.resolveOne(...p))).toBe(`${P}S2`)
    expect(there.stats.fromCells).toBe(before.fromCells + 1)
    expect(finest(await there.resolveOne(105.07, 20.05))).toBe(`${P}S1`)
    await Promise.all([there.close(), strict.close()])
  }, HEAVY_MS)

  it('with notifications, lookups from cells read no version; a lost notification is caught within recheckMs', async () => {
    // A process whose LISTEN connection died without a word: notifications never arrive.
    const deaf = { query: (sql: string, params?: unknown[]) => other.db.query(sql, params), listen: async () => async () => {} } as unknown as Queryable
    const r = new RegionResolver(deaf, { recheckMs: 300 })
    await r.ready()
    const p: [number, number] = [105.09, 20.05]
    const owner = finest(await r.resolveOne(...p))
    const reads = r.stats.versionReads
    for (let i = 0; i < 20; i++) expect(finest(await r.resolveOne(...p))).toBe(owner)
    // At most one background read in the window, however many requests.
    expect(r.stats.versionReads - reads).toBeLessThanOrEqual(1)

    await importRegions(district(owner === `${P}S1` ? 105.08 : 105.1))
    const moved = owner === `${P}S1` ? `${P}S2` : `${P}S1`
    // Past recheckMs since the last read, a request reads the version before using the index.
    await new Promise((resolve) => setTimeout(resolve, 350))
    expect(finest(await r.resolveOne(...p))).toBe(moved)
    await r.ready()
    expect(finest(await r.resolveOne(...p))).toBe(moved)
  }, HEAVY_MS)

  it('follows inserts, renames, retirement and deletion written by plain SQL too', async () => {
    const r = regionResolver(db)
    await r.ready()
    const at = async (x: number, y: number) => ((await r.resolveOne(x, y)) ?? []).map((c) => `${c.id}:${c.name}`)
    // A change by plain SQL, then its notification.
    const change = async (sql: string) => {
      const n = r.stats.notifications
      await db.query(sql)
      await vi.waitFor(() => expect(r.stats.notifications).toBeGreaterThan(n))
    }
    const square = (x: number, y: number) => `ST_Multi(ST_MakeEnvelope(${x}, ${y}, ${x + 0.1}, ${y + 0.1}, 4326))`
    await change(`INSERT INTO regions (id, level, name, path, geom) VALUES ('${P}X', 1, 'x', '${P}X', ${square(106, 20)})`)
    expect(await at(106.05, 20.05)).toEqual([`${P}X:x`])
    // Each change right after a (re)build: the index is current until the change, outdated once it is notified.
    const fromCells = r.stats.fromCells
    await r.ready()
    expect(await at(106.05, 20.05)).toEqual([`${P}X:x`])
    expect(r.stats.fromCells).toBe(fromCells + 1)
    await change(`UPDATE regions SET name = 'renamed' WHERE id = '${P}X'`)
    expect(await at(106.05, 20.05)).toEqual([`${P}X:renamed`])
    await r.ready()
    await change(`UPDATE regions SET geom = ${square(106.2, 20)} WHERE id = '${P}X'`)
    expect(await at(106.05, 20.05)).toEqual([])
    expect(await at(106.25, 20.05)).toEqual([`${P}X:renamed`])
    await change(`UPDATE regions SET valid_to = now() WHERE id = '${P}X'`)
    expect(await at(106.25, 20.05)).toEqual([])
    await change(`UPDATE regions SET valid_to = NULL WHERE id = '${P}X'`)
    await r.ready()
    await change(`DELETE FROM regions WHERE id = '${P}X'`)
    expect(await at(106.25, 20.05)).toEqual([])
    expect(r.stats.fromCells).toBe(fromCells + 1)
  }, HEAVY_MS)

  it('region_version moves with every change an answer can see, and only with those', async () => {
    const version = async () => (await db.query<{ v: number }>('SELECT version AS v FROM region_version')).rows[0].v
    const { rows } = await db.query<{ id: string; name: string }>(`SELECT id, name FROM regions WHERE level = 5 AND id LIKE '330702%' ORDER BY id LIMIT 1`)
    const [{ id, name }] = rows
    const v0 = await version()
    await db.query(`UPDATE regions SET households = households + 1, chief_id = chief_id WHERE id = $1`, [id])
    await db.query(`UPDATE regions SET attributes = attributes WHERE level = 4 AND id LIKE '330702001%'`)
    await db.query(`UPDATE regions SET name = name || '' WHERE id = $1`, [id])
    expect(await version()).toBe(v0)
    await db.transaction(async (tx) => {
      await tx.query(`UPDATE regions SET name = 'x' WHERE id = $1`, [id])
      await tx.query(`UPDATE regions SET name = $2 WHERE id = $1`, [id, name])
    })
    expect(await version()).toBe(v0 + 2)
    await db
      .transaction(async (tx) => {
        await tx.query(`UPDATE regions SET name = 'x' WHERE id = $1`, [id])
        throw new Error('rolled back')
      })
      .catch(() => {})
    expect(await version()).toBe(v0 + 2)
    await db.query(`UPDATE regions SET households = households - 1 WHERE id = $1`, [id])
  })
})
