import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db } from '../../src/db/types.ts'
import { COLLECTION_IDS } from '../../src/repos/features.ts'
import { DB_MODES } from '../../../test/support/db.ts'
import {
  CAMERA_FIXTURES,
  CURRENT_REGION_FIXTURES,
  FIXTURE_AREA,
  LEVEL_OF_COLLECTION,
  PREFIX,
  REGION_FIXTURES,
  expectedCameraProperties,
  expectedRegionProperties,
  closeFixtureServer,
  openFixtureServer,
} from './fixtures.ts'

const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'
const REGION_KEYS = ['id', 'name', 'level', 'parentId', 'households', 'population']
// No streamUrl: the public collection leaves the stream addresses out (issue #6; GET /api/cameras has them, scoped).
const CAMERA_KEYS = ['id', 'name', 'kind', 'status', 'regionId']

/** The current features of a collection straight from the tables, ordered by id as the database orders text. */
async function dbIds(db: Db, collection: string, where = 'true', params: unknown[] = []): Promise<string[]> {
  const sql =
    collection === 'cameras'
      ? `SELECT id FROM cameras s WHERE ${where.replaceAll('s.geom', 's.location')} ORDER BY id`
      : `SELECT id FROM regions s WHERE valid_to IS NULL AND level = ${LEVEL_OF_COLLECTION[collection]} AND ${where} ORDER BY id`
  return (await db.query<{ id: string }>(sql, params)).rows.map((r) => r.id)
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: any }> {
  const res = await fetch(url, { headers })
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.json() }
}

const linkOf = (body: { links: Array<{ rel: string; href: string; type?: string }> }, rel: string) => body.links.find((l) => l.rel === rel)

/** Every [lon, lat] of a GeoJSON geometry. */
function positions(geometry: { type: string; coordinates: unknown }): Array<[number, number]> {
  const out: Array<[number, number]> = []
  const walk = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') out.push([c[0], c[1] as number])
    else if (Array.isArray(c)) c.forEach(walk)
  }
  walk(geometry.coordinates)
  return out
}

