import { toWgs84, type InputCrs } from '../../../shared/geo/crs.ts'
import type { Camera, CameraStatus, CameraUpdatedEvent } from '../../../shared/schemas/camera.ts'
import type { RegionRef } from '../../../shared/schemas/region.ts'
import {
  MAX_CLOCK_AHEAD_MS,
  type Worker,
  type WorkerPositionTuple,
  type WorkerStatus,
  type WorkersMovedEvent,
  type WorkerUpdatedEvent,
} from '../../../shared/schemas/worker.ts'
import type { Db } from '../db/types.ts'
import { appendEvent } from '../repos/events.ts'
import { regionResolver } from '../repos/resolve/resolver.ts'
import {
  insertPositions,
  lockCamera,
  lockWorker,
  lockWorkers,
  maintainPositions,
  moveWorkers,
  updateCameraStatus,
  updateWorkerStatus,
  type MaintenanceResult,
  type PositionRow,
} from '../repos/workers.ts'
import { HttpError } from './http-error.ts'

export interface PositionInput {
  workerId: string
  lon: number
  lat: number
  /** RFC 3339; default: ctx.now. */
  at?: string
  accuracyM?: number
  status?: WorkerStatus
}

export interface RecordContext {
  now: Date
  /** CRS of every lon/lat in the batch (default WGS84). */
  crs?: InputCrs
  /** How a field of input i is named in a 4xx (the batch says positions[i].lat, the single route lat). */
  field?: (i: number, name: string) => string
  /**
   * Tag each fix with its finest region (default). False only for the benchmark's baseline: the same path without
   * the spatial engine (every fix stored with a null grid).
   */
  tag?: boolean
}

export interface RecordResult {
  accepted: number
  stored: number
  duplicates: number
  outsideCoverage: number
  live: number
  outOfOrder: number
  /** In input order. */
  grids: Array<string | null>
  chains: RegionRef[][]
  /** In input order: whether the fix became its worker's live position. */
  liveFlags: boolean[]
}

const batchField = (i: number, name: string) => `positions[${i}].${name}`
/** 7 decimals: about 1 cm, plenty for a live marker, and a third shorter on the wire. */
const round7 = (x: number) => Math.round(x * 1e7) / 1e7

/**
 * Records fixes from workers' devices — one or a batch of up to 5,000 — all or nothing:
 * 1. each fix is tagged with the finest region covering it through the spatial engine (this process's cell index,
 *    one batch lookup; outside the transaction, as the resolver reads with its own connection). A fix outside every
 *    region is stored all the same, with a null grid: nothing a device submitted is lost;
 * 2. ONE transaction: the workers are locked in id order (an unknown id → 422 naming it, nothing written), the
 *    fixes appended to the tracks, each worker's newest fix of the batch becomes its live position (with the status
 *    it carries) unless the worker already has a newer one — an out-of-order fix is kept in the track only —, and
 *    one `workers:moved` event per street lists the live positions that moved, for the relay to push.
 */
