/**
 * Several server processes with Redis (REDIS_URL): two apps on one database, both on one Redis. Events still come
 * from each process's own relay of the log (exactly once per client: nothing goes through the adapter); Redis shares
 * the sign-in rate limit and carries cross-process traffic that needs no database.
 *
 * Runs when REDIS_URL is set or a Redis answers at 127.0.0.1:6379; skipped otherwise (GC_REQUIRE_REDIS=1: fails).
 */
import { randomBytes } from 'node:crypto'
import { createConnection } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { WireEvent } from '../../../shared/protocol/events.ts'
import { WALL_ROOM } from '../../../shared/protocol/rooms.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { connectClient, postJson, startServer, type TestClient } from '../../../test/support/server.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { RedisLink } from '../../src/realtime/redis.ts'
import { logSeqs, maxSeq, report, sleep } from './support.ts'

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379'

function answers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const c = createConnection({ host: hostname || '127.0.0.1', port: Number(port) || 6379 })
    const done = (ok: boolean) => {
      c.destroy()
      resolve(ok)
    }
    c.setTimeout(1000, () => done(false))
    c.once('connect', () => done(true))
    c.once('error', () => done(false))
  })
}

const available = await answers(REDIS_URL)
if (!available && process.env.GC_REQUIRE_REDIS === '1') throw new Error(`GC_REQUIRE_REDIS=1 but no Redis answers at ${REDIS_URL}`)

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000, every?: () => void): Promise<void> {
  const t0 = Date.now()
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    every?.()
    await sleep(50)
  }
}

/** socket.io-adapter's MessageType.BROADCAST. */
const BROADCAST = 3

describe.skipIf(!available).each(DB_MODES)('several processes with Redis (%s)', (mode) => {
  const prefix = `gctest:${randomBytes(6).toString('hex')}:`
  let redis: RedisLink
  let a: { app: AppInstance; url: string }
  let b: { app: AppInstance; url: string }
  const clients: TestClient[] = []

  beforeAll(async () => {
    const db = await testDb(mode)
    redis = { client: new Redis(REDIS_URL, { maxRetriesPerRequest: 3 }), prefix }
    const opts = { db, redis, realtime: { retention: false as const }, auth: { addressLimit: { max: 3, windowSeconds: 60 } } }
    a = await startServer(opts)
    b = await startServer(opts)
    // Both adapters read the stream: wait until each sees the other (heartbeats go through Redis).
    await until(async () => (await a.app.io.of('/').adapter.serverCount()) >= 2 && (await b.app.io.of('/').adapter.serverCount()) >= 2, 'the two adapters to see each other')
  })

  afterAll(async () => {
    for (const c of clients) c.disconnect()
    await a?.app.close()
    await b?.app.close()
    if (redis) {
      // Everything this run created in Redis lies under its prefix.
      let cursor = '0'
      do {
        const [next, keys] = await redis.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
        if (keys.length) await redis.client.del(...keys)
        cursor = next
      } while (cursor !== '0')
      expect(await redis.client.keys(`${prefix}*`)).toEqual([])
      await redis.client.quit()
    }
  })

  async function live(url: string): Promise<{ client: TestClient; seqs: number[] }> {
    const client = await connectClient(url)
    clients.push(client)
    const seqs: number[] = []
    client.on('events:frame', (frame: WireEvent[]) => {
      for (const e of frame) seqs.push(e.seq)
    })
    const res = await client.emitWithAck('events:resume', {})
    expect(res.ok).toBe(true)
    return { client, seqs }
  }

  it('clients on B get each case created through A exactly once (from B\'s own relay, not through Redis)', async () => {
    const db = await testDb(mode)
    // Two on each side, so the hubs send shared frames (io.local.to(ids)) as well as single ones.
    const onB = [await live(b.url), await live(b.url)]
    const onA = [await live(a.url), await live(a.url)]
    const from = await maxSeq(db)
    const published: Array<{ type: number }> = []
    for (const app of [a.app, b.app]) {
      const adapter = app.io.of('/').adapter as unknown as { doPublish(m: { type: number }): unknown }
      const original = adapter.doPublish.bind(adapter)
      vi.spyOn(adapter, 'doPublish').mockImplementation((m) => {
        published.push(m)
        return original(m)
      })
    }
    for (let i = 0; i < 6; i++) expect((await report(a.url, `redis relay ${i}`, i)).status).toBe(201)
    const last = await maxSeq(db)
    const expected = await logSeqs(db, from, last)
    expect(expected.length).toBeGreaterThanOrEqual(6)
    await until(() => [...onB, ...onA].every((c) => c.seqs.filter((s) => s > from).length >= expected.length), 'every client to get every event')
    await sleep(500) // a duplicate would come within a frame or two
    for (const c of [...onB, ...onA]) expect(c.seqs.filter((s) => s > from)).toEqual(expected)
    // No frame went out through the adapter: each process delivers to its own sockets only.
    expect(published.filter((m) => m.type === BROADCAST)).toEqual([])
    vi.restoreAllMocks()
  })

  it('the sign-in limit per address is shared: exhausted on A, 429 on B', async () => {
    const login = (url: string, i: number) => postJson(`${url}/api/auth/login`, { username: `nobody-${prefix}-${i}`, password: 'wrong password' })
    for (let i = 0; i < 3; i++) expect((await login(a.url, i)).status).toBe(401)
    const onB = await login(b.url, 3)
    expect(onB.status).toBe(429)
    expect(onB.body.error).toBe('too_many_requests')
    expect(await redis.client.keys(`${prefix}rl:*`)).not.toEqual([])
  })

  it('cross-process traffic without the database: serverSideEmit and room broadcasts reach B', async () => {
    const got: unknown[] = []
    b.app.io.on('gc:test' as never, ((msg: unknown) => got.push(msg)) as never)
    ;(a.app.io as unknown as { serverSideEmit(ev: string, msg: unknown): void }).serverSideEmit('gc:test', { hello: 'from A' })
    await until(() => got.length > 0, 'serverSideEmit to reach B')
    expect(got).toEqual([{ hello: 'from A' }])

    // A client on B in the wall room (events:resume with everything) hears a room broadcast made on A.
    const { client } = await live(b.url)
    const heard: unknown[] = []
    client.on('gc:ping' as never, ((msg: unknown) => heard.push(msg)) as never)
    ;(a.app.io.to(WALL_ROOM) as unknown as { emit(ev: string, msg: unknown): void }).emit('gc:ping', { n: 1 })
    await until(() => heard.length > 0, 'the room broadcast to reach a client on B')
    expect(heard).toEqual([{ n: 1 }])
    expect((await a.app.io.in(WALL_ROOM).fetchSockets()).map((s) => s.id)).toContain(client.id)
  })
})
