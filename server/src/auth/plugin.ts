import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Db } from '../db/types.ts'
import { createAuth, type Auth, type AuthOptions } from './service.ts'
import type { AuthUser } from './roles.ts'
import { TokenError } from './tokens.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Sign-in, tokens, sessions (auth/service.ts). */
    auth: Auth
  }
  interface FastifyRequest {
    /** The caller signed in with a valid Bearer token; null when no token was sent. */
    user: AuthUser | null
  }
  interface FastifyContextConfig {
    /** The auth routes: a stale or broken Bearer token is ignored there instead of answered with 401. */
    ignoreInvalidBearer?: boolean
  }
}

export const AUTH_REALM = 'gridcommand'
const BEARER_RE = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i

/** The Bearer token of the request: undefined when none was sent, null when the header is malformed. */
export function bearerOf(req: FastifyRequest): string | null | undefined {
  const h = req.headers.authorization
  if (h === undefined || !/^bearer\b/i.test(h)) return undefined // no header, or another scheme: not ours
  return BEARER_RE.exec(h)?.[1] ?? null
}

function refuse(reply: FastifyReply, error: 'invalid_token' | 'invalid_request', message: string) {
  return reply
    .code(401)
    .header('www-authenticate', `Bearer realm="${AUTH_REALM}", error="${error}"`)
    .send({ error: 'invalid_token', message })
}

/**
 * The authentication hook, on the root instance (call before the routes are registered):
 * - `app.auth` (the service) and `req.user`;
 * - every request with `Authorization: Bearer …` is verified (signature, alg, typ, iss, aud, exp) and its user and
 *   session re-read from the database; a bad token is answered 401 `invalid_token` before any route runs (RFC 6750),
 *   except on routes marked `config: { ignoreInvalidBearer: true }` (login, refresh, logout);
 * - any 401 gets `WWW-Authenticate: Bearer realm="gridcommand"`.
 * Whether a route needs a user is the route's business: requireUser / requireRole (auth/guards.ts), callerOf
 * (routes/caller.ts).
 */
export async function registerAuth(app: FastifyInstance, db: Db, opts: AuthOptions = {}): Promise<Auth> {
  const auth = createAuth(db, opts)
  app.decorate('auth', auth)
  app.decorateRequest('user', null)

  app.addHook('onRequest', async (req, reply) => {
    const token = bearerOf(req)
    if (token === undefined) return
    const ignore = req.routeOptions.config?.ignoreInvalidBearer === true
    if (token === null) return ignore ? undefined : refuse(reply, 'invalid_request', 'Authorization must be "Bearer <token>"')
    try {
      req.user = await auth.authenticate(token)
    } catch (err) {
      if (!(err instanceof TokenError)) throw err
      if (ignore) return
      req.log.info({ reason: err.message }, 'bearer token refused')
      return refuse(reply, 'invalid_token', err.reason === 'expired' ? 'the access token has expired: POST /api/auth/refresh' : 'the access token is not valid: sign in again')
    }
  })

  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.statusCode === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', `Bearer realm="${AUTH_REALM}"`)
    return payload
  })
  return auth
}
