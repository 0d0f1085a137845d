import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SignJWT, jwtVerify, errors } from 'jose'
import { ROLES, type Role } from './roles.ts'

/**
 * Access tokens: JWT (RFC 7519) signed with HS256 — the only algorithm accepted — with issuer, audience and the
 * RFC 9068 type `at+jwt` checked on every request. Refresh tokens are not JWTs: 32 random bytes, only their SHA-256
 * is stored (refresh_tokens), so they can be revoked and their reuse detected.
 */
export const JWT_ALG = 'HS256'
export const JWT_ISSUER = 'gridcommand'
export const JWT_AUDIENCE = 'gridcommand-api'
export const JWT_TYP = 'at+jwt'
/** Shortest secret accepted (bytes): HS256 wants at least the hash's 256 bits. */
export const MIN_SECRET_BYTES = 32
export const SECRET_FILE = 'jwt-secret'

/** The claims of an access token. `sub` is the user id, `sid` the session (sign-in) it belongs to. */
export interface AccessClaims {
  sub: string
  sid: string
  /** Username. */
  name: string
  role: Role
  /** Scope region id at sign-in (null: everything for admin/commander, none for residents). Informative: the server re-reads it. */
  scope: string | null
  /** Worker id of a grid worker. */
  wid: string | null
}

export function secretFromText(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text)
  if (bytes.length < MIN_SECRET_BYTES) throw new Error(`JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes long`)
  return bytes
}

/**
 * The signing secret: `JWT_SECRET` when configured (several server processes on different machines must share it),
 * otherwise ${dataDir}/jwt-secret, generated on first start (32 random bytes, base64url, file mode 0600). Two
 * processes starting at once agree: the file appears whole or not at all (written aside, then hard-linked).
 */
export function loadJwtSecret(opts: { secret?: string; dataDir: string }): Uint8Array {
  if (opts.secret) return secretFromText(opts.secret)
  const file = join(opts.dataDir, SECRET_FILE)
  try {
    return readSecretFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(opts.dataDir, { recursive: true })
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  writeFileSync(tmp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
  try {
    linkSync(tmp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    unlinkSync(tmp)
  }
  return readSecretFile(file)
}

function readSecretFile(file: string): Uint8Array {
  const text = readFileSync(file, 'utf8').trim()
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600) // readable by others: tighten it
  try {
    return secretFromText(text)
  } catch {
    throw new Error(`${file} holds a secret shorter than ${MIN_SECRET_BYTES} bytes: delete it to generate a new one`)
  }
}

export async function signAccessToken(claims: AccessClaims, secret: Uint8Array, now: Date, ttlSeconds: number): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000)
  return new SignJWT({ sid: claims.sid, name: claims.name, role: claims.role, scope: claims.scope, wid: claims.wid })
    .setProtectedHeader({ alg: JWT_ALG, typ: JWT_TYP })
    .setSubject(claims.sub)
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .setJti(randomBytes(12).toString('base64url'))
    .sign(secret)
}

/** Why a token was refused (logged, never sent: the client only learns `invalid_token`). */
export class TokenError extends Error {
  constructor(
    readonly reason: 'expired' | 'invalid',
    message: string,
  ) {
    super(message)
    this.name = 'TokenError'
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Verifies signature (HS256 only), typ, iss, aud, exp/nbf against `now`, iat not in the future nor older than
 * `maxAgeSeconds` (the access token lifetime), and the shape of our claims.
 */
export async function verifyAccessToken(token: string, secret: Uint8Array, now: Date, maxAgeSeconds = 3600): Promise<AccessClaims> {
  let payload: Record<string, unknown>
  try {
    ;({ payload } = await jwtVerify(token, secret, {
      algorithms: [JWT_ALG],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      typ: JWT_TYP,
      currentDate: now,
      clockTolerance: 5,
      maxTokenAge: maxAgeSeconds,
      requiredClaims: ['sub', 'sid', 'exp', 'iat', 'role'],
    }))
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new TokenError('expired', 'token expired')
    throw new TokenError('invalid', err instanceof Error ? err.message : String(err))
  }
  const { sub, sid, name, role, scope, wid } = payload
  if (typeof sub !== 'string' || !UUID_RE.test(sub) || typeof sid !== 'string' || !UUID_RE.test(sid)) {
    throw new TokenError('invalid', 'sub and sid must be uuids')
  }
  if (typeof name !== 'string' || !(ROLES as readonly unknown[]).includes(role)) throw new TokenError('invalid', 'bad name or role claim')
  if (!(scope === null || typeof scope === 'string') || !(wid === null || typeof wid === 'string')) throw new TokenError('invalid', 'bad scope or wid claim')
  return { sub, sid, name, role: role as Role, scope, wid }
}

/** A new refresh token: `rt_` + 32 random bytes (base64url). */
export function newRefreshToken(): string {
  return `rt_${randomBytes(32).toString('base64url')}`
}

/** What refresh_tokens stores: hex SHA-256 (the token is random, so a fast hash is enough). */
export function refreshTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
