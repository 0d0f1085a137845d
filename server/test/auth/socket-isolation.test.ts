import { io as connect, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { ClientToServerEvents, FrameEvent, Scope, ServerToClientEvents } from '../../../shared/protocol/events.ts'
import { expandEvent } from '../../../shared/protocol/wire.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db, DbMode } from '../../src/db/types.ts'
import { reportCase } from '../../src/services/cases.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { startServer } from '../../../test/support/server.ts'
import { signIn, TEST_SECRET } from './support.ts'

type Client = Socket<ServerToClientEvents, ClientToServerEvents>

/**
 * Socket isolation with the server as buildApp wires it by default (handshake + signedInPolicy, AUTH_MODE dev-header):
 * a street leader's socket gets its own street's events and not one of a thousand next door, and a forged
 * subscription to the next street is refused and gets nothing. With AUTH_MODE=token an anonymous socket is refused.
 */
describe.each(DB_MODES)('socket isolation, default wiring (%s)', (mode: DbMode) => {
  let db: Db
  let app: AppInstance
  let url: string
  const open: Client[] = []
  const OTHER = 1000
  // Other suites write to the same database meanwhile: only this test's reports are counted.
  const TAG = `isolation-${Math.random().toString(36).slice(2, 8)}`
  const ours = (e: FrameEvent) => e.kind === 'case:created' && (e as unknown as { case: { reporter: string | null } }).case.reporter === TAG
  const OWN = 20

  beforeAll(async () => {
    db = await testDb(mode)
    ;({ app, url } = await startServer({ db, auth: { secret: TEST_SECRET } }))
  })
  afterAll(async () => {
    for (const s of open) s.disconnect()
    await app.close()
  })

  function client(token?: string): Promise<{ socket: Client; events: FrameEvent[] }> {
    const socket: Client = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: token ? { token } : {} })
    open.push(socket)
    const events: FrameEvent[] = []
    // Raw frames carry the compact wire form: expanded here as stream.ts does.
    socket.on('events:frame', (frame) => events.push(...frame.map(expandEvent)))
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve({ socket, events }))
      socket.once('connect_error', reject)
    })
  }
  const resume = (s: Client, scope: Scope, after: number) => s.timeout(5000).emitWithAck('events:resume', { scope, after })
  const streetOf = (e: FrameEvent) => ((e as unknown as { case?: { regions: Array<{ id: string; level: number }> } }).case?.regions ?? []).find((r) => r.level === 2)?.id
  const pointsIn = async (street: string, n: number) =>
    (
      await db.query<{ lon: number; lat: number }>(
        `SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(geom) AS p FROM regions
          WHERE level = 5 AND valid_to IS NULL AND path <@ (SELECT path FROM regions WHERE id = $1) ORDER BY id LIMIT $2) s`,
        [street, n],
      )
    ).rows

  it('a leader gets their street’s events and none of 1,000 next door; a forged subscription gets nothing', async () => {
    const after = Number((await db.query<{ s: string }>('SELECT coalesce(max(seq), 0)::text AS s FROM events')).rows[0].s)
    const { accessToken } = await signIn(app, 'leader-chengdong') // scope: 城东街道 330702001
    const leader = await client(accessToken)
    expect(await resume(leader.socket, { regions: ['330702001'] }, after)).toMatchObject({ ok: true })
    const forger = await client(accessToken)
    expect(await resume(forger.socket, { regions: ['330702002'] }, after)).toMatchObject({ ok: false, error: 'forbidden' })
    expect(await resume(forger.socket, { all: true }, after)).toMatchObject({ ok: false, error: 'forbidden' })
    // Without a token, dev-header mode lets a socket follow the wall (as the REST routes serve a caller without one).
    const wall = await client()
    expect(await resume(wall.socket, { all: true }, after)).toMatchObject({ ok: true })

    const next = await pointsIn('330702002', 200)
    const own = await pointsIn('330702001', OWN)
    const now = new Date()
    for (let i = 0; i < OTHER; i++) {
      const p = next[i % next.length]
      await reportCase(db, { category: 'sanitation.garbage', description: `隔壁街道 ${i}`, lon: p.lon, lat: p.lat }, { reporter: TAG, now })
    }
    for (const p of own) await reportCase(db, { category: 'sanitation.garbage', description: '本街道', lon: p.lon, lat: p.lat }, { reporter: TAG, now })

    // Everything has been delivered once the wall has all of it.
    await vi.waitFor(() => expect(wall.events.filter(ours).length).toBe(OTHER + OWN), { timeout: 60_000, interval: 100 })
    await vi.waitFor(() => expect(leader.events.filter(ours).length).toBe(OWN), { timeout: 10_000, interval: 100 })
    expect(wall.events.filter((e) => ours(e) && streetOf(e) === '330702002')).toHaveLength(OTHER)
    expect(leader.events.filter((e) => e.kind.startsWith('case:') && streetOf(e) !== '330702001')).toEqual([])
    expect(forger.events).toEqual([])
  })

  it('with AUTH_MODE=token a socket without a token is refused at the handshake', async () => {
    const strict = await startServer({ db, auth: { secret: TEST_SECRET, mode: 'token' } })
    try {
      const s: Client = connect(strict.url, { transports: ['websocket'], reconnection: false, forceNew: true })
      open.push(s)
      const err = await new Promise<Error>((resolve) => s.once('connect_error', resolve))
      expect(err.message).toBe('unauthenticated')
    } finally {
      await strict.app.close()
    }
  })
})
