import type { Camera, CameraStatus } from '../../../shared/schemas/camera.ts'
import type { LiveWorkerTuple, Worker, WorkerStatus } from '../../../shared/schemas/worker.ts'
import type { Db, Queryable } from '../db/types.ts'
import { SqlBuilder, page } from './sql.ts'
import { scopeFilterSql } from '../auth/guards.ts'
import type { AuthUser } from '../auth/roles.ts'

/**
 * "The worker aliased `w` serves a region in `user`'s scope" (by workers.region_id, the grid they belong to — not
 * where they happen to stand), its parameter added to `b`. Issue #6: lists, detail, track and nearest are limited
 * to it for signed-in callers; a worker outside answers 404 like a missing one.
 */
export function workerScopeSql(user: AuthUser, b: SqlBuilder, alias = 'w'): string {
  const f = scopeFilterSql(user, 'sr.path', b.params.length + 1)
  b.params.push(...f.params)
  return `EXISTS (SELECT 1 FROM regions sr WHERE sr.id = ${alias}.region_id AND ${f.sql})`
}

/** "The camera aliased `c` lies in `user`'s scope" (cameras.region_path; a camera outside every region: nobody scoped). */
export function cameraScopeSql(user: AuthUser, b: SqlBuilder, alias = 'c'): string {
  const f = scopeFilterSql(user, `${alias}.region_path`, b.params.length + 1)
  b.params.push(...f.params)
  return f.sql
}

/**
 * Live resources: grid staff (workers), their tracks (worker_positions, migration 010) and cameras.
 * Times are kept to the millisecond (the service rounds fixes on the way in), so comparing them in Node is exact.
 */

type Ts = Date | string | null
const iso = (t: Ts): string | null => (t === null ? null : new Date(t).toISOString())

// ---- workers ------------------------------------------------------------------------------------------------------

const WORKER_COLUMNS = `w.id, w.name, w.role, w.region_id AS "regionId", w.status, w.phone,
  ST_X(w.home) AS "homeLon", ST_Y(w.home) AS "homeLat", ST_X(w.position) AS "lon", ST_Y(w.position) AS "lat",
  w.position_grid_id AS "positionGridId", w.last_seen_at AS "lastSeenAt"`

interface WorkerRow extends Omit<Worker, 'home' | 'position' | 'lastSeenAt'> {
  homeLon: number | null
  homeLat: number | null
  lon: number | null
  lat: number | null
  lastSeenAt: Ts
}

const toWorker = (r: WorkerRow): Worker => ({
  id: r.id,
  name: r.name,
  role: r.role,
  regionId: r.regionId,
  status: r.status,
  phone: r.phone,
  home: r.homeLon === null || r.homeLat === null ? null : [r.homeLon, r.homeLat],
  position: r.lon === null || r.lat === null ? null : [r.lon, r.lat],
  positionGridId: r.positionGridId,
  lastSeenAt: iso(r.lastSeenAt),
})

/** With `within`, only a worker in that user's scope (workerScopeSql). */
export async function getWorker(q: Queryable, id: string, within?: AuthUser): Promise<Worker | undefined> {
  const b = new SqlBuilder()
  b.when(`w.id = ${b.add(id)}`)
  if (within) b.when(workerScopeSql(within, b))
  const { rows } = await q.query<WorkerRow>(`SELECT ${WORKER_COLUMNS} FROM workers w ${b.where()}`, b.params)
  return rows[0] && toWorker(rows[0])
}

export interface WorkerFilter {
  /** A region id at any level: the staff of every grid and micro-grid under it (by the region they serve). */
  regionId?: string
  statuses?: readonly WorkerStatus[]
  roles?: readonly string[]
  /** On the live position. */
  bbox?: [number, number, number, number]
  limit: number
  offset: number
  /** The signed-in caller: only workers in their scope. */
  within?: AuthUser
}

/** The staff of every grid and micro-grid under `regionId` (any level). */
function underRegionSql(regionId: string, b: SqlBuilder): string {
  return `w.region_id IN (SELECT s.id FROM regions s WHERE s.path <@ (SELECT r.path FROM regions r WHERE r.id = ${b.add(regionId)}))`
}

