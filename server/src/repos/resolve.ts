import type { RegionRef } from '../../../shared/schemas/region.ts'
import type { Queryable } from '../db/types.ts'

/**
 * Point → region chain, for any number of points in ONE query.
 *
 * Exact and deterministic: for each point the finest region that covers it (boundary included) is chosen, and on
 * a shared edge or vertex the lowest id wins, every time. The chain is that region's ancestors, so a child's
 * answer always agrees with its parent's. Current boundaries come from `region_parts` (migration 006: the same
 * regions subdivided, each piece carrying its chain); with `asOf`, the boundaries valid at that time
 * (regions_as_of) are used instead, whole.
 *
 * The answer is built by PostgreSQL as one JSON array in input order, `null` where no region covers a point.
 */
const POINTS = `
  pts AS (
    SELECT u.ord, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326) AS pt
      FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(lon, lat, ord))`

const RESOLVE_CURRENT = `
  WITH ${POINTS}
  SELECT coalesce(json_agg(f.chain ORDER BY p.ord), '[]')::text AS results
    FROM pts p
    LEFT JOIN LATERAL (
      SELECT r.chain FROM region_parts r WHERE ST_Covers(r.geom, p.pt) ORDER BY r.level DESC, r.region_id LIMIT 1) f ON true`

const RESOLVE_AS_OF = `
  WITH ${POINTS},
  finest AS (
    SELECT p.ord, f.path
      FROM pts p
      LEFT JOIN LATERAL (
        SELECT r.path FROM regions_as_of($3::timestamptz) r WHERE ST_Covers(r.geom, p.pt)
         ORDER BY r.level DESC, r.id LIMIT 1) f ON true)
  SELECT coalesce(json_agg(
           (SELECT json_agg(json_build_object('id', a.id, 'name', a.name, 'level', a.level) ORDER BY a.level)
              FROM regions_as_of($3::timestamptz) a WHERE a.id = ANY (string_to_array(f.path::text, '.')))
           ORDER BY f.ord), '[]')::text AS results
    FROM finest f`

/** The chains for `points` ([lon, lat] in WGS84) as a JSON array text, in input order, null outside coverage. */
export async function resolvePointsJson(q: Queryable, points: ReadonlyArray<readonly [number, number]>, asOf?: Date): Promise<string> {
  const params: unknown[] = [points.map((p) => p[0]), points.map((p) => p[1])]
  if (asOf) params.push(asOf.toISOString())
  const { rows } = await q.query<{ results: string }>(asOf ? RESOLVE_AS_OF : RESOLVE_CURRENT, params)
  return rows[0].results
}

export interface ResolvedChain {
  /** District first, down to the finest level containing the point; [] when outside every region. */
  regions: RegionRef[]
  /** ltree path of the finest region (ids joined by '.'), or null when outside every region. */
  path: string | null
}

export async function resolvePoints(q: Queryable, points: ReadonlyArray<readonly [number, number]>, asOf?: Date): Promise<ResolvedChain[]> {
  const chains = JSON.parse(await resolvePointsJson(q, points, asOf)) as Array<RegionRef[] | null>
  return chains.map((regions) =>
    regions ? { regions: regions.map(({ id, name, level }) => ({ id, name, level })), path: regions.map((r) => r.id).join('.') } : { regions: [], path: null },
  )
}

export async function resolvePoint(q: Queryable, lon: number, lat: number, asOf?: Date): Promise<ResolvedChain> {
  return (await resolvePoints(q, [[lon, lat]], asOf))[0]
}
