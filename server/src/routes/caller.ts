import type { FastifyRequest } from 'fastify'
import { actorOf, type AuthUser } from '../auth/roles.ts'
import { HttpError } from '../services/http-error.ts'

/**
 * Who is calling, as the case code records it (reporter, actor, assignee checks): the ONE place routes ask.
 *
 * - Signed in (`Authorization: Bearer …`, verified by the hook in auth/plugin.ts): the user's username, or the
 *   worker id of a grid worker (W000123 — the id cases are assigned to).
 * - `X-Actor: <name>`: the caller names itself. A stand-in, not security: honoured only while the server runs with
 *   AUTH_MODE=dev-header (today's default, for the suites and tools that still use it); with AUTH_MODE=token it is
 *   refused. Sent together with a token it must name the same caller.
 * Role and region checks are not made here: auth/guards.ts (requireUser, requireRole, scopeFilterSql).
 */
const ACTOR_RE = /^[\p{L}\p{N}_.:@-]{1,64}$/u

function headerActor(req: FastifyRequest): string | null {
  const raw = req.headers['x-actor']
  if (raw === undefined) return null
  const value = (Array.isArray(raw) ? raw[0] : raw).trim()
  if (!ACTOR_RE.test(value)) {
    throw new HttpError(400, 'invalid_request', 'header X-Actor must be 1–64 letters, digits or _.:@-', 'X-Actor')
  }
  return value
}

const devHeaderAllowed = (req: FastifyRequest) => (req.server.auth?.options.mode ?? 'dev-header') === 'dev-header'

export function callerOf(req: FastifyRequest): string | null {
  const named = req.headers['x-actor'] === undefined ? null : headerActor(req)
  if (req.user) {
    const who = actorOf(req.user)
    if (named !== null && named !== who) {
      throw new HttpError(400, 'actor_mismatch', `X-Actor (${named}) is not the signed-in caller (${who}); leave it out`, 'X-Actor')
    }
    return who
  }
  if (named === null) return null
  if (!devHeaderAllowed(req)) {
    throw new HttpError(401, 'unauthenticated', 'X-Actor is not accepted here: sign in and send Authorization: Bearer <access token>', 'X-Actor')
  }
  return named
}

export function requireActor(req: FastifyRequest): string {
  const who = callerOf(req)
  if (!who) {
    throw devHeaderAllowed(req)
      ? new HttpError(400, 'invalid_request', 'sign in (Authorization: Bearer …) or name yourself in X-Actor: who performs this action', 'X-Actor')
      : new HttpError(401, 'unauthenticated', 'sign in first: Authorization: Bearer <access token> (POST /api/auth/login)')
  }
  return who
}

/**
 * The signed-in caller whose reach limits what a case route shows and does (auth/case-access.ts), or null for the
 * unscoped dev-header stand-in: in AUTH_MODE=dev-header a request without a token (X-Actor or nobody) is answered as
 * before identity existed. In AUTH_MODE=token a request without a token is refused 401 `unauthenticated`.
 */
export function scopedCaller(req: FastifyRequest): AuthUser | null {
  if (req.user) return req.user
  if (devHeaderAllowed(req)) return null
  throw new HttpError(401, 'unauthenticated', 'sign in first: Authorization: Bearer <access token> (POST /api/auth/login)')
}