/** Ordered by id; one row more than `limit` tells there is a next page. */
export async function listWorkers(q: Queryable, f: WorkerFilter): Promise<{ workers: Worker[]; nextOffset: number | null }> {
  const b = new SqlBuilder()
  if (f.regionId) b.when(underRegionSql(f.regionId, b))
  if (f.statuses) b.when(`w.status = ANY(${b.add(f.statuses)}::text[])`)
  if (f.roles) b.when(`w.role = ANY(${b.add(f.roles)}::text[])`)
  if (f.bbox) b.bbox('w.position', f.bbox)
  if (f.within) b.when(workerScopeSql(f.within, b))
  const { rows } = await q.query<WorkerRow>(
    `SELECT ${WORKER_COLUMNS} FROM workers w ${b.where()} ORDER BY w.id LIMIT ${b.add(f.limit + 1)} OFFSET ${b.add(f.offset)}`,
    b.params,
  )
  const { items, nextOffset } = page(rows, f.limit, f.offset)
  return { workers: items.map(toWorker), nextOffset }
}

/**
 * Every worker with a live position (in `within`'s scope, under `regionId`), as [id, name, status, lon, lat] ordered
 * by id: the wall's snapshot, without the fields a map does not draw.
 */
export async function listLiveWorkers(q: Queryable, f: { within?: AuthUser; regionId?: string }): Promise<LiveWorkerTuple[]> {
  const b = new SqlBuilder()
  b.when('w.position IS NOT NULL')
  if (f.regionId) b.when(underRegionSql(f.regionId, b))
  if (f.within) b.when(workerScopeSql(f.within, b))
  const { rows } = await q.query<{ id: string; name: string; status: WorkerStatus; lon: number; lat: number }>(
    `SELECT w.id, w.name, w.status, ST_X(w.position) AS lon, ST_Y(w.position) AS lat FROM workers w ${b.where()} ORDER BY w.id`,
    b.params,
  )
  return rows.map((r) => [r.id, r.name, r.status, r.lon, r.lat])
}

/** Whether the camera exists and (with `within`) lies in that user's scope. */
export async function cameraReachable(q: Queryable, id: string, within: AuthUser): Promise<boolean> {
  const b = new SqlBuilder()
  b.when(`c.id = ${b.add(id)}`)
  b.when(cameraScopeSql(within, b))
  const { rows } = await q.query(`SELECT 1 FROM cameras c ${b.where()}`, b.params)
  return rows.length > 0
}

export async function regionExists(q: Queryable, id: string): Promise<boolean> {
  const { rows } = await q.query('SELECT 1 FROM regions WHERE id = $1', [id])
  return rows.length > 0
}

export interface NearestQuery {
  lon: number
  lat: number
  limit: number
  statuses?: readonly WorkerStatus[]
  roles?: readonly string[]
  /** Only workers seen at or after this time. */
  seenSince?: Date
  /** The signed-in caller: only workers in their scope. */
  within?: AuthUser
}

/**
 * The `limit` workers nearest to (lon, lat) by geodesic distance. KNN (`<->` on the GIST index of workers.position)
 * finds candidates by planar distance in degrees, which shrinks east–west distances by cos(lat); the geodesic
 * distance then ranks them. Exact: when the candidates cannot prove that nobody beyond them is nearer, the search
 * widens to everyone within the k-th distance.
 */
