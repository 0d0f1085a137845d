import type { Socket } from 'socket.io'
import type { Db } from '../db/types.ts'
import type { GcSocket, PersonalChannel, SubscribePolicy } from '../realtime/socket-server.ts'
import { inScope, seesEverything } from './guards.ts'
import { actorOf, type AuthUser } from './roles.ts'
import { loadSessionUser, type Auth } from './service.ts'
import { TokenError } from './tokens.ts'

/**
 * Sign-in for Socket.IO, wired by buildApp (app.ts): the handshake below on every socket, and
 * `signedInPolicy` as the subscribe policy unless the caller passes another:
 *
 * The client sends its access token in the handshake — `io(url, { auth: (cb) => cb({ token: currentAccessToken() }) })`,
 * a function so that every reconnect sends the current one. The handshake verifies it like a Bearer token
 * (signature, alg, typ, iss, aud, exp, session alive) and keeps the user on the socket; each `events:resume` (the
 * first, every reconnect, every scope change) then asks the policy, which re-reads the user's role, scope and
 * session from the database: a revoked session or a narrowed scope is refused from the next resume on.
 */

/** What the handshake leaves on `socket.data`. */
export interface SocketAuthData {
  user?: AuthUser
}

export interface HandshakeOptions {
  /** Refuse sockets without a token. Default: when the server runs with AUTH_MODE=token. */
  requireToken?: boolean
}

type Next = (err?: Error & { data?: unknown }) => void

function refused(error: 'unauthenticated' | 'invalid_token', message: string): Error & { data: { error: string; message: string } } {
  // The client gets `connect_error` with err.message === error and err.data === { error, message }.
  return Object.assign(new Error(error), { data: { error, message } })
}

/** Socket.IO middleware (io.use): verifies `socket.handshake.auth.token` and sets socket.data.user. */
export function socketHandshake(auth: Auth, opts: HandshakeOptions = {}): (socket: Socket, next: Next) => void {
  const requireToken = opts.requireToken ?? auth.options.mode === 'token'
  return (socket, next) => {
    const token = (socket.handshake.auth as Record<string, unknown> | undefined)?.token
    if (token === undefined || token === null || token === '') {
      return next(requireToken ? refused('unauthenticated', 'sign in first: connect with auth: { token: <access token> }') : undefined)
    }
    if (typeof token !== 'string') return next(refused('invalid_token', 'auth.token must be a string'))
    auth.authenticate(token).then(
      (user) => {
        ;(socket.data as SocketAuthData).user = user
        next()
      },
      (err) => {
        if (err instanceof TokenError) {
          next(refused('invalid_token', err.reason === 'expired' ? 'the access token has expired: refresh it and reconnect' : 'the access token is not valid: sign in again'))
        } else next(err instanceof Error ? err : new Error(String(err)))
      },
    )
  }
}

/**
 * The SubscribePolicy of role scoping: the wall (regionId null: everything) for admin and commander without a scope
 * region; a region for a user whose scope contains it (the region itself or any region under it). Residents, sockets
 * without a signed-in user, revoked sessions, disabled users and unknown regions get nothing.
 */
export function scopeSubscribePolicy(db: Db, opts: { now?: () => Date } = {}): SubscribePolicy {
  const now = opts.now ?? (() => new Date())
  return async (socket: GcSocket, regionId: string | null) => {
    const data = socket.data as SocketAuthData
    if (!data.user) return false
    const user = await loadSessionUser(db, data.user.id, data.user.sessionId, now())
    if (!user) {
      delete data.user
      return false
    }
    data.user = user
    if (regionId === null) return seesEverything(user)
    const { rows } = await db.query<{ path: string }>('SELECT path::text AS path FROM regions WHERE id = $1', [regionId])
    return rows.length > 0 && inScope(user, rows[0].path)
  }
}

/**
 * The default subscribe policy (buildApp): a socket that signed in is held to its scope (scopeSubscribePolicy); a
 * socket without a user is let through only while the server runs with AUTH_MODE=dev-header — as the REST routes
 * treat a caller without a token — and never with AUTH_MODE=token (where the handshake already refused it).
 */
export function signedInPolicy(db: Db, auth: Auth, opts: { now?: () => Date } = {}): SubscribePolicy {
  const scoped = scopeSubscribePolicy(db, opts)
  return (socket, regionId) => {
    if ((socket.data as SocketAuthData).user) return scoped(socket, regionId)
    return auth.options.mode === 'dev-header'
  }
}

/**
 * The personal channel (scope.mine) of a signed-in socket: its user's actor (worker id of a grid worker, else the
 * username), after re-reading the session like the policy does — a revoked session or a disabled user is refused.
 * Every role has one: what is assigned to, reported or followed by the user, and their own worker's events. A socket
 * without a user (dev-header) has none.
 */
export function personalChannel(db: Db, opts: { now?: () => Date } = {}): PersonalChannel {
  const now = opts.now ?? (() => new Date())
  return async (socket: GcSocket) => {
    const data = socket.data as SocketAuthData
    if (!data.user) return null
    const user = await loadSessionUser(db, data.user.id, data.user.sessionId, now())
    if (!user) {
      delete data.user
      return null
    }
    data.user = user
    return actorOf(user)
  }
}
