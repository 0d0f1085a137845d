import { isOpenStatus } from '../../../shared/domain/case-status.ts'
import { toWgs84 } from '../../../shared/geo/crs.ts'
import { SUPPLEMENT_RADIUS_M, type SupplementCreate } from '../../../shared/schemas/case.ts'
import type { Db, Queryable } from '../db/types.ts'
import { addFollower, distanceToCase, getCaseRow } from '../repos/cases.ts'
import type { SqlCondition } from '../repos/sql.ts'
import { applyEffect, type ActionResult } from './cases.ts'
import { HttpError } from './http-error.ts'
import { checkMadeAt } from './made-at.ts'

export interface SupplementContext {
  /** Who says "me too" (actorOf the caller). */
  actor: string
  now: Date
  /** What the caller could find (GET /api/cases/nearby's rule, on alias `c`); undefined: every case. */
  findable?: SqlCondition
  /** Runs inside the transaction after everything is written (the idempotency record uses it). */
  inTransaction?: (tx: Queryable, result: ActionResult) => Promise<void>
}

/**
 * "Me too" (同一问题已有人上报): the caller sees the problem of an existing case and adds to it instead of reporting it
 * again — ONE transaction: the case must be one the caller could have found near them (the nearby lookup's rule:
 * else 404 as if missing), open (else 409 `case_not_open`), and within SUPPLEMENT_RADIUS_M of where they are (else
 * 422 `too_far` naming lon). Writes a timeline row `supplement` (note, photos, data.distanceM and data.madeAt) with
 * its version and `case:updated`, and makes the caller a follower (case_followers, `supporters` + 1) unless they
 * are one already or reported the case themselves. Where the supporter stood is not kept beyond the distance.
 */
export async function addSupplement(db: Db, caseId: string, input: SupplementCreate, ctx: SupplementContext): Promise<ActionResult> {
  const madeAt = checkMadeAt(input.madeAt, ctx.now)
  const [lon, lat] = toWgs84(input.lon, input.lat, input.crs)
  return db.transaction(async (tx) => {
    const row = await getCaseRow(tx, caseId, true, ctx.findable)
    if (!row) throw new HttpError(404, 'case_not_found', `no case ${caseId}`)
    if (!isOpenStatus(row.status)) {
      throw new HttpError(409, 'case_not_open', `case ${row.code} is ${row.status}: nothing more to add; report a new case if the problem is back`)
    }
    const distanceM = Math.round((await distanceToCase(tx, row.id, lon, lat)) * 10) / 10
    if (distanceM > SUPPLEMENT_RADIUS_M) {
      throw new HttpError(422, 'too_far', `body.lon/lat: you are ${Math.round(distanceM)} m from case ${row.code}; a supplement is made within ${SUPPLEMENT_RADIUS_M} m of it`, 'lon')
    }
    const joined = row.reporter !== ctx.actor && (await addFollower(tx, row.id, ctx.actor, ctx.now))
    const result = await applyEffect(
      tx,
      row,
      'supplement',
      {
        set: joined ? { supporters: row.supporters + 1 } : {},
        note: input.note ?? null,
        photos: input.photos,
        data: { distanceM, ...(madeAt ? { madeAt: madeAt.toISOString() } : {}) },
      },
      ctx,
    )
    await ctx.inTransaction?.(tx, result)
    return result
  })
}