export async function nearestWorkers(q: Queryable, n: NearestQuery): Promise<Array<Worker & { distanceM: number }>> {
  const b = new SqlBuilder()
  b.add(n.lon)
  b.add(n.lat)
  b.when('w.position IS NOT NULL')
  if (n.statuses) b.when(`w.status = ANY(${b.add(n.statuses)}::text[])`)
  if (n.roles) b.when(`w.role = ANY(${b.add(n.roles)}::text[])`)
  if (n.seenSince) b.when(`w.last_seen_at >= ${b.add(n.seenSince)}`)
  if (n.within) b.when(workerScopeSql(n.within, b))
  const params = b.params
  const candidates = Math.max(4 * n.limit, n.limit + 32)
  type Row = WorkerRow & { distanceM: number; deg: number }
  const pt = 'ST_SetSRID(ST_MakePoint($1, $2), 4326)'
  const knn = await q.query<Row>(
    `SELECT ${WORKER_COLUMNS}, ST_Distance(w.position::geography, ${pt}::geography) AS "distanceM", w.position <-> ${pt} AS deg
       FROM workers w ${b.where()}
      ORDER BY w.position <-> ${pt} LIMIT $${params.length + 1}`,
    [...params, candidates],
  )
  let rows = knn.rows
  if (rows.length === candidates) {
    // Anyone not among the candidates is at least `farthest` degrees away, i.e. at least that many metres along the
    // shorter (east–west) axis at the highest latitude involved.
    const farthest = rows[rows.length - 1].deg
    const byDistance = [...rows].sort((a, b) => a.distanceM - b.distanceM)
    const kth = byDistance[n.limit - 1].distanceM
    const minMetres = farthest * 110_574 * Math.cos(((Math.min(89, Math.abs(n.lat) + farthest)) * Math.PI) / 180)
    if (kth > minMetres) {
      const radiusDeg = kth / (110_574 * Math.cos(((Math.min(89, Math.abs(n.lat) + 1)) * Math.PI) / 180))
      rows = (
        await q.query<Row>(
          `SELECT ${WORKER_COLUMNS}, ST_Distance(w.position::geography, ${pt}::geography) AS "distanceM", 0 AS deg
             FROM workers w ${b.where()} AND ST_DWithin(w.position, ${pt}, $${params.length + 1})`,
          [...params, radiusDeg],
        )
      ).rows
    }
  }
  return rows
    .sort((a, b) => a.distanceM - b.distanceM || (a.id < b.id ? -1 : 1))
    .slice(0, n.limit)
    .map((r) => ({ ...toWorker(r), distanceM: Math.round(r.distanceM * 10) / 10 }))
}

/** The workers among `ids` that exist, locked in id order (so concurrent batches never deadlock), with what a batch needs. */
export async function lockWorkers(
  tx: Queryable,
  ids: readonly string[],
): Promise<Map<string, { status: WorkerStatus; lastSeenAt: number | null; regionPath: string }>> {
  const { rows } = await tx.query<{ id: string; status: WorkerStatus; lastSeenAt: Ts; regionPath: string }>(
    `SELECT w.id, w.status, w.last_seen_at AS "lastSeenAt", r.path::text AS "regionPath"
       FROM workers w JOIN regions r ON r.id = w.region_id
      WHERE w.id = ANY($1::text[])
      ORDER BY w.id
        FOR UPDATE OF w`,
    [ids],
  )
  return new Map(rows.map((r) => [r.id, { status: r.status, lastSeenAt: r.lastSeenAt === null ? null : new Date(r.lastSeenAt).getTime(), regionPath: r.regionPath }]))
}

export interface PositionRow {
  workerId: string
  lon: number
  lat: number
  /** Epoch milliseconds. */
  at: number
  gridId: string | null
  accuracyM: number | null
  status: WorkerStatus | null
}

/** Appends fixes to the tracks; a fix the same worker already has at the same instant is skipped. Returns how many were new. */
export async function insertPositions(tx: Queryable, rows: readonly PositionRow[], receivedAt: Date): Promise<number> {
  const { rowCount } = await tx.query(
    `INSERT INTO worker_positions (worker_id, at, location, grid_id, accuracy_m, status, received_at)
     SELECT u.id, u.at, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326), u.grid, u.acc, u.status, $8
       FROM unnest($1::text[], $2::timestamptz[], $3::float8[], $4::float8[], $5::text[], $6::real[], $7::text[])
            AS u(id, at, lon, lat, grid, acc, status)
     ON CONFLICT (worker_id, at) DO NOTHING`,
    [
      rows.map((r) => r.workerId),
      rows.map((r) => new Date(r.at).toISOString()),
      rows.map((r) => r.lon),
      rows.map((r) => r.lat),
      rows.map((r) => r.gridId),
      rows.map((r) => r.accuracyM),
      rows.map((r) => r.status),
      receivedAt.toISOString(),
    ],
  )
  return rowCount
}

