import { randomBytes, randomUUID } from 'node:crypto'
import type { TokenPair, UserProfile } from '../../../shared/schemas/auth.ts'
import type { Db, Queryable } from '../db/types.ts'
import { burnDummy, verifyPassword } from './passwords.ts'
import type { AuthUser, Role } from './roles.ts'
import { newRefreshToken, refreshTokenHash, signAccessToken, TokenError, verifyAccessToken } from './tokens.ts'

/**
 * Sign-in, refresh, logout and token checks over the users / auth_sessions / refresh_tokens / auth_events tables
 * (migration 013). Transport-free: the routes (routes/api/auth.ts), the request hook (auth/plugin.ts) and the socket
 * handshake (auth/socket-auth.ts) all go through one `Auth`.
 */

/** `X-Actor` is honoured only in `dev-header` (tests, local tools); `token` accepts nothing but a Bearer token. */
export type AuthMode = 'token' | 'dev-header'

export interface AuthOptions {
  /** HS256 key (see tokens.ts loadJwtSecret). Default: 32 random bytes for this process only (tests). */
  secret?: Uint8Array
  /** Default `dev-header` for buildApp on its own (the test suites); the server process takes AUTH_MODE (config.ts), default `token`. */
  mode?: AuthMode
  /** Access token lifetime. Default 900 s (15 min). */
  accessTtlSeconds?: number
  /** Refresh token lifetime from its issue (each refresh issues a new one). Default 7 days. */
  refreshTtlSeconds?: number
  /** A session's absolute end, however often refreshed. Default 30 days. */
  sessionMaxSeconds?: number
  /** Failed sign-ins per account (username as typed, existing or not) within the window. Default 10 per 15 min. */
  accountLimit?: { max: number; windowSeconds: number }
  /** Sign-in requests per client address (@fastify/rate-limit: in process memory, in Redis with REDIS_URL). Default 20 per minute. */
  addressLimit?: { max: number; windowSeconds: number }
  /** Clock (tests pass a controllable one; the app passes app.now). */
  now?: () => Date
}

export type ResolvedAuthOptions = Required<Omit<AuthOptions, 'secret' | 'now'>> & { secret: Uint8Array; now: () => Date }

export const AUTH_DEFAULTS = {
  mode: 'dev-header' as AuthMode,
  accessTtlSeconds: 15 * 60,
  refreshTtlSeconds: 7 * 24 * 3600,
  sessionMaxSeconds: 30 * 24 * 3600,
  accountLimit: { max: 10, windowSeconds: 15 * 60 },
  addressLimit: { max: 20, windowSeconds: 60 },
}

export type { TokenPair, UserProfile }

export interface RequestMeta {
  address: string | null
  userAgent: string | null
}

export type LoginResult =
  | { ok: true; tokens: TokenPair }
  | { ok: false; reason: 'bad_credentials' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number }

/**
 * How long after a refresh its token may be presented again as a retry of a lost answer (never once the new token
 * has been used). Long enough for a phone that lost the link mid-answer to come back; short enough that a copy
 * found later is still caught as a reuse.
 */
export const REFRESH_RETRY_GRACE_MS = 60_000

export type RefreshResult = { ok: true; tokens: TokenPair } | { ok: false; reason: 'invalid' | 'expired' | 'revoked' | 'reused' }

export interface Auth {
  readonly options: ResolvedAuthOptions
  readonly db: Db
  login(username: string, password: string, meta: RequestMeta): Promise<LoginResult>
  refresh(refreshToken: string, meta: RequestMeta): Promise<RefreshResult>
  /** Revokes the session of `refreshToken` (or `sessionId`); `all`: every session of its user. True when one matched. */
  logout(by: { refreshToken?: string; sessionId?: string; all?: boolean }, meta: RequestMeta): Promise<boolean>
  /** A Bearer token → the user, re-read from the database (role, scope, disabled, session revoked). Throws TokenError. */
  authenticate(accessToken: string): Promise<AuthUser>
  /** The user of a live session, re-read (null when the session is revoked or expired, or the user disabled). */
  loadUser(userId: string, sessionId: string): Promise<AuthUser | null>
  profile(userId: string): Promise<UserProfile | null>
}

