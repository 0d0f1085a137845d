import { createAdapter } from '@socket.io/redis-streams-adapter'
import { Redis } from 'ioredis'
import type { GcServer } from './socket-server.ts'

/**
 * Optional Redis (REDIS_URL) for several server processes. NOT the delivery path: every process relays the shared
 * PostgreSQL event log to its own sockets (relay.ts, hub.ts), and the hub emits locally only (io.local), so no event
 * crosses Redis and none arrives twice. Redis carries only what must cross processes without the database:
 *   - Socket.IO's Redis Streams adapter: io.serverSideEmit, room broadcasts, fetchSockets across processes;
 *   - the @fastify/rate-limit store: the per-address sign-in limit is shared, not per process.
 * One ioredis client serves both (@fastify/rate-limit needs ioredis; the adapter accepts it and duplicates it for
 * its blocking reads).
 */
export interface RedisLink {
  client: Redis
  /** Put before every key and channel this app creates in Redis (default `gc:`); one prefix per deployment. */
  prefix: string
}

export const DEFAULT_REDIS_PREFIX = 'gc:'

export function connectRedis(url: string, prefix = DEFAULT_REDIS_PREFIX): RedisLink {
  // maxRetriesPerRequest: a command fails after a few reconnect attempts instead of queueing forever.
  const client = new Redis(url, { maxRetriesPerRequest: 3 })
  client.on('error', (err) => console.error('[redis]', err.message))
  return { client, prefix }
}

export function attachRedisAdapter(io: GcServer, redis: RedisLink): void {
  io.adapter(
    createAdapter(redis.client, {
      streamName: `${redis.prefix}socket.io`,
      channelPrefix: `${redis.prefix}socket.io`,
      sessionKeyPrefix: `${redis.prefix}sio:session:`,
    }),
  )
}

/** The rate-limit store options for @fastify/rate-limit (empty without Redis: in-memory, per process). */
export function rateLimitStore(redis: RedisLink | undefined): { redis?: Redis; nameSpace?: string } {
  return redis ? { redis: redis.client, nameSpace: `${redis.prefix}rl:` } : {}
}
