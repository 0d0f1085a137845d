import { readFileSync } from 'node:fs'
import type { Db, Queryable } from './types.ts'

export const DISTRICTS_FILE = new URL('../../../data/sources/jinhua-districts.geojson', import.meta.url)

/**
 * Foundation slice of the demo region: the real boundaries of 婺城区 and 金东区 (Jinhua) and a synthetic layer of
 * grids that partitions each district exactly. The regions issue replaces this with the full five-level dataset.
 *
 * Rules (documented in data/README.md):
 * - The source polygons are invalid (quantised to 1/1024°): repaired with ST_MakeValid, polygons kept.
 * - Neighbouring districts overlap slightly: the district with the lower code keeps the overlap.
 * - Grids are Voronoi cells of seeded random points (denser within 6 km of the city centre, where grids are small
 *   because households are dense) clipped to their district, so they cover it with no gap and no overlap.
 */
const INSERT_DISTRICT = `
  INSERT INTO regions (id, parent_id, level, name, path, geom, attributes)
  VALUES ($1, NULL, 1, $2, text2ltree($1),
          ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON($3), 4326)), 3)),
          jsonb_build_object('source', $4::text))`

const REMOVE_DISTRICT_OVERLAPS = `
  UPDATE regions r
     SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Difference(r.geom, o.taken)), 3))
    FROM (SELECT a.id, ST_Union(b.geom) AS taken
            FROM regions a JOIN regions b ON b.level = 1 AND b.id < a.id AND ST_Intersects(a.geom, b.geom)
           WHERE a.level = 1
           GROUP BY a.id) o
   WHERE r.id = o.id`

const GENERATE_GRIDS = `
  WITH d AS (SELECT id, name, geom FROM regions WHERE level = 1),
  seeds AS (
    SELECT d.id,
           ST_Collect(
             ST_GeneratePoints(d.geom, $1, $3),
             ST_GeneratePoints(
               ST_Intersection(d.geom, ST_Buffer(ST_SetSRID(ST_MakePoint(119.662, 29.088), 4326)::geography, 6000)::geometry),
               $2, $3)) AS pts
      FROM d),
  cells AS (
    SELECT s.id AS district_id, (ST_Dump(ST_VoronoiPolygons(s.pts, 0, d.geom))).geom AS cell, d.geom AS dgeom
      FROM seeds s JOIN d ON d.id = s.id),
  clipped AS (
    SELECT district_id, ST_Multi(ST_CollectionExtract(ST_Intersection(cell, dgeom), 3)) AS geom FROM cells),
  numbered AS (
    SELECT district_id, geom,
           row_number() OVER (PARTITION BY district_id
                              ORDER BY ST_Y(ST_PointOnSurface(geom)) DESC, ST_X(ST_PointOnSurface(geom))) AS n
      FROM clipped
     WHERE NOT ST_IsEmpty(geom))
  INSERT INTO regions (id, parent_id, level, name, path, geom, households, population, attributes)
  SELECT g.id, n.district_id, 4, d.name || '第' || n.n || '网格', text2ltree(n.district_id || '.' || g.id), n.geom,
         g.households, round(g.households * 2.7)::int, '{"synthetic": true}'::jsonb
    FROM numbered n
    JOIN d ON d.id = n.district_id
   CROSS JOIN LATERAL (SELECT n.district_id || 'G' || lpad(n.n::text, 4, '0') AS id,
                              300 + (abs(hashtext(n.district_id || n.n)) % 201) AS households) g`

export interface SeedOptions {
  /** Grids per district spread over the whole district, and within the urban core. */
  ruralGrids?: number
  urbanGrids?: number
  seed?: number
}

/** Loads the demo regions when the regions table is empty; one transaction, so a failed seed leaves nothing. */
export async function seedDemoRegions(db: Db, opts: SeedOptions = {}): Promise<{ seeded: boolean; districts: number; grids: number }> {
  const { ruralGrids = 60, urbanGrids = 140, seed = 20261121 } = opts
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM regions')
  if (rows[0].n > 0) return { seeded: false, ...(await countLevels(db)) }
  const fc = JSON.parse(readFileSync(DISTRICTS_FILE, 'utf8')) as {
    source: string
    features: Array<{ id: string; properties: { name: string }; geometry: unknown }>
  }
  await db.transaction(async (tx) => {
    for (const f of fc.features) {
      await tx.query(INSERT_DISTRICT, [f.id, f.properties.name, JSON.stringify(f.geometry), fc.source])
    }
    await tx.query(REMOVE_DISTRICT_OVERLAPS)
    await tx.query(GENERATE_GRIDS, [ruralGrids, urbanGrids, seed])
  })
  return { seeded: true, ...(await countLevels(db)) }
}

async function countLevels(q: Queryable): Promise<{ districts: number; grids: number }> {
  const { rows } = await q.query<{ districts: number; grids: number }>(
    `SELECT count(*) FILTER (WHERE level = 1)::int AS districts, count(*) FILTER (WHERE level = 4)::int AS grids FROM regions`,
  )
  return rows[0]
}
