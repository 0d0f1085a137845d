import type { RegionRef } from '../../../shared/schemas/region.ts'
import type { Queryable } from '../db/types.ts'

const FEATURE_COLLECTION = `
  SELECT json_build_object(
           'type', 'FeatureCollection',
           'features', coalesce(json_agg(json_build_object(
              'type', 'Feature',
              'id', id,
              'properties', json_build_object('id', id, 'name', name, 'level', level, 'parentId', parent_id),
              'geometry', ST_AsGeoJSON(geom, 6)::json) ORDER BY id), '[]'::json))::text AS fc
    FROM regions
   WHERE valid_to IS NULL AND level = $1 AND ($2::text IS NULL OR parent_id = $2)`

/**
 * The finest current region covering the point (boundary points included), then its whole ancestor chain by path:
 * the chain is always consistent, even for a point on a shared edge.
 */
const RESOLVE = `
  WITH finest AS (
    SELECT path FROM regions
     WHERE valid_to IS NULL AND ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
     ORDER BY level DESC, id
     LIMIT 1)
  SELECT r.id, r.name, r.level, r.path::text AS path
    FROM regions r, finest f
   WHERE r.path @> f.path
   ORDER BY r.level`

/** Regions of one level as a GeoJSON FeatureCollection, serialised by PostGIS (6 decimals ≈ 0.1 m). */
export async function regionsGeoJson(q: Queryable, level: number, parentId?: string): Promise<string> {
  const { rows } = await q.query<{ fc: string }>(FEATURE_COLLECTION, [level, parentId ?? null])
  return rows[0].fc
}

export interface ResolvedChain {
  /** District first, down to the finest level containing the point; [] when outside every region. */
  regions: RegionRef[]
  /** ltree path of the finest region, or null when outside every region. */
  path: string | null
}

export async function resolvePoint(q: Queryable, lon: number, lat: number): Promise<ResolvedChain> {
  const { rows } = await q.query<RegionRef & { path: string }>(RESOLVE, [lon, lat])
  return { regions: rows.map(({ id, name, level }) => ({ id, name, level })), path: rows.at(-1)?.path ?? null }
}
