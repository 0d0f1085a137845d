import type { RegionRef } from '../../../shared/schemas/region.ts'
import type { Queryable } from '../db/types.ts'

/**
 * Point → region chain, for any number of points in ONE query.
 *
 * Exact and deterministic: for each point the finest region that covers it (boundary included) is chosen, and on
 * a shared edge or vertex the lowest id wins, every time. (Subdividing does not change the answer: the pieces of
 * a region cover exactly the region.) The chain is that region's ancestors by path, so a child's answer always agrees with its
 * parent's. With `asOf`, the boundaries valid at that time (regions_as_of) are used instead of the current ones.
 */
function resolveSql(asOf: boolean): string {
  // Current boundaries: the subdivided pieces (region_parts, migration 007). As of a past time: whole polygons.
  const finest = asOf
    ? `SELECT r.path FROM regions_as_of($3::timestamptz) r WHERE ST_Covers(r.geom, p.pt) ORDER BY r.level DESC, r.id LIMIT 1`
    : `SELECT r.path FROM region_parts r WHERE ST_Covers(r.geom, p.pt) ORDER BY r.level DESC, r.region_id LIMIT 1`
  const names = asOf ? 'regions_as_of($3::timestamptz) r' : 'regions r'
  return `
  WITH pts AS (
    SELECT u.ord::int AS ord, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326) AS pt
      FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(lon, lat, ord)),
  finest AS (
    SELECT p.ord, f.path FROM pts p CROSS JOIN LATERAL (${finest}) f)
  SELECT f.ord, r.id, r.name, r.level
    FROM finest f
    JOIN ${names} ON r.id = ANY (string_to_array(f.path::text, '.'))
   ORDER BY f.ord, r.level`
}

export interface ResolvedChain {
  /** District first, down to the finest level containing the point; [] when outside every region. */
  regions: RegionRef[]
  /** ltree path of the finest region (ids joined by '.'), or null when outside every region. */
  path: string | null
}

/** Chains for `points` ([lon, lat] in WGS84), in input order. */
export async function resolvePoints(q: Queryable, points: ReadonlyArray<readonly [number, number]>, asOf?: Date): Promise<ResolvedChain[]> {
  const params: unknown[] = [points.map((p) => p[0]), points.map((p) => p[1])]
  if (asOf) params.push(asOf.toISOString())
  const { rows } = await q.query<{ ord: number; id: string; name: string; level: number }>(resolveSql(Boolean(asOf)), params)
  const out: ResolvedChain[] = points.map(() => ({ regions: [], path: null }))
  for (const r of rows) out[r.ord - 1].regions.push({ id: r.id, name: r.name, level: r.level })
  for (const c of out) c.path = c.regions.length ? c.regions.map((r) => r.id).join('.') : null
  return out
}

export async function resolvePoint(q: Queryable, lon: number, lat: number, asOf?: Date): Promise<ResolvedChain> {
  return (await resolvePoints(q, [[lon, lat]], asOf))[0]
}