export async function recordPositions(db: Db, inputs: readonly PositionInput[], ctx: RecordContext): Promise<RecordResult> {
  const field = ctx.field ?? batchField
  const nowMs = ctx.now.getTime()
  const rows: PositionRow[] = inputs.map((p, i) => {
    // Kept to the millisecond: what the events and the API give back, and what makes Node's comparisons exact.
    const at = p.at === undefined ? nowMs : Date.parse(p.at)
    if (!Number.isFinite(at)) throw new HttpError(400, 'invalid_request', `body.${field(i, 'at')} is not a date-time`, field(i, 'at'))
    if (at > nowMs + MAX_CLOCK_AHEAD_MS) {
      throw new HttpError(400, 'invalid_request', `body.${field(i, 'at')} lies ${Math.round((at - nowMs) / 1000)} s in the future (a device clock?): at most ${MAX_CLOCK_AHEAD_MS / 1000} s ahead is accepted`, field(i, 'at'))
    }
    const [lon, lat] = ctx.crs && ctx.crs !== 'wgs84' ? toWgs84(p.lon, p.lat, ctx.crs) : [p.lon, p.lat]
    return { workerId: p.workerId, lon, lat, at, gridId: null, accuracyM: p.accuracyM ?? null, status: p.status ?? null }
  })

  const chains: RegionRef[][] = new Array(rows.length)
  if (ctx.tag === false) chains.fill([])
  else {
    const resolved = JSON.parse(await regionResolver(db).resolveJson(rows.map((r) => [r.lon, r.lat]))) as Array<RegionRef[] | null>
    resolved.forEach((chain, i) => {
      chains[i] = chain ?? []
      rows[i].gridId = chain?.at(-1)?.id ?? null
    })
  }

  const ids = [...new Set(rows.map((r) => r.workerId))]
  return db.transaction(async (tx) => {
    const workers = await lockWorkers(tx, ids)
    if (workers.size < ids.length) {
      const i = rows.findIndex((r) => !workers.has(r.workerId))
      const missing = ids.length - workers.size
      throw new HttpError(
        422,
        'unknown_worker',
        `body.${field(i, 'workerId')} "${rows[i].workerId}" is not a worker${missing > 1 ? ` (nor are ${missing - 1} other ids in this batch)` : ''}`,
        field(i, 'workerId'),
      )
    }
    const stored = await insertPositions(tx, rows, ctx.now)

    // Each worker's newest fix in the batch (the later one on a tie), if it is not older than the live one.
    const newest = new Map<string, number>()
    rows.forEach((r, i) => {
      const j = newest.get(r.workerId)
      if (j === undefined || r.at >= rows[j].at) newest.set(r.workerId, i)
    })
    const liveFlags = new Array<boolean>(rows.length).fill(false)
    const moves: Array<PositionRow & { status: WorkerStatus }> = []
    for (const [id, i] of newest) {
      const w = workers.get(id)!
      if (w.lastSeenAt !== null && rows[i].at < w.lastSeenAt) continue
      liveFlags[i] = true
      moves.push({ ...rows[i], status: rows[i].status ?? w.status })
    }
    let outOfOrder = 0
    rows.forEach((r) => {
      const seen = workers.get(r.workerId)!.lastSeenAt
      if (seen !== null && r.at < seen) outOfOrder++
    })
    await moveWorkers(tx, moves)

    // One event per street (district.street): a street room gets its own street's positions, the wall and the
    // district everything; fixes outside every region go with the street of the worker's own grid.
    const byStreet = new Map<string, WorkerPositionTuple[]>()
    const inputOrder = moves.sort((a, b) => newest.get(a.workerId)! - newest.get(b.workerId)!)
    for (const m of inputOrder) {
      const i = newest.get(m.workerId)!
      const chainPath = chains[i].length ? chains[i].slice(0, 2).map((r) => r.id) : workers.get(m.workerId)!.regionPath.split('.').slice(0, 2)
      const key = chainPath.join('.')
      let list = byStreet.get(key)
      if (!list) byStreet.set(key, (list = []))
      list.push([m.workerId, round7(m.lon), round7(m.lat), m.at, m.status, m.gridId])
    }
    for (const [path, positions] of byStreet) {
      const event: WorkersMovedEvent = { regionId: path.split('.').at(-1) ?? null, positions }
      await appendEvent(tx, 'workers:moved', path, event)
    }

    return {
      accepted: rows.length,
      stored,
      duplicates: rows.length - stored,
      outsideCoverage: ctx.tag === false ? 0 : rows.filter((r) => r.gridId === null).length,
      live: moves.length,
      outOfOrder,
      grids: rows.map((r) => r.gridId),
      chains,
      liveFlags,
    }
  })
}

/** Sets a worker's status (on duty, busy, off duty) and pushes `worker:updated`; the same status again changes nothing. */
export async function setWorkerStatus(db: Db, id: string, status: WorkerStatus, ctx: { by: string | null }): Promise<{ worker: Worker; changed: boolean }> {
  return db.transaction(async (tx) => {
    const locked = await lockWorker(tx, id)
    if (!locked) throw new HttpError(404, 'worker_not_found', `no worker ${id}`)
    const from = locked.worker.status
    if (from === status) return { worker: locked.worker, changed: false }
    await updateWorkerStatus(tx, id, status)
    const worker: Worker = { ...locked.worker, status }
    const event: WorkerUpdatedEvent = { worker, from: { status: from }, by: ctx.by }
    await appendEvent(tx, 'worker:updated', locked.regionPath, event, [id])
    return { worker, changed: true }
  })
}

/** Marks a camera online or offline and pushes `camera:updated`; the same status again changes nothing. */
export async function setCameraStatus(db: Db, id: string, status: CameraStatus, ctx: { by: string | null }): Promise<{ camera: Camera; changed: boolean }> {
  return db.transaction(async (tx) => {
    const locked = await lockCamera(tx, id)
    if (!locked) throw new HttpError(404, 'camera_not_found', `no camera ${id}`)
    const from = locked.camera.status
    if (from === status) return { camera: locked.camera, changed: false }
    await updateCameraStatus(tx, id, status)
    const camera: Camera = { ...locked.camera, status }
    const event: CameraUpdatedEvent = { camera, from: { status: from }, by: ctx.by }
    await appendEvent(tx, 'camera:updated', locked.regionPath, event)
    return { camera, changed: true }
  })
}

export interface PositionMaintenance {
  /** One pass now (also what the timer runs). */
  run(): Promise<MaintenanceResult>
  stop(): Promise<void>
}

/**
 * The periodic retention job for the tracks (repos/workers.ts maintainPositions): a pass at once, then every
 * `intervalMs`. Every server process runs it; an advisory lock lets one pass run at a time.
 */
export function startPositionMaintenance(
  db: Db,
  opts: { retentionDays: number; intervalMs: number; now: () => Date; onError: (err: unknown) => void; onPass?: (r: MaintenanceResult) => void },
): PositionMaintenance & { first: Promise<void> } {
  let running: Promise<MaintenanceResult> | undefined
  let stopped = false
  const run = () => (running ??= maintainPositions(db, { now: opts.now(), retentionDays: opts.retentionDays }).finally(() => (running = undefined)))
  const pass = () =>
    run().then(
      (r) => opts.onPass?.(r),
      (err) => {
        if (!stopped) opts.onError(err)
      },
    )
  const first = pass()
  const timer = setInterval(() => void pass(), opts.intervalMs)
  timer.unref()
  return {
    first,
    run,
    async stop() {
      stopped = true
      clearInterval(timer)
      await running?.catch(() => {})
    },
  }
}
