import { createHash } from 'node:crypto'
import type { Db, Queryable } from '../db/types.ts'
import { HttpError } from './http-error.ts'

/**
 * Idempotency-Key for intake and case actions (IETF draft-ietf-httpapi-idempotency-key-header): the same key and
 * body → the first response again; the same key with another body → 422; a retry while the first is still running
 * → 409. Keys are scoped to the caller and kept at least 24 h (pruned after KEEP_HOURS by the scheduler). Only
 * successful results are stored — a request that failed leaves no key behind, so the client can correct it and
 * retry with the same key.
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key'
export const KEEP_HOURS = 48
/** A key whose request has shown no result for this long is taken to be abandoned (its process died). */
export const ABANDONED_AFTER_MS = 60_000

/** A bare key (what many clients send, e.g. a UUID): visible ASCII, no quote, backslash, comma or semicolon. */
const BARE_RE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,255}$/
const MAX_KEY = 255
const KEY_RULE =
  'header Idempotency-Key must be a structured-field string (RFC 8941 §3.3.3: "…" holding 1–255 printable ASCII ' +
  'characters, spaces included, with \\" and \\\\ escaped), e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"; ' +
  'an unquoted key of visible ASCII characters without spaces is taken too'

export interface IdempotentRequest {
  scope: string
  key: string
  hash: string
}

/**
 * The key of an Idempotency-Key header. The header's draft (draft-ietf-httpapi-idempotency-key-header §2) makes it
 * an Item Structured Header whose value is a String: a quoted sf-string, parsed as RFC 8941 §4.2.5 says (escapes
 * `\"` and `\\`; parameters after it are allowed and ignored). An unquoted key without spaces — a bare UUID, as
 * many clients send — is taken as it stands. Anything else is a 400 naming the header.
 */
export function parseIdempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined
  const value = (Array.isArray(raw) ? raw.join(',') : raw).trim()
  const key = value.startsWith('"') ? sfString(value) : BARE_RE.test(value) ? value : null
  if (key === null || key.length === 0 || key.length > MAX_KEY) {
    throw new HttpError(400, 'invalid_request', KEY_RULE, 'Idempotency-Key')
  }
  return key
}

/** RFC 8941 §4.2.5 over the whole header: the string, then nothing or parameters (`;name=value…`). Null if invalid. */
function sfString(value: string): string | null {
  let out = ''
  let i = 1
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c === 0x5c) {
      const next = value[++i]
      if (next !== '"' && next !== '\\') return null
      out += next
    } else if (c === 0x22) {
      break
    } else if (c < 0x20 || c > 0x7e) {
      return null
    } else out += value[i]
  }
  if (i >= value.length) return null // no closing quote
  const rest = value.slice(i + 1)
  return rest === '' || /^(;\s*[a-z*][a-z0-9_.*-]*(=[^;]*)?)+$/.test(rest) ? out : null
}

/** JSON with object keys sorted, so the same body always hashes the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(v) ?? 'null'
}

export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${canonical(body)}`).digest('hex')
}

export type Claim = { kind: 'new' } | { kind: 'replay'; statusCode: number; body: unknown }

/**
 * Claims the key before the work starts (its own short transaction, so a concurrent retry sees it at once).
 * Returns 'new' (go ahead, then `complete` inside the work's transaction) or the stored response to replay.
 */
export async function claimKey(db: Db, r: IdempotentRequest, now: Date): Promise<Claim> {
  const inserted = await db.query(
    `INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (scope, key) DO NOTHING RETURNING 1`,
    [r.scope, r.key, r.hash, now],
  )
  if (inserted.rows.length === 1) return { kind: 'new' }
  const { rows } = await db.query<{ hash: string; statusCode: number | null; response: unknown; createdAt: Date }>(
    `SELECT request_hash AS hash, status_code AS "statusCode", response, created_at AS "createdAt"
       FROM idempotency_keys WHERE scope = $1 AND key = $2`,
    [r.scope, r.key],
  )
  const held = rows[0]
  if (!held) return claimKey(db, r, now) // released between the two statements: try again
  if (held.hash !== r.hash) {
    throw new HttpError(422, 'idempotency_key_reused', 'this Idempotency-Key was already used for a different request', 'Idempotency-Key')
  }
  if (held.statusCode !== null) return { kind: 'replay', statusCode: held.statusCode, body: held.response }
  if (now.getTime() - new Date(held.createdAt).getTime() > ABANDONED_AFTER_MS) {
    const taken = await db.query(
      `UPDATE idempotency_keys SET created_at = $3 WHERE scope = $1 AND key = $2 AND status_code IS NULL AND created_at = $4 RETURNING 1`,
      [r.scope, r.key, now, held.createdAt],
    )
    if (taken.rows.length === 1) return { kind: 'new' }
  }
  throw new HttpError(409, 'idempotency_in_progress', 'a request with this Idempotency-Key is still being processed; retry later', 'Idempotency-Key')
}

/** Stores the response inside the work's own transaction: the change and its recorded result commit together. */
export async function completeKey(tx: Queryable, r: IdempotentRequest, statusCode: number, body: unknown): Promise<void> {
  await tx.query(`UPDATE idempotency_keys SET status_code = $3, response = $4::jsonb WHERE scope = $1 AND key = $2`, [
    r.scope,
    r.key,
    statusCode,
    JSON.stringify(body),
  ])
}

/** The work failed: forget the claim so the corrected request can use the key. */
export async function releaseKey(db: Db, r: IdempotentRequest): Promise<void> {
  await db.query('DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status_code IS NULL', [r.scope, r.key])
}

/**
 * Runs `work` under an Idempotency-Key, or plainly without one (`r` undefined). With a key: claimKey first (a stored
 * answer comes back as `replay`, a key in flight or reused is thrown as its 409/422); `work` gets `record`, which it
 * calls inside its own transaction with the answer it is about to give; if `work` throws, the claim is dropped.
 */
export async function withIdempotencyKey<T>(
  db: Db,
  r: IdempotentRequest | undefined,
  now: Date,
  work: (record: ((tx: Queryable, statusCode: number, body: unknown) => Promise<void>) | undefined) => Promise<T>,
): Promise<{ kind: 'replay'; statusCode: number; body: unknown } | { kind: 'done'; result: T }> {
  if (!r) return { kind: 'done', result: await work(undefined) }
  const claim = await claimKey(db, r, now)
  if (claim.kind === 'replay') return claim
  try {
    return { kind: 'done', result: await work((tx, statusCode, body) => completeKey(tx, r, statusCode, body)) }
  } catch (err) {
    await releaseKey(db, r)
    throw err
  }
}

export async function pruneKeys(db: Db, now: Date): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `WITH d AS (DELETE FROM idempotency_keys WHERE created_at < $1::timestamptz - make_interval(hours => $2) RETURNING 1)
     SELECT count(*)::int AS n FROM d`,
    [now, KEEP_HOURS],
  )
  return rows[0].n
}
