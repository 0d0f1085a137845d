import { MADE_AT_MAX_AGE_MS, MADE_AT_MAX_AHEAD_MS } from '../../../shared/schemas/case.ts'
import { HttpError } from './http-error.ts'

/**
 * `madeAt` of a body (the time the user made it on the phone), checked against the server's clock: at most
 * MADE_AT_MAX_AHEAD_MS ahead (a phone clock a little fast) and MADE_AT_MAX_AGE_MS behind (a week offline), else 400
 * naming `field`. The schema has already checked the format. Only recorded: due times run from the server's time.
 */
export function checkMadeAt(raw: string | undefined, now: Date, field = 'madeAt'): Date | null {
  if (raw === undefined) return null
  const t = new Date(raw)
  if (Number.isNaN(t.getTime())) throw new HttpError(400, 'invalid_request', `body.${field} must be a date-time`, field)
  if (t.getTime() > now.getTime() + MADE_AT_MAX_AHEAD_MS) {
    throw new HttpError(400, 'invalid_request', `body.${field} (${raw}) lies more than ${MADE_AT_MAX_AHEAD_MS / 60_000} minutes after the server's time (${now.toISOString()}): check the phone's clock`, field)
  }
  if (t.getTime() < now.getTime() - MADE_AT_MAX_AGE_MS) {
    throw new HttpError(400, 'invalid_request', `body.${field} (${raw}) lies more than ${MADE_AT_MAX_AGE_MS / 86_400_000} days before the server's time (${now.toISOString()})`, field)
  }
  return t
}
