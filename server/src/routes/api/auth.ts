import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import type { AppInstance } from '../../app-types.ts'
import { requireUser } from '../../auth/guards.ts'
import { DemoAccountsSchema, LoginBodySchema, LogoutBodySchema, RefreshBodySchema, TokenPairSchema, UserProfileSchema } from '../../../../shared/schemas/auth.ts'
import type { RequestMeta } from '../../auth/service.ts'
import { HttpError } from '../../services/http-error.ts'
import { DEMO_PASSWORD, DEMO_USERS } from '../../db/seed-users.ts'

/**
 * Sign-in (server/src/auth/README.md):
 *   POST /api/auth/login    { username, password } → 200 tokens | 401 bad_credentials | 429 too_many_attempts
 *   POST /api/auth/refresh  { refreshToken }       → 200 new tokens (the old refresh token is used up) | 401
 *   POST /api/auth/logout   { refreshToken?, all? } → 204 (the session — or every session — is revoked)
 *   GET  /api/auth/me       Bearer                 → 200 the user | 401
 */
const meta = (req: FastifyRequest): RequestMeta => ({
  address: req.ip ?? null,
  userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
})

const BAD_CREDENTIALS = 'unknown username or wrong password'

export default async function authRoutes(app: AppInstance) {
  const { addressLimit } = app.auth.options
  // Per client address (never per account: sign-in is anonymous), with the app's one @fastify/rate-limit
  // (app.ts): in this process's memory, or in Redis (REDIS_URL) and then shared by every process.
  const perAddress = (factor: number) => ({ max: addressLimit.max * factor, timeWindow: addressLimit.windowSeconds * 1000, keyGenerator: (req: FastifyRequest) => `signin:${req.ip}` })

  app.post(
    '/api/auth/login',
    {
      config: { ignoreInvalidBearer: true, rateLimit: perAddress(1) },
      schema: { body: LoginBodySchema, response: { 200: TokenPairSchema, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema } },
    },
    async (req, reply) => {
      const r = await app.auth.login(req.body.username, req.body.password, meta(req))
      reply.header('cache-control', 'no-store')
      if (r.ok) return r.tokens
      if (r.reason === 'throttled') {
        return reply
          .code(429)
          .header('retry-after', String(r.retryAfterSeconds))
          .send({ error: 'too_many_attempts', message: `too many failed sign-ins for this account: retry in ${r.retryAfterSeconds} s` })
      }
      return reply.code(401).send({ error: 'bad_credentials', message: BAD_CREDENTIALS })
    },
  )

  app.post(
    '/api/auth/refresh',
    {
      config: { ignoreInvalidBearer: true, rateLimit: perAddress(3) },
      schema: { body: RefreshBodySchema, response: { 200: TokenPairSchema, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema } },
    },
    async (req, reply) => {
      const r = await app.auth.refresh(req.body.refreshToken, meta(req))
      reply.header('cache-control', 'no-store')
      if (r.ok) return r.tokens
      const message = {
        invalid: 'unknown refresh token: sign in again',
        expired: 'the refresh token has expired: sign in again',
        revoked: 'the session was ended: sign in again',
        reused: 'this refresh token was already used, so the session was ended (a copy may be in other hands): sign in again',
      }[r.reason]
      return reply.code(401).send({ error: r.reason === 'reused' ? 'refresh_token_reused' : 'invalid_refresh_token', message })
    },
  )

  app.post(
    '/api/auth/logout',
    {
      config: { ignoreInvalidBearer: true, rateLimit: perAddress(3) },
      schema: { body: LogoutBodySchema, response: { 204: Type.Null({ description: 'the session is ended' }), 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema } },
    },
    async (req, reply) => {
      const { refreshToken, all } = req.body
      if (!refreshToken) {
        const user = requireUser(req)
        await app.auth.logout({ sessionId: user.sessionId, all }, meta(req))
      } else {
        await app.auth.logout({ refreshToken, all }, meta(req)) // an unknown token: nothing to end, same answer
      }
      return reply.code(204).send(null)
    },
  )

  // The demo accounts for the sign-in page's list (the page shows the ones this names): only when the server seeded
  // them (SEED_DEMO_USERS, main.ts → AppOptions.demoAccounts); a production server answers 404.
  app.get(
    '/api/auth/demo',
    { schema: { response: { 200: DemoAccountsSchema, 404: ErrorSchema } } },
    async (_req, reply) => {
      if (!app.demoAccounts) throw new HttpError(404, 'not_found', 'this server has no demo accounts (SEED_DEMO_USERS=0)')
      const { rows } = await app.db.query<{ username: string }>(
        `SELECT username FROM users WHERE username = ANY($1::text[]) AND disabled_at IS NULL ORDER BY username`,
        [DEMO_USERS.map((u) => u.username)],
      )
      reply.header('cache-control', 'no-cache')
      return { password: DEMO_PASSWORD, usernames: rows.map((r) => r.username) }
    },
  )

  app.get('/api/auth/me', { schema: { response: { 200: UserProfileSchema, 401: ErrorSchema } } }, async (req, reply) => {
    const user = requireUser(req)
    const profile = await app.auth.profile(user.id)
    if (!profile) throw new HttpError(401, 'unauthenticated', 'no such user')
    reply.header('cache-control', 'no-store')
    return profile
  })
}