/** Moves the live position (and status) of each worker to the given fix. One row per worker. */
export async function moveWorkers(tx: Queryable, rows: ReadonlyArray<PositionRow & { status: WorkerStatus }>): Promise<void> {
  if (rows.length === 0) return
  await tx.query(
    `UPDATE workers w
        SET position = ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326), position_grid_id = u.grid, last_seen_at = u.at, status = u.status
       FROM unnest($1::text[], $2::float8[], $3::float8[], $4::timestamptz[], $5::text[], $6::text[]) AS u(id, lon, lat, at, grid, status)
      WHERE w.id = u.id`,
    [
      rows.map((r) => r.workerId),
      rows.map((r) => r.lon),
      rows.map((r) => r.lat),
      rows.map((r) => new Date(r.at).toISOString()),
      rows.map((r) => r.gridId),
      rows.map((r) => r.status),
    ],
  )
}

/** The worker row locked for a status change, with the ltree path of the region they serve. */
export async function lockWorker(tx: Queryable, id: string): Promise<{ worker: Worker; regionPath: string } | undefined> {
  const { rows } = await tx.query<WorkerRow & { regionPath: string }>(
    `SELECT ${WORKER_COLUMNS}, r.path::text AS "regionPath" FROM workers w JOIN regions r ON r.id = w.region_id WHERE w.id = $1 FOR UPDATE OF w`,
    [id],
  )
  return rows[0] && { worker: toWorker(rows[0]), regionPath: rows[0].regionPath }
}

export async function updateWorkerStatus(tx: Queryable, id: string, status: WorkerStatus): Promise<void> {
  await tx.query('UPDATE workers SET status = $2 WHERE id = $1', [id, status])
}

export interface TrackPoint {
  lon: number
  lat: number
  at: number
  gridId: string | null
  accuracyM: number | null
  status: WorkerStatus | null
}

/** One worker's fixes in [from, to), oldest first, at most `limit` (the flag says whether more were there). */
export async function workerTrack(q: Queryable, id: string, from: Date, to: Date, limit: number): Promise<{ points: TrackPoint[]; truncated: boolean }> {
  const { rows } = await q.query<{ lon: number; lat: number; at: Ts; gridId: string | null; accuracyM: number | null; status: WorkerStatus | null }>(
    `SELECT ST_X(location) AS lon, ST_Y(location) AS lat, at, grid_id AS "gridId", accuracy_m AS "accuracyM", status
       FROM worker_positions WHERE worker_id = $1 AND at >= $2 AND at < $3
      ORDER BY at LIMIT $4`,
    [id, from.toISOString(), to.toISOString(), limit + 1],
  )
  return {
    points: rows.slice(0, limit).map((r) => ({ ...r, at: new Date(r.at!).getTime() })),
    truncated: rows.length > limit,
  }
}

// ---- track retention ------------------------------------------------------------------------------------------

/** Key for pg_try_advisory_xact_lock: one maintenance pass at a time across processes. */
export const POSITIONS_MAINTENANCE_LOCK = 7_100_010

const DAY_MS = 86_400_000
const utcDay = (ms: number) => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10)

export interface MaintenanceResult {
  /** False when another process was running a pass (this one did nothing). */
  ran: boolean
  /** Day partitions created (worker_positions_pYYYYMMDD). */
  created: string[]
  /** Day partitions dropped: every fix in them was older than the cutoff. */
  dropped: string[]
  /** Expired rows deleted from the default partition. */
  deleted: number
  cutoff: string
}

/**
 * One maintenance pass over the tracks (migration 010), in one transaction:
 * - the day partitions from yesterday to tomorrow (UTC) exist, and so does the partition of every day within
 *   retention that has rows waiting in the default partition (they move into it);
 * - partitions whose whole day lies before `now − retentionDays` are dropped, and expired rows of the default
 *   partition deleted. So a fix is kept at least `retentionDays` and is gone within a day (plus one pass) after that.
 */
