import { SignJWT } from 'jose'
import { io as connect, type Socket } from 'socket.io-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Ack, ClientToServerEvents, ResumeReply, Scope, ServerToClientEvents } from '../../../shared/protocol/events.ts'
import type { AppInstance } from '../../src/app-types.ts'
import { scopeSubscribePolicy, socketHandshake } from '../../src/auth/socket-auth.ts'
import type { Db, DbMode } from '../../src/db/types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { startServer } from '../../../test/support/server.ts'
import { jwtParts, signIn, TEST_SECRET } from './support.ts'

type Client = Socket<ServerToClientEvents, ClientToServerEvents>

describe.each(DB_MODES)('Socket.IO sign-in and the scope policy (%s)', (mode: DbMode) => {
  let db: Db
  let app: AppInstance
  let url: string
  const open: Client[] = []
  const tokens: Record<string, { accessToken: string; refreshToken: string }> = {}

  beforeAll(async () => {
    db = await testDb(mode)
    ;({ app, url } = await startServer({ db, subscribePolicy: scopeSubscribePolicy(db), auth: { secret: TEST_SECRET } }))
    app.io.use(socketHandshake(app.auth, { requireToken: true }))
    for (const u of ['leader-chengdong', 'inspector-chengdong', 'commander', 'resident-zhang', 'worker-chengdong', 'dispatcher-jindong']) tokens[u] = await signIn(app, u)
  })
  afterEach(() => {
    for (const s of open.splice(0)) s.disconnect()
  })
  afterAll(() => app.close())

  /** Connects with `auth: { token }`; resolves with the socket or rejects with the connect_error. */
  function client(token: unknown): Promise<Client> {
    const socket: Client = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: token === undefined ? {} : { token } })
    open.push(socket)
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket))
      socket.once('connect_error', reject)
    })
  }
  const resume = (s: Client, scope: Scope): Promise<Ack<ResumeReply>> => s.timeout(5000).emitWithAck('events:resume', { scope })
  const regions = (...ids: string[]): Scope => ({ regions: ids })

  it('refuses a handshake without a token, with a forged one, and with a token whose session was revoked', async () => {
    await expect(client(undefined)).rejects.toMatchObject({ message: 'unauthenticated' })
    await expect(client(42)).rejects.toMatchObject({ message: 'invalid_token' })
    const forged = await new SignJWT({ ...jwtParts(tokens.commander.accessToken).payload })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(new TextEncoder().encode('not-the-server-secret-but-long-enough-000'))
    const err = await client(forged).catch((e) => e)
    expect(err).toMatchObject({ message: 'invalid_token', data: { error: 'invalid_token' } })
    const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${tokens.commander.accessToken.split('.')[1]}.`
    await expect(client(none)).rejects.toMatchObject({ message: 'invalid_token' })
  })

  it('a street leader follows their street and what is under it — never another street nor the wall', async () => {
    const s = await client(tokens['leader-chengdong'].accessToken)
    const ok = await resume(s, regions('330702001'))
    expect(ok.ok, JSON.stringify(ok)).toBe(true)
    expect((await resume(s, regions('330702001008', '330702001008G01'))).ok).toBe(true)
    // A forged subscribe to the street next door, alone or hidden among allowed ones.
    expect(await resume(s, regions('330702002'))).toMatchObject({ ok: false, error: 'forbidden' })
    expect(await resume(s, regions('330702001', '330702002'))).toMatchObject({ ok: false, error: 'forbidden' })
    expect(await resume(s, regions('330702'))).toMatchObject({ ok: false, error: 'forbidden' }) // the parent district
    expect(await resume(s, { all: true })).toMatchObject({ ok: false, error: 'forbidden' })
    expect(await resume(s, regions('no_such_region'))).toMatchObject({ ok: false, error: 'forbidden' })
  })

  it('an inspector is scoped like a leader: their street and below, not the street next door nor the wall', async () => {
    const s = await client(tokens['inspector-chengdong'].accessToken)
    expect((await resume(s, regions('330702001', '330702001008'))).ok).toBe(true)
    expect(await resume(s, regions('330702002'))).toMatchObject({ ok: false, error: 'forbidden' })
    expect(await resume(s, regions('330702'))).toMatchObject({ ok: false, error: 'forbidden' })
    expect(await resume(s, { all: true })).toMatchObject({ ok: false, error: 'forbidden' })
  })

  it('the commander follows the wall and any region; a dispatcher their district; a grid worker their grid; a resident nothing', async () => {
    const c = await client(tokens.commander.accessToken)
    expect((await resume(c, { all: true })).ok).toBe(true)
    expect((await resume(c, regions('330703001', '330702002'))).ok).toBe(true)

    const d = await client(tokens['dispatcher-jindong'].accessToken)
    expect((await resume(d, regions('330703', '330703001'))).ok).toBe(true)
    expect((await resume(d, regions('330702'))).ok).toBe(false)

    const grid = (tokens['worker-chengdong'] as unknown as { user: { scopeRegionId: string } }).user.scopeRegionId
    const w = await client(tokens['worker-chengdong'].accessToken)
    expect((await resume(w, regions(grid))).ok).toBe(true)
    expect((await resume(w, regions('330702001008'))).ok).toBe(false) // the community above the grid
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM regions WHERE level = 4 AND parent_id = '330702001008' AND id <> $1 LIMIT 1`, [grid])
    if (rows[0]) expect((await resume(w, regions(rows[0].id))).ok).toBe(false) // the grid next door

    const r = await client(tokens['resident-zhang'].accessToken)
    expect((await resume(r, regions('330702001'))).ok).toBe(false)
    expect((await resume(r, { all: true })).ok).toBe(false)
  })

  it('re-checks on every resume and reconnect: after logout the open socket is refused, and so is a new handshake with the same token', async () => {
    const t = await signIn(app, 'leader-chengdong')
    const s = await client(t.accessToken)
    expect((await resume(s, regions('330702001'))).ok).toBe(true)
    const out = await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refreshToken: t.refreshToken } })
    expect(out.statusCode).toBe(204)
    expect(await resume(s, regions('330702001'))).toMatchObject({ ok: false, error: 'forbidden' })
    await expect(client(t.accessToken)).rejects.toMatchObject({ message: 'invalid_token' })
  })

  it('a scope narrowed in the database applies from the next resume on', async () => {
    const user = (tokens['dispatcher-jindong'] as unknown as { user: { id: string } }).user.id
    const s = await client(tokens['dispatcher-jindong'].accessToken)
    expect((await resume(s, regions('330703101'))).ok).toBe(true)
    await db.query(`UPDATE users SET scope_region_id = '330703001' WHERE id = $1`, [user])
    try {
      expect((await resume(s, regions('330703101'))).ok).toBe(false)
      expect((await resume(s, regions('330703001'))).ok).toBe(true)
    } finally {
      await db.query(`UPDATE users SET scope_region_id = '330703' WHERE id = $1`, [user])
    }
  })
})
