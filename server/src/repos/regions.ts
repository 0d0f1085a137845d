import type { Queryable } from '../db/types.ts'

const featureCollection = (from: string) => `
  SELECT json_build_object(
           'type', 'FeatureCollection',
           'features', coalesce(json_agg(json_build_object(
              'type', 'Feature',
              'id', id,
              'properties', json_build_object('id', id, 'name', name, 'level', level, 'parentId', parent_id),
              'geometry', ST_AsGeoJSON(geom, 7)::json) ORDER BY id), '[]'::json))::text AS fc
    FROM ${from}
   WHERE level = $1 AND ($2::text IS NULL OR parent_id = $2)`

const FEATURE_COLLECTION = featureCollection('(SELECT * FROM regions WHERE valid_to IS NULL) r')
/** Boundaries as they were at $3 (动态调整): current rows and region_history versions valid then (migration 005). */
const FEATURE_COLLECTION_AS_OF = featureCollection('regions_as_of($3::timestamptz) r')

/**
 * Regions of one level as a GeoJSON FeatureCollection, serialised by PostGIS (7 decimals: the 1e-7° grid the boundaries are stored on, exactly): the current
 * boundaries, or with `asOf` (an ISO date-time) those in force at that moment.
 */
export async function regionsGeoJson(q: Queryable, level: number, parentId?: string, asOf?: string): Promise<string> {
  const { rows } = asOf
    ? await q.query<{ fc: string }>(FEATURE_COLLECTION_AS_OF, [level, parentId ?? null, asOf])
    : await q.query<{ fc: string }>(FEATURE_COLLECTION, [level, parentId ?? null])
  return rows[0].fc
}