const USER_COLUMNS = `
  u.id, u.username, u.role, u.worker_id, u.display_name,
  coalesce(w.region_id, u.scope_region_id) AS scope_region_id, r.path::text AS scope_path, r.name AS scope_name, r.level AS scope_level`
const USER_JOINS = `
  LEFT JOIN workers w ON w.id = u.worker_id
  LEFT JOIN regions r ON r.id = coalesce(w.region_id, u.scope_region_id)`

interface UserRow {
  id: string
  username: string
  role: Role
  worker_id: string | null
  display_name: string | null
  scope_region_id: string | null
  scope_path: string | null
  scope_name: string | null
  scope_level: number | null
}

const toProfile = (r: UserRow): UserProfile => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  role: r.role,
  scopeRegionId: r.scope_region_id,
  scopePath: r.scope_path,
  scopeName: r.scope_name,
  scopeLevel: r.scope_level,
  workerId: r.worker_id,
})

const clip = (s: string | null, n: number) => (s === null ? null : s.slice(0, n))

/**
 * The user of a live session, as of now: role and scope re-read (a grid worker's scope is their worker's current
 * grid); null when the session is revoked or past its end, or the user is disabled. One indexed query.
 */
export async function loadSessionUser(q: Queryable, userId: string, sessionId: string, now: Date): Promise<AuthUser | null> {
  const { rows } = await q.query<UserRow>(
    `SELECT ${USER_COLUMNS}
       FROM users u JOIN auth_sessions s ON s.id = $2 AND s.user_id = u.id ${USER_JOINS}
      WHERE u.id = $1 AND u.disabled_at IS NULL AND s.revoked_at IS NULL AND s.expires_at > $3`,
    [userId, sessionId, now],
  )
  const r = rows[0]
  if (!r) return null
  return { id: r.id, username: r.username, role: r.role, scopeRegionId: r.scope_region_id, scopePath: r.scope_path, workerId: r.worker_id, sessionId }
}

export function resolveAuthOptions(opts: AuthOptions = {}): ResolvedAuthOptions {
  return {
    ...AUTH_DEFAULTS,
    ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    secret: opts.secret ?? randomBytes(32),
    now: opts.now ?? (() => new Date()),
  } as ResolvedAuthOptions
}

