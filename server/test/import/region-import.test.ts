import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { zipSync } from 'fflate'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db } from '../../src/db/types.ts'
import { MAX_IMPORT_BYTES, MAX_IMPORT_FEATURES } from '../../src/services/region-import-types.ts'
import { runImportCli } from '../../../scripts/import.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { collection, feature, hierarchy, ID_PREFIX, rect, ring, type Feature } from './fixtures.ts'
import { REGION_FIELDS, zipLayers, type Ring } from './shapefile.ts'

const OGR2OGR = '/usr/bin/ogr2ogr'
const REPO = new URL('../../../', import.meta.url).pathname

/** Area of a lon/lat rectangle on the GRS80 authalic sphere, m² (PostGIS measures on the spheroid: ≈0.3% apart). */
function rectAreaM2(x0: number, y0: number, x1: number, y1: number): number {
  const R = 6_371_007.2
  const rad = Math.PI / 180
  return R * R * (x1 - x0) * rad * Math.abs(Math.sin(y1 * rad) - Math.sin(y0 * rad))
}

const inside = (p: [number, number] | undefined, x0: number, y0: number, x1: number, y1: number) =>
  !!p && p[0] > x0 && p[0] < x1 && p[1] > y0 && p[1] < y1

describe.each(DB_MODES)('region import (%s)', (mode) => {
  let app: AppInstance
  let db: Db
  let seqBefore = 0
  let slot = 0
  /** Each test's districts get their own 0.5°-wide slot along lat 30 (lon 100–…), so they never overlap each other. */
  const origin = (): [number, number] => [100 + 0.5 * slot++, 30]

  const post = (body: unknown, query = '', contentType = 'application/json') =>
    app.inject({
      method: 'POST',
      url: `/api/regions/import${query}`,
      headers: { 'content-type': contentType },
      payload: Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body),
    })

  const counts = async () =>
    (
      await db.query<{ regions: number; history: number; events: number }>(
        `SELECT (SELECT count(*) FROM regions)::int AS regions, (SELECT count(*) FROM region_history)::int AS history,
                (SELECT count(*) FROM events)::int AS events`,
      )
    ).rows[0]

  const regionRows = async (prefix: string) =>
    (
      await db.query<{ id: string; path: string; level: number; parentId: string | null; name: string; households: number | null; attributes: Record<string, unknown> }>(
        `SELECT id, path::text AS path, level, parent_id AS "parentId", name, households, attributes
           FROM regions WHERE id LIKE $1 ORDER BY id`,
        [`${prefix}%`],
      )
    ).rows

  /** Exact valid_from of a region as ISO text (microseconds kept: a JS Date would drop them). */
  const validFrom = async (id: string) =>
    (
      await db.query<{ t: string }>(`SELECT to_char(valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t FROM regions WHERE id = $1`, [id])
    ).rows[0].t

  beforeAll(async () => {
    db = await testDb(mode)
    app = await buildApp({ db })
    await app.ready()
    seqBefore = (await db.query<{ s: number }>('SELECT coalesce(max(seq), 0)::bigint AS s FROM events')).rows[0].s
  })

  afterAll(async () => {
    await db.query(`DELETE FROM region_history WHERE id LIKE '${ID_PREFIX}%'`)
    await db.query(`DELETE FROM regions WHERE id LIKE '${ID_PREFIX}%'`)
    await db.query(`DELETE FROM events WHERE kind = 'regions:imported' AND seq > $1`, [seqBefore])
    await app.close()
  })

  describe('POST /api/regions/import', () => {
    it('imports a valid hierarchy: counts, paths, numbers, one regions:imported event', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_OK_`
      const before = await counts()
      const res = await post(collection(hierarchy(p, x, y)))
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ dryRun: false, valid: true, created: 5, updated: 0, unchanged: 0, repathed: 0 })

      const rows = await regionRows(p)
      expect(rows.map((r) => [r.id, r.path, r.level, r.parentId])).toEqual([
        [`${p}D`, `${p}D`, 1, null],
        [`${p}S1`, `${p}D.${p}S1`, 2, `${p}D`],
        [`${p}S1C1`, `${p}D.${p}S1.${p}S1C1`, 3, `${p}S1`],
        [`${p}S1C2`, `${p}D.${p}S1.${p}S1C2`, 3, `${p}S1`],
        [`${p}S2`, `${p}D.${p}S2`, 2, `${p}D`],
      ])
      expect(rows[0]).toMatchObject({ name: `测试 ${p}D`, households: 1000 })

      const after = await counts()
      expect(after).toEqual({ regions: before.regions + 5, history: before.history, events: before.events + 1 })
      const { rows: ev } = await db.query<{ kind: string; payload: Record<string, number> }>('SELECT kind, payload FROM events ORDER BY seq DESC LIMIT 1')
      expect(ev[0]).toEqual({ kind: 'regions:imported', payload: { created: 5, updated: 0, unchanged: 0, repathed: 0, idCount: 5 } })

      // The new regions are served like any other, and resolve through the hierarchy.
      const fc = (await app.inject(`/api/regions?level=3&parentId=${p}S1`)).json()
      expect(fc.features.map((f: { id: string }) => f.id)).toEqual([`${p}S1C1`, `${p}S1C2`])

      // Importing the same file again changes nothing.
      const again = await post(collection(hierarchy(p, x, y)))
      expect(again.json()).toEqual({ dryRun: false, valid: true, created: 0, updated: 0, unchanged: 5, repathed: 0 })
      expect((await counts()).history).toBe(before.history)
    })

    it('accepts application/geo+json, keeps unknown properties in attributes', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_GJ_`
      const features = hierarchy(p, x, y)
      features[0].properties.code = 'A-17'
      features[0].properties.attributes = { source: 'survey 2026' }
      const res = await post(collection(features), '', 'application/geo+json')
      expect(res.statusCode).toBe(200)
      expect((await regionRows(`${p}D`))[0].attributes).toEqual({ code: 'A-17', source: 'survey 2026' })
    })

    it('a dry run validates and reports but writes nothing', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_DRY_`
      const before = await counts()
      const res = await post(collection(hierarchy(p, x, y)), '?dryRun=true')
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ dryRun: true, valid: true, created: 5, updated: 0, unchanged: 0, repathed: 0 })
      expect(await counts()).toEqual(before)
      expect(await regionRows(p)).toEqual([])

      // …and reports problems exactly like a real import.
      const bad = hierarchy(p, x, y)
      bad[4].properties.parentId = `${p}NOPE`
      const refused = await post(collection(bad), '?dryRun=true')
      expect(refused.statusCode).toBe(422)
      expect(refused.json().problems).toEqual([expect.objectContaining({ featureId: `${p}S1C2`, code: 'unknown_parent' })])
    })

    it('one bad feature among good ones: 422 and nothing at all is written', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_ONE_`
      const features = hierarchy(p, x, y)
      features[3].geometry = { type: 'Polygon', coordinates: [[[x, y], [x + 0.05, y + 0.05], [x + 0.05, y], [x, y + 0.05], [x, y]]] }
      const before = await counts()
      const res = await post(collection(features))
      expect(res.statusCode).toBe(422)
      const body = res.json()
      expect(body).toMatchObject({ error: 'import_invalid', message: expect.stringContaining('nothing was imported') })
      expect(body.problems).toEqual([expect.objectContaining({ featureId: `${p}S1C1`, index: 3, code: 'invalid_geometry' })])
      expect(await counts()).toEqual(before)
      expect(await regionRows(p)).toEqual([])
    })

    it('reports every problem of a file at once, in file order', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_MANY_`
      const features = hierarchy(p, x, y)
      delete features[1].properties.name
      features[2].properties.level = 7
      features[4].properties.parentId = `${p}NOPE`
      const res = await post(collection(features))
      expect(res.statusCode).toBe(422)
      expect(res.json().problems.map((q: { featureId: string; code: string }) => [q.featureId, q.code])).toEqual([
        [`${p}S1`, 'missing_field'],
        [`${p}S2`, 'invalid_field'],
        [`${p}S1C2`, 'unknown_parent'],
      ])
    })
  })

  describe('reports each kind of problem with the feature id', () => {
    type Case = {
      what: string
      /** Changes the valid 5-feature hierarchy of prefix p at (x, y); returns the features to send. */
      make: (f: Feature[], p: string, x: number, y: number) => unknown[]
      expected: (p: string, x: number, y: number) => Record<string, unknown>
      query?: string
      check?: (problem: Record<string, any>, x: number, y: number) => void
    }
    const cases: Case[] = [
      {
        what: 'missing id',
        make: (f) => (delete f[2].properties.id, f),
        expected: () => ({ featureId: null, index: 2, field: 'id', code: 'missing_field' }),
      },
      {
        what: 'missing name',
        make: (f) => (delete f[2].properties.name, f),
        expected: (p) => ({ featureId: `${p}S2`, index: 2, field: 'name', code: 'missing_field' }),
      },
      {
        what: 'missing level',
        make: (f) => (delete f[2].properties.level, f),
        expected: (p) => ({ featureId: `${p}S2`, field: 'level', code: 'missing_field' }),
      },
      {
        what: 'missing parent',
        make: (f) => (delete f[2].properties.parentId, f),
        expected: (p) => ({ featureId: `${p}S2`, field: 'parentId', code: 'missing_field' }),
      },
      {
        what: 'an id that cannot be a path label',
        make: (f) => ((f[2].properties.id = 'S-2 east'), f),
        expected: () => ({ featureId: null, index: 2, field: 'id', code: 'invalid_field' }),
      },
      {
        what: 'duplicate ids in the file',
        make: (f, p, x, y) => [...f, feature(`${p}S1C2`, 3, `${p}S1`, rect(x, y, x + 0.01, y + 0.01))],
        expected: (p) => ({ featureId: `${p}S1C2`, index: 5, field: 'id', code: 'duplicate_id' }),
      },
      {
        what: 'unknown parent',
        make: (f, p) => ((f[3].properties.parentId = `${p}S9`), f),
        expected: (p) => ({ featureId: `${p}S1C1`, field: 'parentId', code: 'unknown_parent', otherId: `${p}S9` }),
      },
      {
        what: 'level not the parent level + 1',
        make: (f) => ((f[3].properties.level = 4), f),
        expected: (p) => ({ featureId: `${p}S1C1`, field: 'level', code: 'level_mismatch', otherId: `${p}S1` }),
      },
      {
        what: 'invalid geometry (self-intersection), with its location',
        make: (f, _p, x, y) => {
          // S2 drawn as a bow tie over its own square.
          f[2].geometry = { type: 'Polygon', coordinates: [[[x + 0.1, y], [x + 0.2, y + 0.2], [x + 0.2, y], [x + 0.1, y + 0.2], [x + 0.1, y]]] }
          return f
        },
        expected: (p) => ({ featureId: `${p}S2`, field: 'geometry', code: 'invalid_geometry', reason: expect.stringMatching(/^Self-intersection/) }),
        check: (q, x, y) => {
          expect(q.location[0]).toBeCloseTo(x + 0.15, 9)
          expect(q.location[1]).toBeCloseTo(y + 0.1, 9)
        },
      },
      {
        what: 'an unclosed ring',
        make: (f, _p, x, y) => ((f[2].geometry = { type: 'Polygon', coordinates: [ring(x + 0.1, y, x + 0.2, y + 0.2).slice(0, 4)] }), f),
        expected: (p) => ({ featureId: `${p}S2`, field: 'geometry', code: 'invalid_geometry', reason: expect.stringContaining('not closed') }),
      },
      {
        what: 'invalid geometry that repair=true cannot mend without changing its area (a bow tie)',
        query: '?repair=true',
        make: (f, _p, x, y) => {
          f[2].geometry = { type: 'Polygon', coordinates: [[[x + 0.1, y], [x + 0.2, y + 0.2], [x + 0.2, y], [x + 0.1, y + 0.2], [x + 0.1, y]]] }
          return f
        },
        expected: (p) => ({ featureId: `${p}S2`, field: 'geometry', code: 'invalid_geometry', reason: expect.stringContaining('ST_MakeValid') }),
      },
      {
        what: 'not a polygon',
        make: (f, _p, x, y) => ((f[2].geometry = { type: 'LineString', coordinates: [[x + 0.1, y], [x + 0.2, y + 0.2]] }), f),
        expected: (p) => ({ featureId: `${p}S2`, field: 'geometry', code: 'not_polygon', reason: expect.stringContaining('LineString') }),
      },
      {
        what: 'no geometry',
        make: (f) => ((f[2].geometry = null), f),
        expected: (p) => ({ featureId: `${p}S2`, field: 'geometry', code: 'missing_field' }),
      },
      {
        what: 'coordinates out of range',
        make: (f, _p, x) => ((f[2].geometry = rect(x + 0.1, 89.9, x + 0.2, 90.5)), f),
        expected: (p) => ({ featureId: `${p}S2`, field: 'geometry', code: 'out_of_range' }),
      },
      {
        what: 'coordinates that look projected (metres) with no CRS',
        make: (f) => ((f[2].geometry = rect(509_550, 3_430_978, 519_100, 3_453_165)), f),
        expected: (p) => ({ featureId: `${p}S2`, field: 'geometry', code: 'projected_coordinates' }),
      },
      {
        what: 'child not inside its parent',
        // Community C1 reaches 0.02° east of its street S1 (into S2, which is not its sibling).
        make: (f, _p, x, y) => ((f[3].geometry = rect(x, y, x + 0.12, y + 0.1)), f),
        expected: (p) => ({ featureId: `${p}S1C1`, field: 'geometry', code: 'outside_parent', otherId: `${p}S1` }),
        check: (q, x, y) => {
          expect(inside(q.location, x + 0.1, y, x + 0.12, y + 0.1)).toBe(true)
          expect(q.areaM2 / rectAreaM2(x + 0.1, y, x + 0.12, y + 0.1)).toBeCloseTo(1, 2)
        },
      },
      {
        what: 'overlapping siblings, with the location and area of the overlap',
        // S2 starts 0.02° west of where S1 ends.
        make: (f, _p, x, y) => ((f[2].geometry = rect(x + 0.08, y, x + 0.2, y + 0.2)), f),
        expected: (p) => ({ featureId: `${p}S1`, field: 'geometry', code: 'overlap', otherId: `${p}S2` }),
        check: (q, x, y) => {
          expect(inside(q.location, x + 0.08, y, x + 0.1, y + 0.2)).toBe(true)
          expect(q.areaM2 / rectAreaM2(x + 0.08, y, x + 0.1, y + 0.2)).toBeCloseTo(1, 2)
        },
      },
      {
        what: 'a gap between the children of a parent in the file, with its location',
        // S2 stops 0.03° short of the district's east edge.
        make: (f, _p, x, y) => ((f[2].geometry = rect(x + 0.1, y, x + 0.17, y + 0.2)), f),
        expected: (p) => ({ featureId: `${p}D`, index: 0, field: 'geometry', code: 'gap' }),
        check: (q, x, y) => {
          expect(inside(q.location, x + 0.17, y, x + 0.2, y + 0.2)).toBe(true)
          expect(q.areaM2 / rectAreaM2(x + 0.17, y, x + 0.2, y + 0.2)).toBeCloseTo(1, 2)
        },
      },
      {
        what: 'a district with a parent',
        make: (f, p) => ((f[0].properties.parentId = `${p}X`), f),
        expected: (p) => ({ featureId: `${p}D`, field: 'parentId', code: 'invalid_field' }),
      },
      {
        what: 'not a Feature',
        make: (f) => [...f, { type: 'Point', coordinates: [0, 0] }],
        expected: () => ({ featureId: null, index: 5, code: 'invalid_feature' }),
      },
    ]

    it.each(cases)('$what', async ({ make, expected, query, check }) => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_${slot}_`
      const before = await counts()
      const res = await post(collection(make(hierarchy(p, x, y), p, x, y)), query ?? '')
      expect(res.statusCode).toBe(422)
      const { problems } = res.json()
      // Exactly the one problem: a broken feature does not drown the report in consequences.
      expect(problems).toEqual([expect.objectContaining({ reason: expect.any(String), ...expected(p, x, y) })])
      check?.(problems[0], x, y)
      expect(await counts()).toEqual(before)
    })

    it('a gap is checked when the file holds every child of a parent already in the database', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_GAPDB_`
      const [district, s1, s2] = hierarchy(p, x, y)
      expect((await post(collection([district]))).statusCode).toBe(200)
      s2.geometry = rect(x + 0.1, y, x + 0.2, y + 0.15) // leaves the north-east corner uncovered
      const res = await post(collection([s1, s2]))
      expect(res.statusCode).toBe(422)
      const [gap] = res.json().problems
      expect(gap).toMatchObject({ featureId: `${p}D`, code: 'gap' })
      expect(gap.index).toBeUndefined() // the parent is not in this file
      expect(inside(gap.location, x + 0.1, y + 0.15, x + 0.2, y + 0.2)).toBe(true)
    })

    it('tolerates floating-point noise on shared edges (as after a reprojection): no false gap, overlap or outside', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_NOISE_`
      const features = hierarchy(p, x, y)
      // The streets' shared vertices sit 1e-14° (≈1 nm) off the district's south and north edges, and the communities'
      // shared vertex off their street's west edge. Measured on great circles these slivers would be ~40,000 m².
      const [xm, x1, ym, y1] = [x + 0.1, x + 0.2, y + 0.1, y + 0.2]
      const dy = 1e-14
      features[1].geometry = { type: 'Polygon', coordinates: [[[x, y], [xm, y + dy], [xm, y1 + dy], [x, y1], [x, y]]] }
      features[2].geometry = { type: 'Polygon', coordinates: [[[xm, y + dy], [x1, y], [x1, y1], [xm, y1 + dy], [xm, y + dy]]] }
      features[3].geometry = { type: 'Polygon', coordinates: [[[x, y], [xm, y + dy], [xm, ym], [x - 1e-14, ym], [x, y]]] }
      features[4].geometry = { type: 'Polygon', coordinates: [[[x - 1e-14, ym], [xm, ym], [xm, y1 + dy], [x, y1], [x - 1e-14, ym]]] }
      const res = await post(collection(features), '?dryRun=true')
      expect(res.statusCode, res.body).toBe(200)
    })

    it('changing one child may not open a gap in a parent its children covered', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_OPEN_`
      expect((await post(collection(hierarchy(p, x, y)))).statusCode).toBe(200)
      // Only S2, shrunk: the district (not in the file) loses its east strip.
      const res = await post(collection([feature(`${p}S2`, 2, `${p}D`, rect(x + 0.1, y, x + 0.17, y + 0.2))]))
      expect(res.statusCode).toBe(422)
      const [gap] = res.json().problems
      expect(gap).toMatchObject({ featureId: `${p}D`, code: 'gap' })
      expect(inside(gap.location, x + 0.17, y, x + 0.2, y + 0.2)).toBe(true)
    })

    it('a parent that was not covered before is not checked for gaps when one child changes', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_PART_`
      // A 0.005° hole (≈0.26 km²) in street S2, let through once with a 1 km² tolerance.
      const features = hierarchy(p, x, y)
      features[2].geometry = { type: 'Polygon', coordinates: [ring(x + 0.1, y, x + 0.2, y + 0.2), ring(x + 0.15, y + 0.15, x + 0.155, y + 0.155).reverse()] }
      expect((await post(collection(features))).statusCode).toBe(422)
      expect((await post(collection(features), '?toleranceM2=1000000')).statusCode).toBe(200)
      // Renaming S1 alone (default tolerance) does not re-open the question of the old hole.
      const s1 = hierarchy(p, x, y)[1]
      s1.properties.name = '西街道'
      const res = await post(collection([s1]))
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toMatchObject({ updated: 1 })
    })

    it('an existing region cannot change level', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_LVL_`
      expect((await post(collection(hierarchy(p, x, y)))).statusCode).toBe(200)
      const res = await post(collection([feature(`${p}S1C1`, 2, `${p}D`, rect(x, y, x + 0.1, y + 0.1))]))
      expect(res.statusCode).toBe(422)
      expect(res.json().problems).toContainEqual(expect.objectContaining({ featureId: `${p}S1C1`, field: 'level', code: 'level_changed' }))
    })

    it('repair=true mends an invalid polygon when ST_MakeValid keeps its area', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_FIX_`
      const features = hierarchy(p, x, y)
      // S2 with a zero-width spike into itself: invalid (self-intersection), same area once the spike is gone.
      const [xm, x1, ym, y1] = [x + 0.1, x + 0.2, y + 0.1, y + 0.2]
      features[2].geometry = { type: 'Polygon', coordinates: [[[xm, y], [x1, y], [x1, y1], [xm, y1], [xm, ym], [xm + 0.05, ym], [xm, ym], [xm, y]]] }
      const refused = await post(collection(features))
      expect(refused.statusCode).toBe(422)
      expect(refused.json().problems).toEqual([expect.objectContaining({ featureId: `${p}S2`, code: 'invalid_geometry' })])
      const res = await post(collection(features), '?repair=true')
      expect(res.statusCode).toBe(200)
      expect(res.json().created).toBe(5)
      const { rows } = await db.query<{ valid: boolean; type: string }>(`SELECT ST_IsValid(geom) AS valid, GeometryType(geom) AS type FROM regions WHERE id = $1`, [`${p}S2`])
      expect(rows[0]).toEqual({ valid: true, type: 'MULTIPOLYGON' })
    })
  })

  describe('versioned boundaries (动态调整)', () => {
    it('a changed polygon keeps its old version: region_history, and GET /api/regions?asOf= serves it', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_VER_`
      expect((await post(collection(hierarchy(p, x, y)))).statusCode).toBe(200)
      const t1 = await validFrom(`${p}S2`)

      // The district and its east street grow 0.05° east; the rest is unchanged.
      const v2 = hierarchy(p, x, y)
      v2[0].geometry = rect(x, y, x + 0.25, y + 0.2)
      v2[2].geometry = rect(x + 0.1, y, x + 0.25, y + 0.2)
      v2[2].properties.name = '东街道（扩）'
      const res = await post(collection(v2))
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ dryRun: false, valid: true, created: 0, updated: 2, unchanged: 3, repathed: 0 })
      const t2 = await validFrom(`${p}S2`)
      expect(t2 > t1).toBe(true)

      const { rows: history } = await db.query<{ id: string; name: string; from: string; to: string; maxLon: number }>(
        `SELECT id, name, to_char(valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS from,
                to_char(valid_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS to, ST_XMax(geom) AS "maxLon"
           FROM region_history WHERE id LIKE $1 ORDER BY id`,
        [`${p}%`],
      )
      expect(history).toEqual([
        { id: `${p}D`, name: `测试 ${p}D`, from: t1, to: t2, maxLon: x + 0.2 },
        { id: `${p}S2`, name: `测试 ${p}S2`, from: t1, to: t2, maxLon: x + 0.2 },
      ])

      const maxLon = (fc: { features: Array<{ id: string; geometry: { coordinates: number[][][][] } }> }, id: string) =>
        Math.max(...fc.features.find((f) => f.id === id)!.geometry.coordinates.flat(2).map((c) => c[0]))
      const now = (await app.inject(`/api/regions?level=2&parentId=${p}D`)).json()
      expect(now.features.find((f: { id: string }) => f.id === `${p}S2`).properties.name).toBe('东街道（扩）')
      expect(maxLon(now, `${p}S2`)).toBeCloseTo(x + 0.25, 6)

      const then = await app.inject({ url: '/api/regions', query: { level: '2', parentId: `${p}D`, asOf: t1 } })
      expect(then.statusCode).toBe(200)
      const old = then.json()
      expect(old.features.map((f: { id: string }) => f.id)).toEqual([`${p}S1`, `${p}S2`])
      expect(old.features[1].properties.name).toBe(`测试 ${p}S2`)
      expect(maxLon(old, `${p}S2`)).toBeCloseTo(x + 0.2, 6)

      const atT2 = (await app.inject({ url: '/api/regions', query: { level: '1', asOf: t2 } })).json()
      expect(maxLon(atT2, `${p}D`)).toBeCloseTo(x + 0.25, 6)

      const before = new Date(Date.parse(t1) - 60_000).toISOString()
      const none = (await app.inject({ url: '/api/regions', query: { level: '2', parentId: `${p}D`, asOf: before } })).json()
      expect(none.features).toEqual([])
    })

    it('answers 400 for an asOf that is not an ISO date-time', async () => {
      const res = await app.inject('/api/regions?level=1&asOf=yesterday')
      expect(res.statusCode).toBe(400)
      expect(res.json().field).toBe('asOf')
    })

    it('moving a street to another district re-paths its descendants and versions them', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_MV_`
      // District A = [x, x+0.2] (streets S1 west, S2 east; S2 has two communities); district B = [x+0.2, x+0.4]
      // with one street T1. Then A shrinks to its west half and S2 moves to B, which grows west to take it.
      const A = `${p}A`
      const B = `${p}B`
      const first = [
        feature(A, 1, null, rect(x, y, x + 0.2, y + 0.2)),
        feature(`${p}S1`, 2, A, rect(x, y, x + 0.1, y + 0.2)),
        feature(`${p}S2`, 2, A, rect(x + 0.1, y, x + 0.2, y + 0.2)),
        feature(`${p}S2C1`, 3, `${p}S2`, rect(x + 0.1, y, x + 0.2, y + 0.1)),
        feature(`${p}S2C2`, 3, `${p}S2`, rect(x + 0.1, y + 0.1, x + 0.2, y + 0.2)),
        feature(B, 1, null, rect(x + 0.2, y, x + 0.4, y + 0.2)),
        feature(`${p}T1`, 2, B, rect(x + 0.2, y, x + 0.4, y + 0.2)),
      ]
      expect((await post(collection(first))).statusCode).toBe(200)
      const historyBefore = (await counts()).history

      const second = [
        feature(A, 1, null, rect(x, y, x + 0.1, y + 0.2)),
        feature(B, 1, null, rect(x + 0.1, y, x + 0.4, y + 0.2)),
        feature(`${p}S2`, 2, B, rect(x + 0.1, y, x + 0.2, y + 0.2)),
      ]
      const res = await post(collection(second))
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toEqual({ dryRun: false, valid: true, created: 0, updated: 3, unchanged: 0, repathed: 2 })
      const paths = Object.fromEntries((await regionRows(p)).map((r) => [r.id, r.path]))
      expect(paths).toEqual({
        [A]: A,
        [B]: B,
        [`${p}S1`]: `${A}.${p}S1`,
        [`${p}S2`]: `${B}.${p}S2`,
        [`${p}S2C1`]: `${B}.${p}S2.${p}S2C1`,
        [`${p}S2C2`]: `${B}.${p}S2.${p}S2C2`,
        [`${p}T1`]: `${B}.${p}T1`,
      })
      // A, B, S2 and both communities (their path changed) have a closed version with the old path.
      const { rows } = await db.query<{ id: string; path: string }>(`SELECT id, path::text AS path FROM region_history WHERE id LIKE $1 ORDER BY id`, [`${p}%`])
      expect(rows).toEqual([
        { id: A, path: A },
        { id: B, path: B },
        { id: `${p}S2`, path: `${A}.${p}S2` },
        { id: `${p}S2C1`, path: `${A}.${p}S2.${p}S2C1` },
        { id: `${p}S2C2`, path: `${A}.${p}S2.${p}S2C2` },
      ])
      expect((await counts()).history).toBe(historyBefore + 5)
    })

    it('a new boundary may not leave existing children outside', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_SHRINK_`
      expect((await post(collection(hierarchy(p, x, y)))).statusCode).toBe(200)
      // S1 shrinks to its south half: its community C2 (north) would fall outside it.
      const res = await post(collection([feature(`${p}S1`, 2, `${p}D`, rect(x, y, x + 0.1, y + 0.1))]))
      expect(res.statusCode).toBe(422)
      expect(res.json().problems).toContainEqual(
        expect.objectContaining({ featureId: `${p}S1`, code: 'outside_parent', otherId: `${p}S1C2`, areaM2: expect.any(Number) }),
      )
    })
  })

  describe('zipped shapefiles', () => {
    // CGCS2000 / 3-degree Gauss-Krüger CM 102E, as ArcGIS writes it. Coordinates of the test grid (lon 102.0–102.2,
    // lat 31.0–31.2, every 0.1°) in that CRS, computed with GDAL/PROJ (gdaltransform), not with proj4js.
    const PRJ_GK_102E =
      'PROJCS["CGCS2000_3_Degree_GK_CM_102E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",102.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
    const GK: Record<string, [number, number]> = {
      '102,31': [500000, 3430974.32340885],
      '102,31.1': [500000, 3442061.3558226],
      '102,31.2': [500000, 3453148.56042765],
      '102.1,31': [509550.428531225, 3430978.61590429],
      '102.1,31.1': [509540.447788674, 3442065.65628104],
      '102.1,31.2': [509530.437971934, 3453152.86879682],
      '102.2,31': [519100.870826268, 3430991.49343559],
      '102.2,31.1': [519080.909236685, 3442078.55770131],
      '102.2,31.2': [519060.889498705, 3453165.79394924],
    }
    const gk = (lonLat: Array<[number, number]>): Ring => lonLat.map(([lon, lat]) => GK[`${lon},${lat}`])
    const p = `${ID_PREFIX}_SHP_`

    it('a projected shapefile (two layers, .prj in Gauss-Krüger) is reprojected to WGS84 and imported', async () => {
      const zip = zipLayers([
        {
          name: 'districts',
          prj: PRJ_GK_102E,
          cpg: 'UTF-8',
          fields: REGION_FIELDS,
          // Every grid point on the boundary, so the children's vertices are the district's too.
          polygons: [[gk([[102, 31], [102.1, 31], [102.2, 31], [102.2, 31.1], [102.2, 31.2], [102.1, 31.2], [102, 31.2], [102, 31.1], [102, 31]])]],
          records: [{ id: `${p}D`, name: '测试区', level: 1, parentId: null, households: 5200 }],
        },
        {
          name: 'streets',
          prj: PRJ_GK_102E,
          cpg: 'UTF-8',
          fields: REGION_FIELDS,
          polygons: [
            [gk([[102, 31], [102.1, 31], [102.1, 31.1], [102.1, 31.2], [102, 31.2], [102, 31.1], [102, 31]])],
            [gk([[102.1, 31], [102.2, 31], [102.2, 31.1], [102.2, 31.2], [102.1, 31.2], [102.1, 31.1], [102.1, 31]])],
          ],
          records: [
            { id: `${p}S1`, name: '西街道', level: 2, parentId: `${p}D`, households: 2600 },
            { id: `${p}S2`, name: '东街道', level: 2, parentId: `${p}D`, households: null },
          ],
        },
      ])
      const dry = await post(zip, '?dryRun=true', 'application/zip')
      expect(dry.statusCode, dry.body).toBe(200)
      expect(dry.json()).toMatchObject({ dryRun: true, created: 3 })

      const res = await post(zip, '', 'application/zip')
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toMatchObject({ created: 3, updated: 0 })
      const rows = await regionRows(p)
      expect(rows.map((r) => [r.id, r.name, r.path, r.households])).toEqual([
        [`${p}D`, '测试区', `${p}D`, 5200],
        [`${p}S1`, '西街道', `${p}D.${p}S1`, 2600],
        [`${p}S2`, '东街道', `${p}D.${p}S2`, null],
      ])
      // Back in lon/lat: the district's bounding box is the 0.2° square (to ~1 mm).
      const { rows: box } = await db.query<{ x0: number; y0: number; x1: number; y1: number }>(
        `SELECT ST_XMin(geom) AS x0, ST_YMin(geom) AS y0, ST_XMax(geom) AS x1, ST_YMax(geom) AS y1 FROM regions WHERE id = $1`,
        [`${p}D`],
      )
      for (const [got, want] of [[box[0].x0, 102], [box[0].y0, 31], [box[0].x1, 102.2], [box[0].y1, 31.2]]) {
        expect(Math.abs(got - want)).toBeLessThan(1e-8)
      }
    })

    it('a shapefile in metres without a .prj is refused as projected coordinates', async () => {
      const zip = zipLayers([
        {
          name: 'noprj',
          fields: REGION_FIELDS,
          polygons: [[gk([[102, 31], [102.1, 31], [102.1, 31.1], [102, 31.1], [102, 31]])]],
          records: [{ id: `${p}X`, name: 'x', level: 1, parentId: null, households: null }],
        },
      ])
      const res = await post(zip, '', 'application/zip')
      expect(res.statusCode).toBe(422)
      expect(res.json().problems).toEqual([expect.objectContaining({ featureId: `${p}X`, code: 'projected_coordinates' })])
    })

    it('a shapefile whose .dbf holds a control or bidi-override character in a name is refused per feature, nothing written', async () => {
      const zip = zipLayers([
        {
          name: 'badtext',
          cpg: 'UTF-8',
          fields: REGION_FIELDS,
          polygons: [[[[102, 31], [102.1, 31], [102.1, 31.1], [102, 31.1], [102, 31]]]],
          records: [{ id: `${p}T`, name: '测试\u202e区', level: 1, parentId: null, households: null }],
        },
      ])
      const res = await post(zip, '', 'application/zip')
      expect(res.statusCode, res.body).toBe(422)
      expect(res.json().problems).toEqual([expect.objectContaining({ featureId: `${p}T`, field: 'name', code: 'invalid_field', reason: expect.stringContaining('U+202E') })])
      expect(await regionRows(`${p}T`)).toEqual([])
    })

    it('a zip that is not a shapefile is reported as an invalid file', async () => {
      const res = await post(Buffer.from(zipSync({ 'readme.txt': Buffer.from('hello') })), '', 'application/zip')
      expect(res.statusCode).toBe(422)
      expect(res.json().problems).toEqual([expect.objectContaining({ featureId: null, code: 'invalid_file' })])
      const junk = await post(Buffer.from('not a zip at all'), '', 'application/zip')
      expect(junk.statusCode).toBe(422)
      expect(junk.json().problems[0]).toMatchObject({ featureId: null, code: 'invalid_file' })
    })

    it.skipIf(!existsSync(OGR2OGR))('a shapefile written by GDAL ogr2ogr in UTM 48N is reprojected and imported', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gc-import-ogr-'))
      try {
        const q = `${ID_PREFIX}_OGR_`
        const src = join(dir, 'src.geojson')
        writeFileSync(src, JSON.stringify(collection(hierarchy(q, 103, 31))))
        execFileSync(OGR2OGR, ['-f', 'ESRI Shapefile', '-t_srs', 'EPSG:32648', '-lco', 'ENCODING=UTF-8', join(dir, 'regions.shp'), src], { stdio: 'pipe' })
        const files = Object.fromEntries(readdirSync(dir).filter((f) => f.startsWith('regions.')).map((f) => [f, readFileSync(join(dir, f))]))
        expect(Object.keys(files).sort()).toEqual(['regions.cpg', 'regions.dbf', 'regions.prj', 'regions.shp', 'regions.shx'])
        const res = await post(Buffer.from(zipSync(files)), '', 'application/zip')
        expect(res.statusCode, res.body).toBe(200)
        expect(res.json()).toMatchObject({ created: 5 })
        const { rows } = await db.query<{ x0: number; y1: number; name: string }>(
          `SELECT ST_XMin(geom) AS x0, ST_YMax(geom) AS y1, name FROM regions WHERE id = $1`,
          [`${q}D`],
        )
        expect(rows[0].name).toBe(`测试 ${q}D`)
        expect(Math.abs(rows[0].x0 - 103)).toBeLessThan(1e-8)
        expect(Math.abs(rows[0].y1 - 31.2)).toBeLessThan(1e-8)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
    if (!existsSync(OGR2OGR)) console.warn(`[import tests] ${OGR2OGR} is absent: the GDAL-written shapefile test is SKIPPED (apt-get install gdal-bin)`)
  })

  describe('limits and transport', () => {
    it.each(['application/json', 'application/zip'])('answers 413 payload_too_large for a %s body over the limit', async (type) => {
      const res = await post(Buffer.alloc(MAX_IMPORT_BYTES + 1, 0x20), '', type)
      expect(res.statusCode).toBe(413)
      expect(res.json()).toEqual({ error: 'payload_too_large', message: expect.any(String) })
    })

    it('answers 413 payload_too_large for too many features', async () => {
      const res = await post(collection(Array.from({ length: MAX_IMPORT_FEATURES + 1 }, () => ({}))))
      expect(res.statusCode).toBe(413)
      expect(res.json()).toEqual({ error: 'payload_too_large', message: expect.stringContaining(String(MAX_IMPORT_FEATURES)) })
    })

    it('answers 415 for another media type, 400 for broken JSON or a bad option, 422 for an empty collection', async () => {
      expect((await post('id,name', '', 'text/csv')).json()).toMatchObject({ error: 'unsupported_media_type' })
      const broken = await post('{"type": "FeatureCollection", ', '')
      expect(broken.statusCode).toBe(400)
      expect(broken.json().error).toBe('invalid_json')
      const option = await post(collection([]), '?dryRun=perhaps')
      expect(option.statusCode).toBe(400)
      expect(option.json().field).toBe('dryRun')
      const unknown = await post(collection([]), '?force=true')
      expect(unknown.statusCode).toBe(400)
      const empty = await post(collection([]))
      expect(empty.statusCode).toBe(422)
      expect(empty.json().problems).toEqual([expect.objectContaining({ code: 'invalid_file' })])
      const notFc = await post({ type: 'Feature', properties: {}, geometry: null })
      expect(notFc.statusCode).toBe(422)
    })

    it('reprojects a GeoJSON declaring EPSG:3857 and refuses an unknown crs', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_MERC_`
      const merc = ([lon, lat]: number[]) => [(lon * Math.PI * 6378137) / 180, Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360)) * 6378137]
      const d = feature(`${p}D`, 1, null, { type: 'Polygon', coordinates: [ring(x, y, x + 0.2, y + 0.2).map(merc)] })
      const named = (name: string) => ({ ...collection([d]), crs: { type: 'name', properties: { name } } })
      const res = await post(named('urn:ogc:def:crs:EPSG::3857'), '?dryRun=true')
      expect(res.statusCode, res.body).toBe(200)
      const refused = await post(named('EPSG:2385'))
      expect(refused.statusCode).toBe(422)
      expect(refused.json().problems).toEqual([expect.objectContaining({ featureId: null, code: 'unsupported_crs' })])
    })
  })

  describe('npm run import (scripts/import.ts)', () => {
    const io = () => {
      const lines: string[] = []
      return { lines, out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) }
    }

    it('imports a file, refuses a bad one with exit code 1, and answers usage errors with 2', async () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_CLI_`
      const dir = mkdtempSync(join(tmpdir(), 'gc-import-cli-'))
      try {
        const good = join(dir, 'good.geojson')
        writeFileSync(good, JSON.stringify(collection(hierarchy(p, x, y))))
        const bad = join(dir, 'bad.geojson')
        const broken = hierarchy(p, x, y)
        broken[2].properties.parentId = `${p}NOPE`
        writeFileSync(bad, JSON.stringify(collection(broken)))
        const connect = async () => db

        let o = io()
        expect(await runImportCli([good, '--dry-run'], o, connect)).toBe(0)
        expect(o.lines.join('\n')).toMatch(/dry run: nothing written\): 5 created/)
        expect(await regionRows(p)).toEqual([])

        o = io()
        expect(await runImportCli([bad], o, connect)).toBe(1)
        expect(o.lines.join('\n')).toContain(`${p}S2 [parentId] unknown_parent`)

        o = io()
        expect(await runImportCli([good, '--json'], o, connect)).toBe(0)
        expect(JSON.parse(o.lines[0])).toMatchObject({ dryRun: false, created: 5 })
        expect(await regionRows(p)).toHaveLength(5)

        let connected = false
        o = io()
        expect(await runImportCli(['--bogus', good], o, async () => ((connected = true), db))).toBe(2)
        expect(await runImportCli([join(dir, 'missing.geojson')], o, async () => ((connected = true), db))).toBe(2)
        expect(connected).toBe(false)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })

    it.runIf(mode === 'postgres')('runs as a process against DATABASE_URL and exits non-zero on problems', () => {
      const [x, y] = origin()
      const p = `${ID_PREFIX}_PROC_`
      const dir = mkdtempSync(join(tmpdir(), 'gc-import-proc-'))
      try {
        const file = join(dir, 'regions.geojson')
        writeFileSync(file, JSON.stringify(collection(hierarchy(p, x, y))))
        const env = { ...process.env, DATABASE_URL: inject('pgUrl')! }
        const ok = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/import.ts', file, '--dry-run'], { cwd: REPO, env, encoding: 'utf8' })
        expect(ok.status, ok.stderr).toBe(0)
        expect(ok.stdout).toMatch(/5 created/)
        const features = hierarchy(p, x, y)
        features[1].geometry = { type: 'Point', coordinates: [x, y] }
        writeFileSync(file, JSON.stringify(collection(features)))
        const bad = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/import.ts', file], { cwd: REPO, env, encoding: 'utf8' })
        expect(bad.status).toBe(1)
        expect(bad.stdout).toContain('not_polygon')
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  })
})
