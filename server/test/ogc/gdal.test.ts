import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db } from '../../src/db/types.ts'
import { COLLECTION_IDS } from '../../src/repos/features.ts'
import { DB_MODES } from '../../../test/support/db.ts'
import { closeFixtureServer, openFixtureServer } from './fixtures.ts'

/** GDAL's OGC API – Features client (Debian: apt-get install gdal-bin), a real third-party reader of /ogc. */
const OGRINFO = process.env.OGRINFO_PATH || '/usr/bin/ogrinfo'
const REQUIRED = process.env.GC_REQUIRE_GDAL === '1'
const HAVE_OGRINFO = existsSync(OGRINFO)

if (!HAVE_OGRINFO) {
  const msg = `ogrinfo not found at ${OGRINFO}: the GDAL OGC API – Features suite is SKIPPED (apt-get install gdal-bin).`
  if (REQUIRED) throw new Error(`${msg} GC_REQUIRE_GDAL=1 makes this a failure.`)
  console.warn(`\n${'!'.repeat(100)}\n!! ${msg}\n${'!'.repeat(100)}\n`)
}

const run = promisify(execFile)

async function ogrinfo(...args: string[]): Promise<string> {
  // GDAL_HTTP_* keep a broken server from hanging the run; no proxy: the server is on loopback.
  const env = { ...process.env, GDAL_HTTP_TIMEOUT: '30', GDAL_HTTP_MAX_RETRY: '0', NO_PROXY: '*', no_proxy: '*' }
  const { stdout } = await run(OGRINFO, ['-ro', ...args], { timeout: 90_000, maxBuffer: 64 * 1024 * 1024, env })
  return stdout
}

describe.skipIf(!HAVE_OGRINFO)('GDAL ogrinfo reads /ogc', () => {
  describe.each(DB_MODES)('%s', (mode) => {
    let db: Db
    let app: AppInstance
    let root: string

    beforeAll(async () => {
      let url: string
      ;({ db, app, url } = await openFixtureServer(mode))
      root = `OAPIF:${url}/ogc`
    })
    afterAll(() => closeFixtureServer(db, app))

    it('lists the six collections as layers with their geometry types', async () => {
      const out = await ogrinfo('-so', root)
      const layers = [...out.matchAll(/^\d+: (\w+) .*\((Multi Polygon|Point)\)$/gm)].map((m) => [m[1], m[2]])
      expect(layers).toEqual(COLLECTION_IDS.map((id) => [id, id === 'cameras' ? 'Point' : 'Multi Polygon']))
    })

    it('reads the grids layer summary: feature count, extent and fields', async () => {
      const out = await ogrinfo('-al', '-so', root, 'grids')
      const { rows } = await db.query<{ n: number; minx: number; miny: number; maxx: number; maxy: number }>(
        `SELECT count(*)::int AS n, ST_XMin(ST_Extent(geom)) AS minx, ST_YMin(ST_Extent(geom)) AS miny,
                ST_XMax(ST_Extent(geom)) AS maxx, ST_YMax(ST_Extent(geom)) AS maxy
           FROM regions WHERE valid_to IS NULL AND level = 4`,
      )
      expect(rows[0].n).toBeGreaterThan(0)
      expect(out).toMatch(/^Layer name: grids$/m)
      expect(out).toMatch(/^Geometry: Multi Polygon$/m)
      expect(Number(out.match(/^Feature Count: (\d+)$/m)?.[1])).toBe(rows[0].n)
      const extent = out.match(/^Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)$/m)
      expect(extent).not.toBeNull()
      const [minx, miny, maxx, maxy] = extent!.slice(1).map(Number)
      expect(minx).toBeCloseTo(rows[0].minx, 5)
      expect(miny).toBeCloseTo(rows[0].miny, 5)
      expect(maxx).toBeCloseTo(rows[0].maxx, 5)
      expect(maxy).toBeCloseTo(rows[0].maxy, 5)
      for (const field of ['id: String', 'name: String', 'level: Integer', 'parentId: String', 'households: Integer', 'population: Integer']) {
        expect(out).toContain(field)
      }
    })

    it('pages through every grid by following the next links', async () => {
      const out = await ogrinfo('-al', '-geom=NO', '-oo', 'PAGE_SIZE=500', root, 'grids')
      const ids = [...out.matchAll(/^ {2}id \(String\) = (\S+)$/gm)].map((m) => m[1])
      const { rows } = await db.query<{ id: string }>('SELECT id FROM regions WHERE valid_to IS NULL AND level = 4 ORDER BY id')
      expect(ids).toEqual(rows.map((r) => r.id))
    })

    it('reads the cameras layer, test cameras included, with their fields', async () => {
      const out = await ogrinfo('-al', '-so', root, 'cameras')
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cameras')
      expect(out).toMatch(/^Geometry: Point$/m)
      expect(Number(out.match(/^Feature Count: (\d+)$/m)?.[1])).toBe(rows[0].n)
      for (const field of ['kind: String', 'status: String', 'regionId: String']) expect(out).toContain(field)
      expect(out).not.toContain('streamUrl') // public: stream addresses are for staff (issue #6)
    })
  })
})
