import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db, DbMode } from '../../src/db/types.ts'
import { COLLECTIONS, COLLECTION_IDS } from '../../src/repos/features.ts'
import { mvtFromGeoJson, mvtFromSql } from '../../src/repos/tiles.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { startServer } from '../../../test/support/server.ts'
import {
  CAMERA_FIXTURES,
  CURRENT_REGION_FIXTURES,
  FIXTURE_TILE,
  LEVEL_OF_COLLECTION,
  REGION_FIXTURES,
  deleteFixtures,
  insertFixtures,
  closeFixtureServer,
  openFixtureServer,
} from '../ogc/fixtures.ts'
import { byId, decodeTile, tileAt, tileBounds, tilePath, type DecodedLayer, type Tile } from './mvt.ts'

/** The z12 tile over the centre of 金华 (婺城区 urban core), where the demo region is dense. */
const JINHUA_Z12 = tileAt(119.65, 29.08, 12)
const MVT = 'application/vnd.mapbox-vector-tile'
const EXPECTED_KEYS: Record<string, string[]> = {
  region: ['id', 'name', 'level', 'parentId', 'households', 'population'],
  cameras: ['id', 'name', 'kind', 'status', 'regionId'],
}

async function getTile(url: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, { headers })
  return { res, body: new Uint8Array(await res.arrayBuffer()) }
}

/** GeoJSON properties of a feature as a tile must carry them: ST_AsMVT leaves nulls out. */
const withoutNulls = (p: Record<string, unknown>) => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== null))

