import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import { personalChannel, signedInPolicy, socketHandshake } from './auth/socket-auth.ts'
import fastifyStatic from '@fastify/static'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { LogController, type FastifyError } from 'fastify'
import type { AppInstance } from './app-types.ts'
import { registerAuth } from './auth/plugin.ts'
import type { AuthOptions } from './auth/service.ts'
import type { Db } from './db/types.ts'
import { startRealtime, type RealtimeOptions } from './realtime/index.ts'
import { attachRedisAdapter, rateLimitStore, type RedisLink } from './realtime/redis.ts'
import { createSocketServer, type SubscribePolicy } from './realtime/socket-server.ts'
import caseRoutes from './routes/api/cases.ts'
import categoryRoutes from './routes/api/categories.ts'
import healthRoutes from './routes/api/health.ts'
import photoRoutes from './routes/api/photos.ts'
import regionRoutes from './routes/api/regions.ts'
import regionImportRoutes from './routes/api/region-import.ts'
import resolveRoutes from './routes/api/resolve.ts'
import regionProfileRoutes from './routes/api/region-profile.ts'
import ogcFeatureRoutes from './routes/ogc/features.ts'
import tileRoutes from './routes/tiles/tiles.ts'
import { registerOpenApi } from './openapi.ts'
import { HttpError } from './services/http-error.ts'
import { describeValidation, validatorCompiler } from './validation.ts'

/** A 400 body naming the field and the reason, e.g. { field: 'lat', message: 'body.lat must be <= 90' }. */
function validationProblem(err: FastifyError): { error: string; message: string; field?: string } {
  const { field, message } = describeValidation(err)
  return { error: 'invalid_request', message, ...(field ? { field } : {}) }
}

export interface AppOptions {
  db: Db
  /** Fastify's trustProxy (config TRUST_PROXY): whose X-Forwarded-For sets req.ip. Default false. */
  trustProxy?: boolean | number | string
  /** Built web app to serve at / (index.html + assets); skipped when absent. */
  webDist?: string
  logger?: boolean | { level: string }
  relayPollMs?: number
  subscribePolicy?: SubscribePolicy
  /** Frames, replay limits, retention (server/README.md, "Real-time"); relayPollMs and subscribePolicy win over these. */
  realtime?: Omit<RealtimeOptions, 'policy' | 'personal' | 'onError' | 'onWarn'>
  /** Clock for due times, escalation and idempotency; defaults to the wall clock. */
  now?: () => Date
  /** Where uploaded photos are stored; main passes ${DATA_DIR}/uploads. Default: a folder in the OS temp dir. */
  uploadsDir?: string
  /** Sign-in and tokens (auth/service.ts): secret, AUTH_MODE, lifetimes, limits. Default: a per-process secret, dev-header mode. */
  auth?: AuthOptions
  /**
   * Redis shared by several server processes (main.ts: REDIS_URL): the Socket.IO Redis Streams adapter and the
   * sign-in rate-limit store. The caller owns the client. Unset: in-process adapter and store, as before.
   */
  redis?: RedisLink
  /**
   * The general API rate limit (issue #6, hardening): at most `max` requests per `windowSeconds` per caller — the
   * signed-in user (every device and tab of one account together), else the client address — over every route, in
   * this process's memory or in Redis (`redis`), answered 429 with Retry-After. Sign-in has tighter limits of its own
   * (routes/api/auth.ts) either way. main.ts turns it on (RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_S); default off here, so
   * test suites and benchmarks that drive hundreds of requests a second from one address are not cut short.
   */
  rateLimit?: { max: number; windowSeconds: number } | false
  /** How long close() waits for requests in flight before it cuts the connections still open (default 5000 ms). */
  closeGraceMs?: number
  /** The server seeded the demo users (SEED_DEMO_USERS): GET /api/auth/demo lists them for the sign-in page. Default false. */
  demoAccounts?: boolean
}

/**
 * Builds the whole server around an open database: REST under /api, Socket.IO, the event relay and the web app.
 * The caller owns the database (tests share one across apps); closing the app stops sockets and the relay only.
 */
