import type { CheckinKind } from '../../../shared/schemas/checkin.ts'
import type { RegionRef } from '../../../shared/schemas/region.ts'
import { sqlBlocks } from '../db/sql-file.ts'
import type { Queryable } from '../db/types.ts'
import { SqlBuilder, type SqlCondition } from './sql.ts'

const SQL = sqlBlocks(new URL('./checkins.sql', import.meta.url), ['insert'])

export interface NewCheckin {
  id: string
  workerId: string
  actor: string
  kind: CheckinKind
  at: Date
  madeAt: Date | null
  lon: number
  lat: number
  address: string | null
  note: string | null
  photos: string[]
  /** The finest region level it must resolve to (a grid, CASE_MIN_LEVEL). */
  minLevel: number
}

export interface InsertedCheckin {
  /** Null: nothing written (the point lies outside every grid). */
  gridId: string | null
  regionPath: string | null
  /** The chain of the finest region found, district first (empty outside every region). */
  regions: RegionRef[]
}

/** Resolves the point and writes the check-in in one statement (checkins.sql `insert`). */
export async function insertCheckin(q: Queryable, c: NewCheckin): Promise<InsertedCheckin> {
  const { rows } = await q.query<{ finestLevel: number | null; chain: string | null; gridId: string | null; regionPath: string | null }>(SQL.insert, [
    c.lon, c.lat, c.id, c.workerId, c.actor, c.kind, c.at, c.madeAt, c.address, c.note, c.minLevel, c.photos,
  ])
  const r = rows[0]
  return { gridId: r.gridId, regionPath: r.regionPath, regions: r.chain ? (JSON.parse(r.chain) as RegionRef[]) : [] }
}

export async function workerName(q: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await q.query<{ name: string }>('SELECT name FROM workers WHERE id = $1', [id])
  return rows[0]?.name
}

export interface CheckinFilter {
  /** A region id at any level: check-ins whose point lies under it. */
  regionId?: string
  workerId?: string
  from: Date
  /** Exclusive, unless `toInclusive`. */
  to: Date
  toInclusive?: boolean
  /** Only what a caller may read (auth/checkin-access.ts checkinReachSql), as a condition of the query. */
  reach?: SqlCondition
  limit: number
}

export interface CheckinListRow {
  id: string
  workerId: string
  workerName: string
  kind: CheckinKind
  at: Date | string
  madeAt: Date | string | null
  lon: number
  lat: number
  address: string | null
  note: string | null
  photoCount: number
}

/** Newest first; one row more than `limit` when there are more. */
export async function listCheckins(q: Queryable, f: CheckinFilter): Promise<CheckinListRow[]> {
  const b = new SqlBuilder()
  b.when(`k.at >= ${b.add(f.from)}`)
  b.when(`k.at ${f.toInclusive ? '<=' : '<'} ${b.add(f.to)}`)
  if (f.regionId) b.when(`k.region_path <@ (SELECT r.path FROM regions r WHERE r.id = ${b.add(f.regionId)})`)
  if (f.workerId) b.when(`k.worker_id = ${b.add(f.workerId)}`)
  if (f.reach) b.when(f.reach(b))
  const { rows } = await q.query<CheckinListRow>(
    `SELECT k.id, k.worker_id AS "workerId", w.name AS "workerName", k.kind, k.at, k.made_at AS "madeAt",
            ST_X(k.location) AS lon, ST_Y(k.location) AS lat, k.address, k.note, cardinality(k.photos)::int AS "photoCount"
       FROM patrol_checkins k JOIN workers w ON w.id = k.worker_id
      ${b.where()}
      ORDER BY k.at DESC, k.id LIMIT ${b.add(f.limit + 1)}`,
    b.params,
  )
  return rows
}