export function createAuth(db: Db, opts: AuthOptions = {}): Auth {
  const o = resolveAuthOptions(opts)
  const now = o.now

  async function audit(
    q: Queryable,
    e: { at: Date; kind: 'login' | 'refresh' | 'logout'; outcome: string; account?: string | null; userId?: string | null; sessionId?: string | null },
    meta: RequestMeta,
  ) {
    await q.query(
      `INSERT INTO auth_events (at, kind, outcome, account, user_id, session_id, address, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [e.at, e.kind, e.outcome, clip(e.account ?? null, 64), e.userId ?? null, e.sessionId ?? null, clip(meta.address, 64), clip(meta.userAgent, 256)],
    )
  }

  /** Seconds until this account may try again (0: now). Failures count since the window start or the last success. */
  async function lockedFor(account: string, at: Date): Promise<number> {
    const { max, windowSeconds } = o.accountLimit
    const since = new Date(at.getTime() - windowSeconds * 1000)
    const { rows } = await db.query<{ at: Date }>(
      `SELECT e.at FROM auth_events e
        WHERE e.kind = 'login' AND e.account = $1 AND e.outcome = 'bad_credentials' AND e.at > $2 AND e.at <= $4
          AND e.at > coalesce((SELECT max(s.at) FROM auth_events s WHERE s.kind = 'login' AND s.account = $1 AND s.outcome = 'ok' AND s.at > $2 AND s.at <= $4), '-infinity')
        ORDER BY e.at DESC LIMIT $3`,
      [account, since, max, at],
    )
    if (rows.length < max) return 0
    // The max-th latest failure leaves the window at: then fewer than max remain.
    const freeAt = new Date(rows[max - 1].at).getTime() + windowSeconds * 1000
    return Math.max(1, Math.ceil((freeAt - at.getTime()) / 1000))
  }

  async function issue(tx: Queryable, user: UserRow, sessionId: string, sessionEnds: Date, at: Date): Promise<TokenPair> {
    const refreshToken = newRefreshToken()
    const refreshEnds = new Date(Math.min(at.getTime() + o.refreshTtlSeconds * 1000, sessionEnds.getTime()))
    await tx.query(`INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)`, [
      refreshTokenHash(refreshToken),
      sessionId,
      at,
      refreshEnds,
    ])
    const accessToken = await signAccessToken(
      { sub: user.id, sid: sessionId, name: user.username, role: user.role, scope: user.scope_region_id, wid: user.worker_id },
      o.secret,
      at,
      o.accessTtlSeconds,
    )
    return { tokenType: 'Bearer', accessToken, expiresIn: o.accessTtlSeconds, refreshToken, refreshExpiresAt: refreshEnds.toISOString(), user: toProfile(user) }
  }

  const loadUser = (userId: string, sessionId: string) => loadSessionUser(db, userId, sessionId, now())

  return {
    options: o,
    db,
    loadUser,

    async login(username, password, meta) {
      const at = now()
      const account = username.trim().toLowerCase()
      const wait = await lockedFor(account, at)
      if (wait > 0) {
        await audit(db, { at, kind: 'login', outcome: 'throttled', account }, meta)
        return { ok: false, reason: 'throttled', retryAfterSeconds: wait }
      }
      const { rows } = await db.query<UserRow & { password_hash: string; disabled_at: Date | null }>(
        `SELECT ${USER_COLUMNS}, u.password_hash, u.disabled_at FROM users u ${USER_JOINS} WHERE lower(u.username) = $1`,
        [account],
      )
      const user = rows[0]
      const good = user ? await verifyPassword(password, user.password_hash) : (await burnDummy(password), false)
      if (!good || !user) {
        await audit(db, { at, kind: 'login', outcome: 'bad_credentials', account, userId: user?.id }, meta)
        return { ok: false, reason: 'bad_credentials' }
      }
      if (user.disabled_at) {
        await audit(db, { at, kind: 'login', outcome: 'revoked', account, userId: user.id }, meta)
        return { ok: false, reason: 'bad_credentials' }
      }
      const tokens = await db.transaction(async (tx) => {
        const sessionId = randomUUID()
        const ends = new Date(at.getTime() + o.sessionMaxSeconds * 1000)
        await tx.query(`INSERT INTO auth_sessions (id, user_id, created_at, expires_at, address, user_agent) VALUES ($1, $2, $3, $4, $5, $6)`, [
          sessionId,
          user.id,
          at,
          ends,
          clip(meta.address, 64),
          clip(meta.userAgent, 256),
        ])
        await audit(tx, { at, kind: 'login', outcome: 'ok', account, userId: user.id, sessionId }, meta)
        return issue(tx, user, sessionId, ends, at)
      })
      return { ok: true, tokens }
    },

    async refresh(refreshToken, meta) {
      const at = now()
      const hash = refreshTokenHash(refreshToken)
      return db.transaction(async (tx): Promise<RefreshResult> => {
        const { rows } = await tx.query<{
          session_id: string
          user_id: string
          expires_at: Date
          used_at: Date | null
          revoked_at: Date | null
          session_ends: Date
          disabled_at: Date | null
        }>(
          `SELECT t.session_id, s.user_id, t.expires_at, t.used_at, s.revoked_at, s.expires_at AS session_ends, u.disabled_at
             FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
            WHERE t.token_hash = $1
            FOR UPDATE OF t, s`,
          [hash],
        )
        const t = rows[0]
        const fail = async (reason: 'invalid' | 'expired' | 'revoked' | 'reused'): Promise<RefreshResult> => {
          await audit(tx, { at, kind: 'refresh', outcome: reason, userId: t?.user_id, sessionId: t?.session_id }, meta)
          return { ok: false, reason }
        }
        if (!t) return fail('invalid')
        if (t.revoked_at || t.disabled_at) return fail('revoked')
        let retried = false
        if (t.used_at) {
          // The answer to that refresh may have been lost (the app closed or the link dropped while it travelled):
          // within the grace period, and while the token it was exchanged for has never been used, this is the same
          // client asking again — the unused successor is dropped and a new pair issued.
          const { rows: next } = await tx.query<{ token_hash: string; used_at: Date | null }>(
            `SELECT token_hash, used_at FROM refresh_tokens WHERE session_id = $1 AND issued_at = $2 FOR UPDATE`,
            [t.session_id, t.used_at],
          )
          const lost = at.getTime() - new Date(t.used_at).getTime() <= REFRESH_RETRY_GRACE_MS && next.length === 1 && next[0].used_at === null
          if (!lost) {
            // A used token again: it was copied. Whoever holds the newest one (the thief or the owner) loses it too.
            await tx.query(`UPDATE auth_sessions SET revoked_at = $2, revoked_reason = 'refresh_reuse' WHERE id = $1`, [t.session_id, at])
            return fail('reused')
          }
          await tx.query(`DELETE FROM refresh_tokens WHERE token_hash = $1`, [next[0].token_hash])
          retried = true
        }
        if (new Date(t.expires_at) <= at || new Date(t.session_ends) <= at) return fail('expired')
        const { rows: users } = await tx.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users u ${USER_JOINS} WHERE u.id = $1`, [t.user_id])
        await tx.query(`UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1`, [hash, at])
        await tx.query(`UPDATE auth_sessions SET refreshed_at = $2 WHERE id = $1`, [t.session_id, at])
        await audit(tx, { at, kind: 'refresh', outcome: retried ? 'retried' : 'ok', userId: t.user_id, sessionId: t.session_id }, meta)
        return { ok: true, tokens: await issue(tx, users[0], t.session_id, new Date(t.session_ends), at) }
      })
    },

    async logout(by, meta) {
      const at = now()
      return db.transaction(async (tx) => {
        let sessionId = by.sessionId ?? null
        if (by.refreshToken) {
          const { rows } = await tx.query<{ session_id: string }>(`SELECT session_id FROM refresh_tokens WHERE token_hash = $1`, [refreshTokenHash(by.refreshToken)])
          sessionId = rows[0]?.session_id ?? null
        }
        if (!sessionId) {
          await audit(tx, { at, kind: 'logout', outcome: 'invalid' }, meta)
          return false
        }
        const { rows } = await tx.query<{ user_id: string }>(`SELECT user_id FROM auth_sessions WHERE id = $1`, [sessionId])
        const userId = rows[0]?.user_id
        if (!userId) return false
        if (by.all) {
          await tx.query(`UPDATE auth_sessions SET revoked_at = $2, revoked_reason = 'logout_all' WHERE user_id = $1 AND revoked_at IS NULL`, [userId, at])
        } else {
          await tx.query(`UPDATE auth_sessions SET revoked_at = $2, revoked_reason = 'logout' WHERE id = $1 AND revoked_at IS NULL`, [sessionId, at])
        }
        await audit(tx, { at, kind: 'logout', outcome: 'ok', userId, sessionId }, meta)
        return true
      })
    },

    async authenticate(accessToken) {
      const claims = await verifyAccessToken(accessToken, o.secret, now(), o.accessTtlSeconds)
      const user = await loadUser(claims.sub, claims.sid)
      if (!user) throw new TokenError('invalid', 'session revoked or expired, or user disabled')
      return user
    },

    async profile(userId) {
      const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users u ${USER_JOINS} WHERE u.id = $1`, [userId])
      return rows[0] ? toProfile(rows[0]) : null
    },
  }
}