/** A number of hops as the function proxy-addr takes (Fastify's types have no number form). */
function trustProxyOption(t: AppOptions['trustProxy']): boolean | string | ((addr: string, hop: number) => boolean) {
  if (typeof t === 'number') return (_addr, hop) => hop < t
  return t ?? false
}

export async function buildApp(opts: AppOptions): Promise<AppInstance> {
  const app = Fastify({
    logger: opts.logger ?? false,
    trustProxy: trustProxyOption(opts.trustProxy),
    logController: new LogController({ disableRequestLogging: true }),
    // Hardening (issue #6): 1 MiB bodies unless a route says more (resolve batches, boundary imports, photos), a
    // request must arrive whole within 30 s (slow-loris), and JSON with __proto__ or constructor.prototype keys is
    // refused outright rather than stripped.
    bodyLimit: 1024 * 1024,
    requestTimeout: 30_000,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)

  const routes: Array<{ method: string; url: string; bodySchema: boolean }> = []
  app.decorate('registeredRoutes', routes)
  app.addHook('onRoute', (r) => {
    // A plugin's '/' under a prefix (the docs page) is also served at '/prefix/', a twin onRoute never sees.
    const urls = r.routePath === '' && r.prefix && (r.prefixTrailingSlash ?? 'both') === 'both' ? [r.url, `${r.url}/`] : [r.url]
    const bodySchema = r.schema?.body !== undefined
    for (const method of [r.method].flat()) for (const url of urls) routes.push({ method, url, bodySchema })
  })
  app.decorate('db', opts.db)
  app.decorate('demoAccounts', opts.demoAccounts ?? false)
  app.decorate('now', opts.now ?? (() => new Date()))
  app.decorate('io', createSocketServer(app.server))
  app.decorate('redis', opts.redis)
  if (opts.redis) attachRedisAdapter(app.io, opts.redis)
  await registerAuth(app, opts.db, { now: app.now, ...opts.auth }) // req.user from Bearer tokens, before every route
  // Sockets sign in at the handshake (auth: { token }); anonymous ones are refused with AUTH_MODE=token.
  app.io.use(socketHandshake(app.auth))
  // Security headers on every answer, with a CSP the map can live with: MapLibre and deck.gl run workers from blob:
  // URLs and draw tiles and sprites from blob:/data: images; Vue and MapLibre set inline styles. Everything else is
  // this origin only (the page works offline: no CDN, fonts or tiles from elsewhere). WebSockets to this origin are
  // covered by 'self' (CSP Level 3).
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:', 'blob:'],
        'font-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'worker-src': ["'self'", 'blob:'],
        'child-src': ["'self'", 'blob:'],
        'object-src': ["'none'"],
        'base-uri': ["'self'"],
        'frame-ancestors': ["'self'"],
        'form-action': ["'self'"],
      },
    },
    // Not over HTTP on a LAN: HSTS would pin browsers to HTTPS the deployment may not have; set it at the TLS proxy.
    strictTransportSecurity: false,
    // Map tiles and photos are fetched by the page itself; nothing here is embedded cross-origin.
    crossOriginEmbedderPolicy: false,
  })

  // `?lon=` means "no lon": without this AJV would coerce the empty string to 0, a valid longitude.
  app.addHook('preValidation', async (req) => {
    const q = req.query as Record<string, unknown> | undefined
    if (q) for (const k of Object.keys(q)) if (q[k] === '') delete q[k]
  })

  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: err.code, message: err.message, ...(err.field ? { field: err.field } : {}), ...err.extra })
    }
    if (err.validation) {
      return reply.code(400).send(validationProblem(err))
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
    if (status >= 500) req.log.error(err)
    return reply.code(status).send({ error: status >= 500 ? 'internal_error' : (err.code ?? 'bad_request').toLowerCase(), message: status >= 500 ? 'internal server error' : err.message })
  })

  // One @fastify/rate-limit for the whole app (registering it twice would decorate twice): global when the general
  // limit is on, and per route (config.rateLimit) for sign-in in any case. Its onRequest hook is route-level, so it
  // runs after authentication's app-level hook and can key by the signed-in user.
  const general = opts.rateLimit || undefined
  await app.register(rateLimit, {
    global: general !== undefined,
    ...(general ? { max: general.max, timeWindow: general.windowSeconds * 1000 } : {}),
    keyGenerator: (req) => (req.user ? `user:${req.user.id}` : `addr:${req.ip}`),
    ...rateLimitStore(opts.redis),
    errorResponseBuilder: (req, ctx) =>
      new HttpError(429, 'too_many_requests', `too many requests from ${req.user ? 'this account' : 'this address'} (at most ${ctx.max} in the window): retry in ${ctx.after}`),
  })

  await registerOpenApi(app) // before the routes: it collects their schemas as they are registered
  await app.register(healthRoutes)
  await app.register(import('./routes/api/auth.ts'))
  await app.register(regionRoutes)
  await app.register(regionImportRoutes)
  await app.register(resolveRoutes)
  await app.register(regionProfileRoutes)
  await app.register(caseRoutes)
  await app.register(import('./routes/api/exports.ts'))
  await app.register(import('./routes/api/dispatch.ts'))
  await app.register(import('./routes/api/workers.ts'))
  await app.register(import('./routes/api/checkins.ts'))
  await app.register(import('./routes/api/cameras.ts'))
  await app.register(import('./routes/api/stats.ts'))
  await app.register(import('./routes/api/open311-keys.ts'))
  await app.register(categoryRoutes)
  await app.register(photoRoutes, { uploadsDir: opts.uploadsDir ?? join(tmpdir(), 'gridcommand-uploads') })
  await app.register(ogcFeatureRoutes)
  await app.register(tileRoutes)
  await app.register(import('./routes/open311/index.ts'))

  app.get('/api/*', async (_req, reply) => reply.code(404).send({ error: 'not_found', message: 'no such API route' }))

  if (opts.webDist && existsSync(join(opts.webDist, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: opts.webDist,
      wildcard: false,
      maxAge: '1h',
      // The pages, the field app's service worker and its manifest are asked again every time (they name the hashed
      // assets of the current build); everything else keeps an hour.
      setHeaders: (res, path) => {
        if (/(^|[\\/])(index\.html|sw\.js|manifest\.webmanifest)$/.test(path)) res.header('cache-control', 'no-cache')
      },
    })
    // Client-side routes get their app's shell: /m/… the field app's, everything else the command center's (/drill/…);
    // the shells themselves are never cached.
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api/')) {
        const field = req.url === '/m' || req.url.startsWith('/m/') || req.url.startsWith('/m?')
        return reply.header('cache-control', 'no-cache').sendFile(field ? 'm/index.html' : 'index.html')
      }
      return reply.code(404).send({ error: 'not_found', message: `${req.method} ${req.url} is not a route` })
    })
  } else if (opts.webDist) {
    app.log.warn(`no web build at ${opts.webDist}: run \`npm run build\` (npm start does it for you)`)
  }

  app.addHook('onReady', async () => {
    const rt = await startRealtime(opts.db, app.io, {
      ...opts.realtime,
      relay: { ...opts.realtime?.relay, ...(opts.relayPollMs !== undefined ? { pollMs: opts.relayPollMs } : {}) },
      policy: opts.subscribePolicy ?? signedInPolicy(opts.db, app.auth, { now: app.now }),
      personal: personalChannel(opts.db, { now: app.now }),
      onError: (err) => app.log.error(err),
      onWarn: (msg) => app.log.warn(msg),
    })
    app.decorate('realtime', rt)
    app.decorate('relay', rt.relay)
  })
  app.addHook('preClose', async () => {
    // Closing Socket.IO also closes the HTTP server it is attached to; disconnect clients first so close is quick.
    app.io.disconnectSockets(true)
    // A graceful stop lets requests in flight finish, but not for ever: whatever connection is still open after the
    // grace period (a slow client, a keep-alive socket caught mid-request) is cut, so shutdown is bounded.
    const cut = setTimeout(() => app.server.closeAllConnections(), opts.closeGraceMs ?? 5000)
    cut.unref()
    app.server.once('close', () => clearTimeout(cut))
  })
  app.addHook('onClose', async () => {
    await app.realtime?.stop()
    await new Promise<void>((resolve) => app.io.close(() => resolve()))
  })
  return app
}
