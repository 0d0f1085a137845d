/**
 * The app's type and the decorations buildApp (app.ts) puts on it. Routes, tests and scripts import the type from
 * here, never from app.ts, which imports the routes: the arrows run one way.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify'
import type { Db } from './db/types.ts'
import type { Realtime } from './realtime/index.ts'
import type { RedisLink } from './realtime/redis.ts'
import type { Relay } from './realtime/relay.ts'
import type { GcServer } from './realtime/socket-server.ts'

/** The Fastify instance buildApp returns: TypeBox schemas type the routes' requests and replies. */
export type AppInstance = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>

declare module 'fastify' {
  interface FastifyInstance {
    db: Db
    io: GcServer
    relay: Relay
    /** The relay, the frame hub and the retention job (realtime/index.ts). */
    realtime: Realtime
    /** The server's clock (tests pass a controllable one). */
    now: () => Date
    /** Redis (REDIS_URL) when set: Socket.IO adapter and rate-limit store, never event delivery (realtime/redis.ts). */
    redis: RedisLink | undefined
    /**
     * Every route as registered (method, url), in order: the access-matrix tests enumerate it, so that a route
     * added without a matrix entry fails them.
     */
    registeredRoutes: ReadonlyArray<{ method: string; url: string; bodySchema: boolean }>
    /** AppOptions.demoAccounts. */
    demoAccounts: boolean
  }
}
