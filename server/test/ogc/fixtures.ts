/**
 * Rows of every collection inside the demo region (婺城区 urban core, 金华), so the OGC and tile suites hold whatever
 * the seed loads — even levels or cameras it leaves empty. Ids start with TESTOGC; the suites delete them afterwards.
 */
import { expect } from 'vitest'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db, DbMode } from '../../src/db/types.ts'
import { testDb } from '../../../test/support/db.ts'
import { startServer } from '../../../test/support/server.ts'

export const PREFIX = 'TESTOGC'

/** [minLon, minLat, maxLon, maxLat] */
type Box = [number, number, number, number]

/** The square all fixtures lie in; one z14 tile (13637/6807) holds it whole. */
export const FIXTURE_AREA: Box = [119.65, 29.08, 119.654, 29.084]
export const FIXTURE_TILE = { z: 14, x: 13637, y: 6807 }

export interface RegionFixture {
  id: string
  level: 2 | 3 | 5
  name: string
  box: Box
  households: number | null
  population: number | null
  retired?: boolean
}

export const REGION_FIXTURES: RegionFixture[] = [
  { id: `${PREFIX}_S`, level: 2, name: '测试街道', box: [119.65, 29.08, 119.654, 29.084], households: null, population: null },
  { id: `${PREFIX}_C`, level: 3, name: '测试社区', box: [119.6505, 29.0805, 119.6535, 29.0835], households: 1200, population: 3100 },
  { id: `${PREFIX}_M`, level: 5, name: '测试微网格', box: [119.651, 29.081, 119.652, 29.082], households: 42, population: 97 },
  // A retired version (valid_to set): never served.
  { id: `${PREFIX}_OLD`, level: 3, name: '已撤销社区', box: [119.652, 29.082, 119.653, 29.083], households: 10, population: 20, retired: true },
]

export const CAMERA_FIXTURES = [
  { id: `${PREFIX}_CAM1`, name: '测试摄像头一', kind: 'public_security', status: 'online', lon: 119.6512, lat: 29.0812, streamUrl: 'rtsp://127.0.0.1/test1' },
  { id: `${PREFIX}_CAM2`, name: '测试摄像头二', kind: 'enterprise', status: 'offline', lon: 119.6515, lat: 29.0815, streamUrl: null },
  { id: `${PREFIX}_CAM3`, name: '测试摄像头三', kind: 'construction_site', status: 'online', lon: 119.6525, lat: 29.0825, streamUrl: 'rtsp://127.0.0.1/test3' },
]

const envelope = (b: Box) => `ST_Multi(ST_MakeEnvelope(${b.join(', ')}, 4326))`

/** The district holding the fixtures, looked up rather than assumed. */
async function districtAt(db: Db, lon: number, lat: number): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM regions WHERE level = 1 AND valid_to IS NULL AND ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))',
    [lon, lat],
  )
  if (!rows[0]) throw new Error('the seed has no district at the fixture area (婺城区 urban core)')
  return rows[0].id
}

export async function insertFixtures(db: Db): Promise<void> {
  await deleteFixtures(db)
  const district = await districtAt(db, 119.652, 29.082)
  const parentOf: Record<number, string> = { 2: district, 3: `${PREFIX}_S`, 5: `${PREFIX}_C` }
  const pathOf: Record<number, string> = { 2: `${district}.${PREFIX}_S`, 3: `${district}.${PREFIX}_S.${PREFIX}_C`, 5: `${district}.${PREFIX}_S.${PREFIX}_C.${PREFIX}_M` }
  await db.transaction(async (tx) => {
    for (const r of REGION_FIXTURES) {
      const path = r.retired ? `${district}.${PREFIX}_S.${r.id}` : pathOf[r.level]
      await tx.query(
        `INSERT INTO regions (id, parent_id, level, name, path, geom, households, population, valid_from, valid_to)
         VALUES ($1, $2, $3, $4, text2ltree($5), ${envelope(r.box)}, $6, $7, now() - interval '1 day', CASE WHEN $8 THEN now() END)`,
        [r.id, parentOf[r.level], r.level, r.name, path, r.households, r.population, r.retired ?? false],
      )
    }
    for (const c of CAMERA_FIXTURES) {
      await tx.query(
        `INSERT INTO cameras (id, name, kind, location, region_id, stream_url, status)
         VALUES ($1, $2, $3, ST_SetSRID(ST_MakePoint($4, $5), 4326), $6, $7, $8)`,
        [c.id, c.name, c.kind, c.lon, c.lat, `${PREFIX}_M`, c.streamUrl, c.status],
      )
    }
  })
}

export async function deleteFixtures(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`DELETE FROM cameras WHERE id LIKE '${PREFIX}%'`)
    await tx.query(`DELETE FROM regions WHERE id LIKE '${PREFIX}%' AND level = 5`)
    await tx.query(`DELETE FROM regions WHERE id LIKE '${PREFIX}%' AND level = 3`)
    await tx.query(`DELETE FROM regions WHERE id LIKE '${PREFIX}%' AND level = 2`)
  })
}

/** Regions of the fixture set that are served (the retired one is not). */
export const CURRENT_REGION_FIXTURES = REGION_FIXTURES.filter((r) => !r.retired)

export const LEVEL_OF_COLLECTION: Record<string, number> = { districts: 1, streets: 2, communities: 3, grids: 4, microgrids: 5 }

/** The properties the API serves for a fixture (GeoJSON keeps nulls). */
export function expectedRegionProperties(r: RegionFixture): Record<string, unknown> {
  const parentId = r.level === 3 ? `${PREFIX}_S` : r.level === 5 ? `${PREFIX}_C` : undefined
  return { id: r.id, name: r.name, level: r.level, parentId: parentId ?? expect.any(String), households: r.households, population: r.population }
}

export function expectedCameraProperties(c: (typeof CAMERA_FIXTURES)[number]): Record<string, unknown> {
  return { id: c.id, name: c.name, kind: c.kind, status: c.status, regionId: `${PREFIX}_M` }
}

/**
 * The shared test database of `mode` with the fixtures in it, and the real server on a random loopback port.
 * Pair with closeFixtureServer in afterAll.
 */
export async function openFixtureServer(mode: DbMode): Promise<{ db: Db; app: AppInstance; url: string }> {
  const db = await testDb(mode)
  await insertFixtures(db)
  const { app, url } = await startServer({ db })
  return { db, app, url }
}

export async function closeFixtureServer(db: Db | undefined, app: AppInstance | undefined): Promise<void> {
  await app?.close()
  if (db) await deleteFixtures(db)
}
