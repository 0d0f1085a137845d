import { bbox as turfBbox, booleanPointInPolygon } from '@turf/turf'
import type { Feature, MultiPolygon, Polygon } from 'geojson'
import RBush from 'rbush'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, type GcApp } from '../../src/app.ts'
import type { Db } from '../../src/db/types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'

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
  let app: GcApp
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
  let app: GcApp
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
    const { resolvePoint } = await import('../../src/repos/resolve.ts')
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
