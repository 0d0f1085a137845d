import type { CandidateCamera } from '../../../shared/schemas/dispatch.ts'
import type { Queryable } from '../db/types.ts'
import type { AuthUser } from '../auth/roles.ts'
import { SqlBuilder } from './sql.ts'
import { cameraScopeSql } from './workers.ts'

/** Statuses in which a case is on somebody's desk: what counts as a worker's load. */
export const LOAD_STATUSES = ['dispatched', 'in_progress'] as const

/** Open cases assigned to each of `ids` (dispatched or in progress); a worker without any is absent. */
export async function workerLoads(q: Queryable, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map()
  const { rows } = await q.query<{ id: string; n: number }>(
    `SELECT assignee_id AS id, count(*)::int AS n FROM cases
      WHERE assignee_id = ANY($1::text[]) AND status = ANY($2::text[]) GROUP BY assignee_id`,
    [ids, LOAD_STATUSES],
  )
  return new Map(rows.map((r) => [r.id, Number(r.n)]))
}

/**
 * Cameras within `radiusM` metres (geodesic) of the point, nearest first, limited to `within`'s scope. The GIST
 * index of cameras.location narrows by a box in degrees at least as large as the radius (a degree of longitude is
 * the shorter one: 111,320 m × cos(lat)); the geography distance decides.
 */
export async function camerasNear(
  q: Queryable,
  p: { lon: number; lat: number; radiusM: number; limit: number; within?: AuthUser },
): Promise<CandidateCamera[]> {
  const b = new SqlBuilder()
  const lon = b.add(p.lon)
  const lat = b.add(p.lat)
  const pt = `ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326)`
  const degrees = (p.radiusM / (111_320 * Math.cos((Math.min(89, Math.abs(p.lat) + 0.1) * Math.PI) / 180))) * 1.01
  b.when(`c.location && ST_Expand(${pt}, ${b.add(degrees)})`)
  b.when(`ST_DWithin(c.location::geography, ${pt}::geography, ${b.add(p.radiusM)})`)
  if (p.within) b.when(cameraScopeSql(p.within, b))
  const { rows } = await q.query<CandidateCamera>(
    `SELECT c.id, c.name, c.kind, ST_X(c.location) AS lon, ST_Y(c.location) AS lat, c.region_id AS "regionId",
            c.stream_url AS "streamUrl", c.status,
            round(ST_Distance(c.location::geography, ${pt}::geography)::numeric, 1)::float8 AS "distanceM"
       FROM cameras c ${b.where()}
      ORDER BY 9, c.id LIMIT ${b.add(p.limit)}`,
    b.params,
  )
  return rows
}
