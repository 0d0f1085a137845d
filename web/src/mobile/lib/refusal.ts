/**
 * Why the server refused an outbox item, in the user's language: the known codes in plain words, anything else as
 * the server said it (its sentence names the field). The server's own sentence stays available for the details.
 */
import type { MessageKey } from '../../i18n.ts'
import type { Refusal } from './db.ts'

type T = (key: MessageKey, params?: Record<string, string | number>) => string

const KNOWN: Record<string, MessageKey> = {
  outside_grid: 'm.refusal.outside_grid',
  version_mismatch: 'm.refusal.version_mismatch',
  action_not_allowed: 'm.refusal.action_not_allowed',
  forbidden: 'm.refusal.forbidden',
  not_assignee: 'm.refusal.not_assignee',
  case_not_found: 'm.refusal.case_not_found',
  case_not_open: 'm.refusal.case_not_open',
  too_far: 'm.refusal.too_far',
  verifier_is_handler: 'm.refusal.verifier_is_handler',
  idempotency_key_reused: 'm.refusal.idempotency_key_reused',
  payload_too_large: 'm.refusal.too_large',
  unsupported_media_type: 'm.refusal.bad_photo',
}

export function refusalText(r: Refusal, t: T): string {
  const key = KNOWN[r.code]
  return key ? t(key) : r.message
}