export async function maintainPositions(db: Db, opts: { now: Date; retentionDays: number }): Promise<MaintenanceResult> {
  const cutoffMs = opts.now.getTime() - opts.retentionDays * DAY_MS
  const cutoff = new Date(cutoffMs).toISOString()
  return db.transaction(async (tx) => {
    const lock = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [POSITIONS_MAINTENANCE_LOCK])
    if (!lock.rows[0].ok) return { ran: false, created: [], dropped: [], deleted: 0, cutoff }
    const today = Math.floor(opts.now.getTime() / DAY_MS) * DAY_MS
    const days = new Set([utcDay(today - DAY_MS), utcDay(today), utcDay(today + DAY_MS)])
    const waiting = await tx.query<{ day: string }>(
      `SELECT DISTINCT to_char((at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day FROM worker_positions_default
        WHERE at >= $1 AND at < $2`,
      [cutoff, new Date(today + 2 * DAY_MS).toISOString()],
    )
    for (const r of waiting.rows) days.add(r.day)
    const created: string[] = []
    for (const day of [...days].sort()) {
      // Never (re)create a day that retention would drop at once.
      if (Date.parse(`${day}T00:00:00Z`) + DAY_MS <= cutoffMs) continue
      const { rows } = await tx.query<{ made: boolean }>('SELECT worker_positions_ensure_day($1::date) AS made', [day])
      if (rows[0].made) created.push(`worker_positions_p${day.replace(/-/g, '')}`)
    }
    const old = await tx.query<{ part: string }>(
      `SELECT part FROM worker_positions_days() WHERE (day + 1)::timestamp AT TIME ZONE 'UTC' <= $1::timestamptz ORDER BY day`,
      [cutoff],
    )
    const dropped: string[] = []
    for (const { part } of old.rows) {
      // The name comes from the catalogue and matched ^worker_positions_p[0-9]{8}$.
      await tx.exec(`DROP TABLE ${part}`)
      dropped.push(part)
    }
    const del = await tx.query('DELETE FROM worker_positions_default WHERE at < $1', [cutoff])
    return { ran: true, created, dropped, deleted: del.rowCount, cutoff }
  })
}

// ---- cameras ------------------------------------------------------------------------------------------------------

const CAMERA_COLUMNS = `c.id, c.name, c.kind, ST_X(c.location) AS lon, ST_Y(c.location) AS lat, c.region_id AS "regionId",
  c.stream_url AS "streamUrl", c.status`

export interface CameraFilter {
  /** A region id at any level: cameras in it (by the finest region covering them). */
  regionId?: string
  statuses?: readonly CameraStatus[]
  kinds?: readonly string[]
  bbox?: [number, number, number, number]
  limit: number
  offset: number
  /** The signed-in caller: only cameras in their scope. */
  within?: AuthUser
}

export async function listCameras(q: Queryable, f: CameraFilter): Promise<{ cameras: Camera[]; nextOffset: number | null }> {
  const b = new SqlBuilder()
  if (f.regionId) b.when(`c.region_path <@ (SELECT r.path FROM regions r WHERE r.id = ${b.add(f.regionId)})`)
  if (f.statuses) b.when(`c.status = ANY(${b.add(f.statuses)}::text[])`)
  if (f.kinds) b.when(`c.kind = ANY(${b.add(f.kinds)}::text[])`)
  if (f.bbox) b.bbox('c.location', f.bbox)
  if (f.within) b.when(cameraScopeSql(f.within, b))
  const { rows } = await q.query<Camera>(
    `SELECT ${CAMERA_COLUMNS} FROM cameras c ${b.where()} ORDER BY c.id LIMIT ${b.add(f.limit + 1)} OFFSET ${b.add(f.offset)}`,
    b.params,
  )
  const { items, nextOffset } = page(rows, f.limit, f.offset)
  return { cameras: items, nextOffset }
}

export async function lockCamera(tx: Queryable, id: string): Promise<{ camera: Camera; regionPath: string | null } | undefined> {
  const { rows } = await tx.query<Camera & { regionPath: string | null }>(
    `SELECT ${CAMERA_COLUMNS}, c.region_path::text AS "regionPath" FROM cameras c WHERE c.id = $1 FOR UPDATE`,
    [id],
  )
  if (!rows[0]) return undefined
  const { regionPath, ...camera } = rows[0]
  return { camera, regionPath }
}

export async function updateCameraStatus(tx: Queryable, id: string, status: CameraStatus): Promise<void> {
  await tx.query('UPDATE cameras SET status = $2 WHERE id = $1', [id, status])
}
