import { createHash, randomBytes } from 'node:crypto'
import type { Db } from '../db/types.ts'

/**
 * Open311 api_keys (issue #6): a key is issued to an app and shown once; only its SHA-256 (hex) is stored
 * (migration 015). A key is checked by looking its hash up, so no constant-time comparison is needed.
 */

/** The demo key seeded with the demo users (README "Demo users"). DEMO ONLY: SEED_DEMO_USERS=0 in production. */
export const DEMO_OPEN311_KEY = 'o311-demo-key'
export const DEMO_OPEN311_APP = 'demo'

export const hashOpen311Key = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex')

/** A fresh key: `o311_` + 32 random bytes, base64url. */
export const newOpen311Key = (): string => `o311_${randomBytes(32).toString('base64url')}`

/** Issues a key to `appName`; returns the plain key (the only time it exists outside the caller). */
export async function issueOpen311Key(db: Db, appName: string, now: Date = new Date()): Promise<string> {
  const key = newOpen311Key()
  await db.query('INSERT INTO open311_api_keys (key_hash, app_name, created_at) VALUES ($1, $2, $3)', [hashOpen311Key(key), appName, now])
  return key
}

/** Revokes a key (by its plain value); true when a live key was revoked. */
export async function revokeOpen311Key(db: Db, key: string, now: Date = new Date()): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE open311_api_keys SET revoked_at = $2 WHERE key_hash = $1 AND revoked_at IS NULL', [hashOpen311Key(key), now])
  return (rowCount ?? 0) > 0
}

export type KeyCheck = { ok: true; appName: string; keyHash: string } | { ok: false; reason: 'unknown' | 'revoked' }

/** Checks a key; a live one has its last_used_at stamped. */
export async function checkOpen311Key(db: Db, key: string, now: Date = new Date()): Promise<KeyCheck> {
  const keyHash = hashOpen311Key(key)
  const { rows } = await db.query<{ app_name: string; revoked: boolean }>(
    'SELECT app_name, revoked_at IS NOT NULL AS revoked FROM open311_api_keys WHERE key_hash = $1',
    [keyHash],
  )
  if (!rows[0]) return { ok: false, reason: 'unknown' }
  if (rows[0].revoked) return { ok: false, reason: 'revoked' }
  await db.query('UPDATE open311_api_keys SET last_used_at = $2 WHERE key_hash = $1', [keyHash, now])
  return { ok: true, appName: rows[0].app_name, keyHash }
}

/** Seeds the demo key (idempotent: an existing row — revoked by hand, say — is left alone). */
export async function seedDemoOpen311Key(db: Db): Promise<boolean> {
  const { rowCount } = await db.query(`INSERT INTO open311_api_keys (key_hash, app_name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
    hashOpen311Key(DEMO_OPEN311_KEY),
    DEMO_OPEN311_APP,
  ])
  return (rowCount ?? 0) > 0
}
