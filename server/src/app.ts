import { existsSync } from 'node:fs'
import { join } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify'
import type { Db } from './db/types.ts'
import { startRelay, type Relay } from './realtime/relay.ts'
import { createSocketServer, type GcServer, type SubscribePolicy } from './realtime/socket-server.ts'
import caseRoutes from './routes/api/cases.ts'
import healthRoutes from './routes/api/health.ts'
import regionRoutes from './routes/api/regions.ts'
import regionImportRoutes from './routes/api/region-import.ts'
import resolveRoutes from './routes/api/resolve.ts'
import regionProfileRoutes from './routes/api/region-profile.ts'
import ogcFeatureRoutes from './routes/ogc/features.ts'
import tileRoutes from './routes/tiles/tiles.ts'
import { HttpError } from './services/http-error.ts'
import { validatorCompiler } from './validation.ts'

export type GcApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>

declare module 'fastify' {
  interface FastifyInstance {
    db: Db
    io: GcServer
    relay: Relay
  }
}

/** A 400 body naming the field and the reason, e.g. { field: 'lat', message: 'body.lat must be <= 90' }. */
function validationProblem(err: FastifyError): { error: string; message: string; field?: string } {
  const v = err.validation![0]
  const params = v.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] }
  const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.')
  const field = params.missingProperty ?? params.additionalProperty ?? path
  const where = `${err.validationContext ?? 'request'}${field ? `.${field}` : ''}`
  const reason = params.missingProperty
    ? 'is required'
    : params.additionalProperty
      ? 'is not allowed'
      : params.allowedValues
        ? `must be one of: ${params.allowedValues.join(', ')}`
        : v.message
  return { error: 'invalid_request', message: `${where} ${reason}`, ...(field ? { field } : {}) }
}

export interface AppOptions {
  db: Db
  /** Built web app to serve at / (index.html + assets); skipped when absent. */
  webDist?: string
  logger?: boolean | { level: string }
  relayPollMs?: number
  subscribePolicy?: SubscribePolicy
}

/**
 * Builds the whole server around an open database: REST under /api, Socket.IO, the event relay and the web app.
 * The caller owns the database (tests share one across apps); closing the app stops sockets and the relay only.
 */
export async function buildApp(opts: AppOptions): Promise<GcApp> {
  const app = Fastify({ logger: opts.logger ?? false, disableRequestLogging: true }).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)

  app.decorate('db', opts.db)
  app.decorate('io', createSocketServer(app.server, opts.subscribePolicy))

  // `?lon=` means "no lon": without this AJV would coerce the empty string to 0, a valid longitude.
  app.addHook('preValidation', async (req) => {
    const q = req.query as Record<string, unknown> | undefined
    if (q) for (const k of Object.keys(q)) if (q[k] === '') delete q[k]
  })

  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) })
    }
    if (err.validation) {
      return reply.code(400).send(validationProblem(err))
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
    if (status >= 500) req.log.error(err)
    return reply.code(status).send({ error: status >= 500 ? 'internal_error' : (err.code ?? 'bad_request').toLowerCase(), message: status >= 500 ? 'internal server error' : err.message })
  })

  await app.register(healthRoutes)
  await app.register(regionRoutes)
  await app.register(regionImportRoutes)
  await app.register(resolveRoutes)
  await app.register(regionProfileRoutes)
  await app.register(caseRoutes)
  await app.register(ogcFeatureRoutes)
  await app.register(tileRoutes)

  app.get('/api/*', async (_req, reply) => reply.code(404).send({ error: 'not_found', message: 'no such API route' }))

  if (opts.webDist && existsSync(join(opts.webDist, 'index.html'))) {
    await app.register(fastifyStatic, { root: opts.webDist, wildcard: false, maxAge: '1h' })
    // Client-side routes (/wall, /drill/…) get the app shell; index.html itself is never cached.
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api/')) {
        return reply.header('cache-control', 'no-cache').sendFile('index.html')
      }
      return reply.code(404).send({ error: 'not_found', message: `${req.method} ${req.url} is not a route` })
    })
  } else if (opts.webDist) {
    app.log.warn(`no web build at ${opts.webDist}: run \`npm run build\` (npm start does it for you)`)
  }

  app.addHook('onReady', async () => {
    app.decorate('relay', await startRelay(opts.db, app.io, { pollMs: opts.relayPollMs, onError: (err) => app.log.error(err) }))
  })
  app.addHook('preClose', async () => {
    // Closing Socket.IO also closes the HTTP server it is attached to; disconnect clients first so close is quick.
    app.io.disconnectSockets(true)
  })
  app.addHook('onClose', async () => {
    await app.relay?.stop()
    await new Promise<void>((resolve) => app.io.close(() => resolve()))
  })
  return app
}