describe.each(DB_MODES)('vector tiles at /tiles (%s)', (mode) => {
  let db: Db
  let app: AppInstance
  let url: string

  beforeAll(async () => {
    ;({ db, app, url } = await openFixtureServer(mode))
  })
  afterAll(() => closeFixtureServer(db, app))

  it.each([...COLLECTION_IDS])('%s: the z12 tile over 金华 has one layer named after it, the features in the tile and their properties', async (layer) => {
    const { res, body } = await getTile(url, tilePath(layer, JINHUA_Z12))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(MVT)
    expect(res.headers.get('cache-control')).toBe('public, max-age=300')
    expect(res.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{16,}"$/)
    const tile = decodeTile(body)
    expect(Object.keys(tile)).toEqual([layer])
    const decoded = tile[layer]
    expect(decoded.version).toBe(2)
    expect(decoded.extent).toBe(4096)
    expect(decoded.features.length).toBeGreaterThan(0)

    // What the tile must hold, computed apart from the tile code: features whose interior meets the tile's lon/lat
    // box (Web Mercator formulas in JS) must be in it; features merely touching its edge may be.
    const [w, s, e, n] = tileBounds(JINHUA_Z12)
    const source =
      layer === 'cameras'
        ? 'SELECT id, location AS g FROM cameras'
        : `SELECT id, geom AS g FROM regions WHERE valid_to IS NULL AND level = ${LEVEL_OF_COLLECTION[layer]}`
    const { rows } = await db.query<{ id: string; touches: boolean }>(
      `SELECT id, ST_Touches(g, ST_MakeEnvelope($1, $2, $3, $4, 4326)) AS touches
         FROM (${source}) x
        WHERE ST_Intersects(g, ST_Expand(ST_MakeEnvelope($1, $2, $3, $4, 4326), 1e-9))`,
      [w, s, e, n],
    )
    const tileIds = new Set(decoded.features.map((f) => String(f.properties.id)))
    const must = rows.filter((r) => !r.touches).map((r) => r.id)
    const may = new Set(rows.map((r) => r.id))
    expect(must.filter((id) => !tileIds.has(id)), 'features in the tile but missing').toEqual([])
    expect([...tileIds].filter((id) => !may.has(id)), 'features in the tile that lie outside it').toEqual([])
    expect(tileIds.size).toBe(decoded.features.length)

    // Same properties as the OGC API serves for these features, nulls left out.
    const ogc = await (await fetch(`${url}/ogc/collections/${layer}/items?bbox=${w},${s},${e},${n}&limit=10000`)).json()
    const props = new Map<string, Record<string, unknown>>(ogc.features.map((f: { id: string; properties: Record<string, unknown> }) => [f.id, f.properties]))
    const keys = EXPECTED_KEYS[layer === 'cameras' ? 'cameras' : 'region']
    for (const f of decoded.features) {
      expect(f.type).toBe(layer === 'cameras' ? 1 : 3)
      expect(keys).toEqual(expect.arrayContaining(Object.keys(f.properties)))
      expect(f.properties, String(f.properties.id)).toEqual(withoutNulls(props.get(String(f.properties.id))!))
    }
  })

  it.each([...COLLECTION_IDS])('%s: the tile over the test rows holds them with their properties, and never a retired region', async (layer) => {
    const { res, body } = await getTile(url, tilePath(layer, FIXTURE_TILE))
    expect(res.status).toBe(200)
    const features = byId(decodeTile(body)[layer])
    if (layer === 'cameras') {
      for (const c of CAMERA_FIXTURES) {
        expect(features.get(c.id)?.properties).toEqual(
          withoutNulls({ id: c.id, name: c.name, kind: c.kind, status: c.status, regionId: 'TESTOGC_M' }),
        )
      }
      // Stream addresses are for staff (GET /api/cameras), never in a public tile (issue #6).
      for (const c of CAMERA_FIXTURES) expect(features.get(c.id)?.properties).not.toHaveProperty('streamUrl')
      return
    }
    const level = LEVEL_OF_COLLECTION[layer]
    for (const r of CURRENT_REGION_FIXTURES.filter((f) => f.level === level)) {
      const f = features.get(r.id)
      expect(f, r.id).toBeDefined()
      expect(f!.type).toBe(3)
      expect(f!.properties).toMatchObject(withoutNulls({ id: r.id, name: r.name, level, households: r.households, population: r.population }))
      // The fixture squares lie inside the tile: their geometry is not clipped to the buffer.
      expect(f!.bbox[0]).toBeGreaterThan(0)
      expect(f!.bbox[2]).toBeLessThan(4096)
    }
    for (const r of REGION_FIXTURES.filter((f) => f.retired)) expect(features.has(r.id)).toBe(false)
  })

  it('answers 304 to If-None-Match with the tile’s ETag, and the tile again for another tag', async () => {
    const path = tilePath('grids', JINHUA_Z12)
    const first = await getTile(url, path)
    const etag = first.res.headers.get('etag')!
    const again = await getTile(url, path)
    expect(again.res.headers.get('etag')).toBe(etag)
    expect(again.body).toEqual(first.body)

    for (const ifNoneMatch of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const { res, body } = await getTile(url, path, { 'if-none-match': ifNoneMatch })
      expect(res.status, ifNoneMatch).toBe(304)
      expect(body.byteLength).toBe(0)
      expect(res.headers.get('etag')).toBe(etag)
      expect(res.headers.get('cache-control')).toBe('public, max-age=300')
    }
    const stale = await getTile(url, path, { 'if-none-match': '"not-this-one"' })
    expect(stale.res.status).toBe(200)
    expect(stale.body).toEqual(first.body)
  })

  it('answers 204 No Content for a tile with no feature, and for micro-grids below z11', async () => {
    const ocean = await getTile(url, tilePath('grids', tileAt(150, -40, 12)))
    expect(ocean.res.status).toBe(204)
    expect(ocean.body.byteLength).toBe(0)
    expect(ocean.res.headers.get('cache-control')).toBe('public, max-age=300')

    const z10 = tileAt(119.65, 29.08, 10)
    expect((await getTile(url, tilePath('grids', z10))).res.status).toBe(200)
    expect((await getTile(url, tilePath('microgrids', z10))).res.status).toBe(204)
    expect((await getTile(url, tilePath('microgrids', tileAt(119.65, 29.08, 11)))).res.status).toBe(200)
  })

  it.each([
    ['z above 22', '/tiles/grids/23/0/0.mvt', 'z'],
    ['z negative', '/tiles/grids/-1/0/0.mvt', 'z'],
    ['z not a number', '/tiles/grids/twelve/0/0.mvt', 'z'],
    ['x beyond the zoom', '/tiles/grids/12/4096/1701.mvt', 'x'],
    ['y beyond the zoom', '/tiles/grids/1/0/2.mvt', 'y'],
    ['x fractional', '/tiles/grids/12/3409.5/1701.mvt', 'x'],
  ])('answers 400 naming the parameter for %s', async (_what, path, field) => {
    const res = await fetch(`${url}${path}`)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid_request', field })
  })

  it('answers JSON 404s for an unknown layer or a path that is not a tile, even where the web app is served', async () => {
    const unknown = await fetch(`${url}/tiles/parcels/12/3409/1701.mvt`)
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual({ error: 'not_found', message: expect.stringContaining('parcels') })

    const webDist = mkdtempSync(join(tmpdir(), 'gc-tiles-web-'))
    writeFileSync(join(webDist, 'index.html'), '<!doctype html><title>GridCommand</title>')
    const withWeb = await buildApp({ db, webDist })
    try {
      for (const path of ['/tiles/grids/12/3409/1701.png', '/tiles/grids', '/tiles/grids/12/3409/1701/extra.mvt', '/tiles/parcels/1/0/0.mvt']) {
        const res = await withWeb.inject(path)
        expect(res.statusCode, path).toBe(404)
        expect(res.headers['content-type'], path).toMatch(/^application\/json/)
        expect(res.json().error).toBe('not_found')
      }
    } finally {
      await withWeb.close()
      rmSync(webDist, { recursive: true, force: true })
    }
  })

  // Real PostGIS can encode both ways: the Node encoder (the one embedded mode uses) must give the tile ST_AsMVT gives.
  it.runIf(mode === 'postgres')('ST_AsMVT and the Node encoder give the same features, properties and geometries', async () => {
    const tiles: Tile[] = [JINHUA_Z12, FIXTURE_TILE, tileAt(119.70, 29.10, 16), tileAt(119.65, 29.08, 11), tileAt(119.65, 29.08, 10)]
    for (const t of tiles) {
      for (const def of COLLECTIONS) {
        // Micro-grids are never served below z11; at low zooms both encoders drop sub-unit polygons, not always alike.
        if (def.id === 'microgrids' && t.z < 11) continue
        const where = `${def.id} ${t.z}/${t.x}/${t.y}`
        const sql = decodeTile(await mvtFromSql(db, def, t.z, t.x, t.y))
        const node = decodeTile(await mvtFromGeoJson(db, def, t.z, t.x, t.y))
        expect(Object.keys(node), where).toEqual(Object.keys(sql))
        if (!sql[def.id]) continue
        expect(node[def.id].extent).toBe(sql[def.id].extent)
        const a = byId(sql[def.id])
        const b = byId(node[def.id])
        expect([...b.keys()].sort(), where).toEqual([...a.keys()].sort())
        for (const [id, fa] of a) {
          const fb = b.get(id)!
          expect(fb.properties, `${where} ${id}`).toEqual(fa.properties)
          expect(fb.type).toBe(fa.type)
          if (fa.type === 1) {
            fb.bbox.forEach((v, i) => expect(Math.abs(v - fa.bbox[i]), `${where} ${id}`).toBeLessThanOrEqual(1))
          } else {
            // Both snap to the 4096 grid and simplify by about a unit, so inside the tile the outlines lie within a
            // unit of each other: the areas differ by at most the perimeter × 1 unit (+ rounding at the corners).
            const bound = Math.max(fa.perimeter, fb.perimeter) + 16
            expect(Math.abs(fa.area - fb.area), `${where} ${id}: area ${fa.area} vs ${fb.area}`).toBeLessThanOrEqual(bound)
          }
        }
      }
    }
  })
})

// The same tile from a server on each database: ST_AsMVT on real PostGIS, the Node encoder on embedded PostGIS.
describe.runIf(DB_MODES.length === 2)('vector tiles are the same in both database modes', () => {
  const servers = new Map<DbMode, { app: AppInstance; url: string; db: Db }>()

  beforeAll(async () => {
    for (const mode of DB_MODES) {
      const db = await testDb(mode)
      await insertFixtures(db)
      servers.set(mode, { ...(await startServer({ db })), db })
    }
  })
  afterAll(async () => {
    for (const s of servers.values()) {
      await s.app.close()
      await deleteFixtures(s.db)
    }
  })

  it.each([...COLLECTION_IDS])('%s: same feature ids and properties over 金华 and over the test rows', async (layer) => {
    for (const t of [JINHUA_Z12, FIXTURE_TILE]) {
      const layers: Array<DecodedLayer | undefined> = []
      for (const mode of DB_MODES) {
        const { res, body } = await getTile(servers.get(mode)!.url, tilePath(layer, t))
        expect(res.status).toBe(200)
        layers.push(decodeTile(body)[layer])
      }
      const [embedded, postgres] = layers.map((l) => byId(l))
      expect(embedded.size).toBeGreaterThan(0)
      expect([...embedded.keys()].sort()).toEqual([...postgres.keys()].sort())
      for (const [id, f] of postgres) expect(embedded.get(id)!.properties, id).toEqual(f.properties)
    }
  })
})
