import { randomUUID } from 'node:crypto'
import { CASE_MIN_LEVEL } from '../../../shared/domain/levels.ts'
import { toWgs84 } from '../../../shared/geo/crs.ts'
import type { Checkin, CheckinCollection, CheckinCreate, CheckinCreatedEvent } from '../../../shared/schemas/checkin.ts'
import type { Db, Queryable } from '../db/types.ts'
import { insertCheckin, listCheckins, workerName, type CheckinFilter } from '../repos/checkins.ts'
import { appendEvent } from '../repos/events.ts'
import { HttpError } from './http-error.ts'
import { checkMadeAt } from './made-at.ts'
import { attachPhotosTo } from './photos.ts'

export interface CheckinContext {
  /** Whose check-in (the route has settled who may name whom). */
  workerId: string
  /** Who records it: the worker, or an admin account. */
  actor: string
  now: Date
  /** Runs inside the transaction after everything is written (the idempotency record uses it). */
  inTransaction?: (tx: Queryable, checkin: Checkin) => Promise<void>
}

/**
 * Records a patrol check-in in ONE transaction: the point resolved like a case (outside every grid → 422
 * `outside_grid` naming lon, nothing written), the row, its photos, and `checkin:created` on the log — routed by the
 * check-in's region path, and personal to its worker (their `mine` channel).
 */
export async function recordCheckin(db: Db, input: Omit<CheckinCreate, 'workerId'>, ctx: CheckinContext): Promise<Checkin> {
  const madeAt = checkMadeAt(input.madeAt, ctx.now)
  const [lon, lat] = toWgs84(input.lon, input.lat, input.crs)
  const photoIds = (input.photos ?? []).map((p) => p.toLowerCase())
  return db.transaction(async (tx) => {
    const name = await workerName(tx, ctx.workerId)
    if (name === undefined) throw new HttpError(422, 'unknown_worker', `body.workerId: no worker ${ctx.workerId}`, 'workerId')
    const id = randomUUID()
    const r = await insertCheckin(tx, {
      id, workerId: ctx.workerId, actor: ctx.actor, kind: input.kind, at: ctx.now, madeAt, lon, lat,
      address: input.address ?? null, note: input.note ?? null, photos: photoIds, minLevel: CASE_MIN_LEVEL,
    })
    if (r.gridId === null || r.regionPath === null) {
      throw new HttpError(422, 'outside_grid', `the point (${lon}, ${lat}) lies outside every grid`, 'lon')
    }
    const photos = await attachPhotosTo(tx, { checkinId: id }, photoIds, 'photos', ctx.actor)
    const checkin: Checkin = {
      id, workerId: ctx.workerId, workerName: name, actor: ctx.actor, kind: input.kind, at: ctx.now.toISOString(),
      madeAt: madeAt?.toISOString() ?? null, lon, lat, gridId: r.gridId, regions: r.regions,
      address: input.address ?? null, note: input.note ?? null, photos: photos.map((p) => ({ id: p.id, url: p.url })),
    }
    const event: CheckinCreatedEvent = { checkin }
    await appendEvent(tx, 'checkin:created', r.regionPath, event, [ctx.workerId])
    await ctx.inTransaction?.(tx, checkin)
    return checkin
  })
}

/** GET /api/checkins: the check-ins of the filter as GeoJSON points, newest first. */
export async function checkinCollection(q: Queryable, f: CheckinFilter): Promise<CheckinCollection> {
  const rows = await listCheckins(q, f)
  const truncated = rows.length > f.limit
  return {
    type: 'FeatureCollection',
    features: rows.slice(0, f.limit).map((r) => ({
      type: 'Feature',
      id: r.id,
      geometry: { type: 'Point', coordinates: [r.lon, r.lat] },
      properties: {
        id: r.id,
        workerId: r.workerId,
        workerName: r.workerName,
        kind: r.kind,
        at: new Date(r.at).toISOString(),
        madeAt: r.madeAt === null ? null : new Date(r.madeAt).toISOString(),
        address: r.address,
        note: r.note,
        photoCount: r.photoCount,
      },
    })),
    truncated,
  }
}