describe.each(DB_MODES)('OGC API – Features at /ogc (%s)', (mode) => {
  let db: Db
  let app: AppInstance
  let url: string

  beforeAll(async () => {
    ;({ db, app, url } = await openFixtureServer(mode))
  })
  afterAll(() => closeFixtureServer(db, app))

  it('the landing page links to itself, the API definition, the conformance classes and the collections', async () => {
    const res = await getJson(`${url}/ogc`)
    expect(res.status).toBe(200)
    expect(res.type).toMatch(/^application\/json/)
    expect(res.body.title).toEqual(expect.any(String))
    expect(linkOf(res.body, 'self')?.href).toBe(`${url}/ogc`)
    expect(linkOf(res.body, 'conformance')).toMatchObject({ href: `${url}/ogc/conformance`, type: 'application/json' })
    expect(linkOf(res.body, 'data')).toMatchObject({ href: `${url}/ogc/collections`, type: 'application/json' })
    expect(linkOf(res.body, 'service-desc')).toMatchObject({ href: `${url}/ogc/api`, type: 'application/vnd.oai.openapi+json;version=3.0' })
    for (const link of res.body.links) {
      const followed = await fetch(link.href)
      expect(followed.status, link.href).toBe(200)
    }
  })

  it('declares the Core, GeoJSON and OpenAPI 3.0 conformance classes', async () => {
    const res = await getJson(`${url}/ogc/conformance`)
    expect(res.status).toBe(200)
    expect(res.body.conformsTo).toEqual(
      expect.arrayContaining([
        'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
        'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
        'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
      ]),
    )
  })

  it('serves an OpenAPI 3.0 definition of the items path at the service-desc link', async () => {
    const res = await fetch(`${url}/ogc/api`, { headers: { accept: 'application/vnd.oai.openapi+json;version=3.0' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/vnd.oai.openapi+json')
    const doc = await res.json()
    expect(doc.openapi).toMatch(/^3\.0\./)
    expect(doc.servers[0].url).toBe(`${url}/ogc`)
    const params = doc.paths['/collections/{collectionId}/items'].get.parameters.map((p: { $ref: string }) => p.$ref.split('/').pop())
    expect(params).toEqual(expect.arrayContaining(['bbox', 'limit', 'offset']))
  })

  it('lists the six collections with absolute links and a spatial extent computed from the data', async () => {
    const res = await getJson(`${url}/ogc/collections`)
    expect(res.status).toBe(200)
    expect(res.type).toMatch(/^application\/json/)
    expect(linkOf(res.body, 'self')?.href).toBe(`${url}/ogc/collections`)
    expect(res.body.collections.map((c: { id: string }) => c.id)).toEqual([...COLLECTION_IDS])
    for (const c of res.body.collections) {
      expect(c).toMatchObject({ itemType: 'feature', title: expect.any(String), description: expect.any(String) })
      expect(c.crs).toContain(CRS84)
      expect(linkOf(c, 'self')?.href).toBe(`${url}/ogc/collections/${c.id}`)
      expect(linkOf(c, 'items')).toMatchObject({ href: `${url}/ogc/collections/${c.id}/items`, type: 'application/geo+json' })

      const geom = c.id === 'cameras' ? 'location' : 'geom'
      const table = c.id === 'cameras' ? 'cameras' : `regions WHERE valid_to IS NULL AND level = ${LEVEL_OF_COLLECTION[c.id]}`
      const { rows } = await db.query<{ e: number[] | null }>(
        `SELECT CASE WHEN count(*) > 0 THEN ARRAY[ST_XMin(ST_Extent(${geom})), ST_YMin(ST_Extent(${geom})), ST_XMax(ST_Extent(${geom})), ST_YMax(ST_Extent(${geom}))] END AS e FROM ${table}`,
      )
      const expected = rows[0].e
      // Every collection has at least the fixtures, except districts and grids, which the seed provides.
      expect(expected, `${c.id} has features`).not.toBeNull()
      expect(c.extent.spatial.crs).toBe(CRS84)
      expect(c.extent.spatial.bbox).toHaveLength(1)
      c.extent.spatial.bbox[0].forEach((v: number, i: number) => expect(v).toBeCloseTo(Number(expected![i]), 5))
    }
  })

  it('describes one collection at /ogc/collections/{id}; 404 for an unknown one', async () => {
    const res = await getJson(`${url}/ogc/collections/grids`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: 'grids', itemType: 'feature' })
    expect(linkOf(res.body, 'items')?.href).toBe(`${url}/ogc/collections/grids/items`)

    const missing = await getJson(`${url}/ogc/collections/parcels`)
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ error: 'not_found', message: expect.stringContaining('parcels') })
  })

  it.each([...COLLECTION_IDS])('pages through %s: following next links returns every current feature exactly once', async (collection) => {
    const expected = await dbIds(db, collection)
    expect(expected.length).toBeGreaterThan(0)
    const limit = Math.max(1, Math.ceil(expected.length / 3))

    const seen: string[] = []
    let next: string | undefined = `${url}/ogc/collections/${collection}/items?limit=${limit}`
    let pages = 0
    while (next) {
      const res = await getJson(next)
      expect(res.status).toBe(200)
      expect(res.type).toMatch(/^application\/geo\+json/)
      const fc = res.body
      expect(fc.type).toBe('FeatureCollection')
      expect(fc.numberMatched).toBe(expected.length)
      expect(fc.numberReturned).toBe(fc.features.length)
      expect(fc.features.length).toBeLessThanOrEqual(limit)
      expect(new Date(fc.timeStamp).toISOString()).toBe(fc.timeStamp)
      expect(linkOf(fc, 'self')?.href).toMatch(new RegExp(`^${url}/ogc/collections/${collection}/items\\?`))
      expect(Boolean(linkOf(fc, 'prev'))).toBe(pages > 0)
      for (const f of fc.features) {
        expect(f.type).toBe('Feature')
        expect(f.id).toBe(f.properties.id)
        expect(Object.keys(f.properties)).toEqual(collection === 'cameras' ? CAMERA_KEYS : REGION_KEYS)
        expect(f.geometry.type).toBe(collection === 'cameras' ? 'Point' : 'MultiPolygon')
        if (collection !== 'cameras') expect(f.properties.level).toBe(LEVEL_OF_COLLECTION[collection])
        seen.push(f.id)
      }
      next = linkOf(fc, 'next')?.href
      pages++
      expect(pages, 'runaway paging').toBeLessThanOrEqual(5)
    }
    expect(pages).toBe(Math.ceil(expected.length / limit))
    expect(seen).toEqual(expected)
    expect(new Set(seen).size).toBe(seen.length)
  })

  it('serves only current regions: a retired one is neither listed nor found by id', async () => {
    const retired = REGION_FIXTURES.find((r) => r.retired)!
    const all = (await getJson(`${url}/ogc/collections/communities/items?limit=10000`)).body
    const ids = all.features.map((f: { id: string }) => f.id)
    expect(ids).toContain(`${PREFIX}_C`)
    expect(ids).not.toContain(retired.id)
    expect((await getJson(`${url}/ogc/collections/communities/items/${retired.id}`)).status).toBe(404)
  })

  it('filters by bbox: every feature that intersects the box, and only those', async () => {
    const box = [119.645, 29.075, 119.66, 29.09] as const
    for (const collection of COLLECTION_IDS) {
      const res = await getJson(`${url}/ogc/collections/${collection}/items?bbox=${box.join(',')}&limit=10000`)
      expect(res.status).toBe(200)
      const ids = res.body.features.map((f: { id: string }) => f.id)
      const expected = await dbIds(db, collection, 'ST_Intersects(s.geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))', [...box])
      expect(ids, collection).toEqual(expected)
      expect(res.body.numberMatched).toBe(expected.length)
      // Independently of PostGIS: each feature's own bounding box overlaps the query box.
      for (const f of res.body.features) {
        const pts = positions(f.geometry)
        const [minx, miny, maxx, maxy] = [Math.min(...pts.map((p) => p[0])), Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[1]))]
        expect(minx <= box[2] && maxx >= box[0] && miny <= box[3] && maxy >= box[1], `${f.id} overlaps the bbox`).toBe(true)
      }
    }
    const cams = (await getJson(`${url}/ogc/collections/cameras/items?bbox=${FIXTURE_AREA.join(',')}`)).body
    expect(cams.features.map((f: { id: string }) => f.id)).toEqual(expect.arrayContaining(CAMERA_FIXTURES.map((c) => c.id)))

    const far = (await getJson(`${url}/ogc/collections/grids/items?bbox=116.3,39.8,116.5,40.0`)).body
    expect(far).toMatchObject({ numberMatched: 0, numberReturned: 0, features: [] })
    expect(linkOf(far, 'next')).toBeUndefined()
    // A box across the antimeridian (minLon > maxLon) is valid; nothing of ours lies there.
    const dateline = await getJson(`${url}/ogc/collections/grids/items?bbox=170,-10,-170,10`)
    expect(dateline.status).toBe(200)
    expect(dateline.body.numberMatched).toBe(0)
    // Six numbers: a 3D box; heights are ignored.
    const threeD = await getJson(`${url}/ogc/collections/cameras/items?bbox=${FIXTURE_AREA[0]},${FIXTURE_AREA[1]},0,${FIXTURE_AREA[2]},${FIXTURE_AREA[3]},100`)
    expect(threeD.body.features.map((f: { id: string }) => f.id)).toEqual(expect.arrayContaining(CAMERA_FIXTURES.map((c) => c.id)))
  })

  it('keeps the bbox and limit in the next link', async () => {
    const box = '119.6,29.0,119.7,29.1'
    const expected = await dbIds(db, 'grids', 'ST_Intersects(s.geom, ST_MakeEnvelope(119.6, 29.0, 119.7, 29.1, 4326))')
    expect(expected.length).toBeGreaterThan(2)
    const first = (await getJson(`${url}/ogc/collections/grids/items?bbox=${box}&limit=2`)).body
    const next = new URL(linkOf(first, 'next')!.href)
    expect(next.searchParams.get('bbox')).toBe(box)
    expect(next.searchParams.get('limit')).toBe('2')
    expect(next.searchParams.get('offset')).toBe('2')
    const second = (await getJson(next.toString())).body
    expect([...first.features, ...second.features].map((f: { id: string }) => f.id)).toEqual(expected.slice(0, 4))
    expect(new URL(linkOf(second, 'prev')!.href).searchParams.get('offset')).toBe('0')
  })

  it('returns one feature by id with its links; 404 for a missing id, an id of another collection or an unknown collection', async () => {
    for (const r of CURRENT_REGION_FIXTURES) {
      const collection = Object.keys(LEVEL_OF_COLLECTION).find((c) => LEVEL_OF_COLLECTION[c] === r.level)!
      const res = await getJson(`${url}/ogc/collections/${collection}/items/${r.id}`)
      expect(res.status).toBe(200)
      expect(res.type).toMatch(/^application\/geo\+json/)
      expect(res.body).toMatchObject({ type: 'Feature', id: r.id, geometry: { type: 'MultiPolygon' } })
      expect(res.body.properties).toEqual(expectedRegionProperties(r))
      expect(linkOf(res.body, 'self')?.href).toBe(`${url}/ogc/collections/${collection}/items/${r.id}`)
      expect(linkOf(res.body, 'collection')?.href).toBe(`${url}/ogc/collections/${collection}`)
    }
    for (const c of CAMERA_FIXTURES) {
      const res = await getJson(`${url}/ogc/collections/cameras/items/${c.id}`)
      expect(res.status).toBe(200)
      expect(res.body.properties).toEqual(expectedCameraProperties(c))
      expect(res.body.geometry).toEqual({ type: 'Point', coordinates: [c.lon, c.lat] })
    }
    const [grid] = await dbIds(db, 'grids')
    expect((await getJson(`${url}/ogc/collections/grids/items/${grid}`)).body.properties.level).toBe(4)

    for (const path of [`grids/items/${PREFIX}_NOPE`, `grids/items/${PREFIX}_M`, `parcels/items/${grid}`]) {
      const res = await getJson(`${url}/ogc/collections/${path}`)
      expect(res.status, path).toBe(404)
      expect(res.body.error).toBe('not_found')
    }
  })

  it.each([
    ['three numbers', '119.6,29.0,119.7'],
    ['five numbers', '119.6,29.0,119.7,29.1,5'],
    ['a word', 'jinhua'],
    ['an empty member', '119.6,,119.7,29.1'],
    ['NaN', '119.6,NaN,119.7,29.1'],
    ['a longitude beyond 180', '119.6,29.0,181,29.1'],
    ['a latitude beyond 90', '119.6,-91,119.7,29.1'],
    ['minLat above maxLat', '119.6,29.1,119.7,29.0'],
  ])('answers 400 naming bbox for %s', async (_what, bbox) => {
    const res = await getJson(`${url}/ogc/collections/grids/items?bbox=${encodeURIComponent(bbox)}`)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'invalid_request', field: 'bbox', message: expect.stringContaining('minLon,minLat,maxLon,maxLat') })
  })

  it.each([
    ['limit=0', 'limit'],
    ['limit=-5', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=1.5', 'limit'],
    ['offset=-1', 'offset'],
    ['f=html', 'f'],
    ['filter=name%3D1', 'filter'],
  ])('answers 400 for %s', async (qs, field) => {
    const res = await getJson(`${url}/ogc/collections/grids/items?${qs}`)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'invalid_request', field })
  })

  it('cuts a limit above 10000 to 10000 rather than refusing it', async () => {
    const res = await getJson(`${url}/ogc/collections/cameras/items?limit=50000`)
    expect(res.status).toBe(200)
    expect(new URL(linkOf(res.body, 'self')!.href).searchParams.get('limit')).toBe('10000')
    expect(res.body.numberReturned).toBe(Math.min(10000, res.body.numberMatched))
  })

  it('answers an offset past the end with an empty page and a prev link', async () => {
    const n = (await dbIds(db, 'districts')).length
    const res = await getJson(`${url}/ogc/collections/districts/items?offset=${n + 5}&limit=2`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ numberMatched: n, numberReturned: 0, features: [] })
    expect(linkOf(res.body, 'next')).toBeUndefined()
    expect(linkOf(res.body, 'prev')).toBeDefined()
  })

  it('chooses the format from f and Accept, and answers 406 when none is acceptable', async () => {
    const items = `${url}/ogc/collections/districts/items?limit=1`
    expect((await fetch(items, { headers: { accept: 'application/json' } })).headers.get('content-type')).toMatch(/^application\/json/)
    expect((await fetch(items, { headers: { accept: 'application/geo+json, application/json' } })).headers.get('content-type')).toMatch(/^application\/geo\+json/)
    expect((await fetch(items, { headers: { accept: 'text/html,*/*;q=0.8' } })).headers.get('content-type')).toMatch(/^application\/geo\+json/)
    const html = await fetch(items, { headers: { accept: 'text/html' } })
    expect(html.status).toBe(406)
    expect((await html.json()).error).toBe('not_acceptable')
    expect((await fetch(`${items}&f=json`, { headers: { accept: 'text/html' } })).status).toBe(200)
    expect((await fetch(`${url}/ogc/collections`, { headers: { accept: 'application/xml' } })).status).toBe(406)
    expect((await fetch(`${url}/ogc/collections?f=json`)).headers.get('content-type')).toMatch(/^application\/json/)
  })

  it('builds absolute links from X-Forwarded-Proto and X-Forwarded-Host behind a proxy', async () => {
    const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'gis.example.org' }
    const landing = await getJson(`${url}/ogc`, headers)
    expect(linkOf(landing.body, 'data')?.href).toBe('https://gis.example.org/ogc/collections')
    const items = await getJson(`${url}/ogc/collections/districts/items?limit=1`, headers)
    expect(linkOf(items.body, 'self')?.href).toMatch(/^https:\/\/gis\.example\.org\/ogc\/collections\/districts\/items\?/)
    expect(linkOf(items.body, 'next')?.href).toMatch(/^https:\/\/gis\.example\.org\//)
    // A header that is not a host name is ignored, never copied into links.
    const bad = await getJson(`${url}/ogc`, { 'x-forwarded-host': 'evil.example/"><script>' })
    expect(linkOf(bad.body, 'self')?.href).toBe(`${url}/ogc`)
  })

  it('answers JSON 404s for unknown paths under /ogc, even where the web app serves its page for unknown paths', async () => {
    const webDist = mkdtempSync(join(tmpdir(), 'gc-ogc-web-'))
    writeFileSync(join(webDist, 'index.html'), '<!doctype html><title>GridCommand</title>')
    const withWeb = await buildApp({ db, webDist })
    try {
      for (const path of ['/ogc/nope', '/ogc/collections/grids/items/a/b', '/ogc/collections/grids/queryables']) {
        const res = await withWeb.inject(path)
        expect(res.statusCode, path).toBe(404)
        expect(res.headers['content-type']).toMatch(/^application\/json/)
        expect(res.json().error).toBe('not_found')
      }
      expect((await withWeb.inject('/wall')).headers['content-type']).toMatch(/^text\/html/)
    } finally {
      await withWeb.close()
      rmSync(webDist, { recursive: true, force: true })
    }
  })
})
