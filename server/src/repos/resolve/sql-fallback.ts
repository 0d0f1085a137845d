import type { RegionRef } from '../../../../shared/schemas/region.ts'
import type { Queryable } from '../../db/types.ts'
import { RESOLVE_SQL } from './statements.ts'

/**
 * Point → region chain, by SQL alone.
 *
 * The rule, exact and deterministic: for each point the finest region that covers it (boundary included,
 * ST_Covers) is chosen, and on a shared edge or vertex the lowest id wins, every time. The chain is that region's
 * ancestors, so a child's answer always agrees with its parent's. Current boundaries come from `region_parts`
 * (migration 006: the same regions subdivided, each piece carrying its chain); with `asOf`, the boundaries valid at
 * that time (regions_as_of) are used instead, whole.
 *
 * Two ways to the same answer:
 * - SQL alone (here): any number of points in ONE query (resolve.sql), the JSON built by PostgreSQL; the way for
 *   `asOf`, and whenever this process has no current cell index (a case's intake applies the same rule in its own
 *   statement, repos/cases.ts);
 * - the cell index of this process (resolver.ts), for the API: the points far from every edge are answered from
 *   memory and only those near an edge go through the same SQL.
 */

/** The chains for `points` ([lon, lat] in WGS84) as a JSON array text, in input order, null outside coverage. */
export async function resolvePointsJson(q: Queryable, points: ReadonlyArray<readonly [number, number]>, asOf?: Date): Promise<string> {
  const params: unknown[] = [points.map((p) => p[0]), points.map((p) => p[1])]
  if (asOf) params.push(asOf.toISOString())
  const { rows } = await q.query<{ results: string }>(asOf ? RESOLVE_SQL.resolveAsOf : RESOLVE_SQL.resolveCurrent, params)
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
