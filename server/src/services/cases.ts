import { toWgs84 } from '../../../shared/geo/crs.ts'
import { CASE_MIN_LEVEL } from '../../../shared/domain/levels.ts'
import type { Case, CaseCreate } from '../../../shared/schemas/case.ts'
import type { Db } from '../db/types.ts'
import { getCase, insertCase } from '../repos/cases.ts'
import { appendEvent } from '../repos/events.ts'
import { resolvePoint } from '../repos/resolve.ts'
import { HttpError } from './http-error.ts'

export interface ReportContext {
  source: string
  reporter?: string | null
}

/**
 * Reports a case: resolves the point to its region chain with PostGIS, inserts the case, its timeline row and the
 * `case:created` event, all in ONE transaction. A point outside every grid → 422 and nothing is written.
 */
export async function reportCase(db: Db, input: CaseCreate, ctx: ReportContext): Promise<Case> {
  const { crs, ...fields } = input
  const [lon, lat] = toWgs84(input.lon, input.lat, crs)
  return db.transaction(async (tx) => {
    const { regions, path } = await resolvePoint(tx, lon, lat)
    const finest = regions.at(-1)
    if (!finest || !path || finest.level < CASE_MIN_LEVEL) {
      throw new HttpError(422, 'outside_grid', `the point (${lon}, ${lat}) lies outside every grid`, 'lon')
    }
    const id = await insertCase(tx, { ...fields, lon, lat, ...ctx, regions, regionPath: path })
    const created = (await getCase(tx, id))!
    await appendEvent(tx, 'case:created', path, { case: created })
    return created
  })
}
