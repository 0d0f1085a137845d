import { generateKeyPair, SignJWT } from 'jose'
import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, type AppOptions } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import { requireRole, requireUser } from '../../src/auth/guards.ts'
import type { Db, DbMode } from '../../src/db/types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { b64, bearer, createUser, jwtParts, login, signIn, TEST_PASSWORD, TEST_SECRET } from './support.ts'

/** A point in 城东街道: the home of worker W000002 (grid 330702001008G01). */
const IN_CHENGDONG = { lon: 119.644077, lat: 29.0709078 }

interface Harness {
  app: AppInstance
  db: Db
  /** Unset: the wall clock. */
  clock: { now?: Date }
}

/** An app with a known secret and a controllable clock on the run's shared database. */
function harness(mode: DbMode, opts: Partial<AppOptions> = {}): Harness {
  const h = { clock: {} } as Harness
  beforeAll(async () => {
    h.db = await testDb(mode)
    h.app = await buildApp({
      db: h.db,
      now: () => h.clock.now ?? new Date(),
      ...opts,
      auth: { secret: TEST_SECRET, addressLimit: { max: 10_000, windowSeconds: 60 }, ...opts.auth },
    })
    // Two probe routes for the guards.
    h.app.get('/api/test-guards/user', async (req) => ({ who: requireUser(req).username }))
    h.app.get('/api/test-guards/admin', async (req) => ({ who: requireRole(req, ['admin', 'commander']).username }))
    await h.app.ready()
  })
  afterEach(() => {
    h.clock.now = undefined
  })
  afterAll(() => h.app.close())
  return h
}

const me = (h: Harness, headers: Record<string, string>) => h.app.inject({ method: 'GET', url: '/api/auth/me', headers })
const refresh = (h: Harness, refreshToken: string) => h.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } })

describe.each(DB_MODES)('sign-in (%s)', (mode) => {
  const h = harness(mode)

  it('signs a demo user in: an HS256 access token for 15 min, a refresh token for 7 days, the user with their scope', async () => {
    const before = Date.now()
    const res = await login(h.app, 'leader-chengdong')
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    const body = res.json()
    expect(body).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 900,
      user: { username: 'leader-chengdong', role: 'leader', scopeRegionId: '330702001', scopePath: '330702.330702001', scopeName: '城东街道', scopeLevel: 2, workerId: null },
    })
    expect(body.refreshToken).toMatch(/^rt_[A-Za-z0-9_-]{43}$/)
    const refreshEnds = Date.parse(body.refreshExpiresAt) - before
    expect(refreshEnds).toBeGreaterThan(7 * 86400_000 - 5000)
    expect(refreshEnds).toBeLessThan(7 * 86400_000 + 5000)

    const { header, payload } = jwtParts(body.accessToken)
    expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt' })
    expect(payload).toMatchObject({ iss: 'gridcommand', aud: 'gridcommand-api', sub: body.user.id, name: 'leader-chengdong', role: 'leader', scope: '330702001', wid: null })
    expect(payload.exp as number - (payload.iat as number)).toBe(900)
    expect(payload.sid).toMatch(/^[0-9a-f-]{36}$/)

    const m = await me(h, bearer(body.accessToken))
    expect(m.statusCode, m.body).toBe(200)
    expect(m.json()).toEqual(body.user)

    const { rows } = await h.db.query<{ outcome: string; address: string; session_id: string }>(
      `SELECT outcome, address, session_id FROM auth_events WHERE user_id = $1 AND kind = 'login' ORDER BY id DESC LIMIT 1`,
      [body.user.id],
    )
    expect(rows[0]).toMatchObject({ outcome: 'ok', address: '127.0.0.1', session_id: payload.sid })
  })

  it('usernames are case-insensitive; the password is not', async () => {
    expect((await login(h.app, 'LEADER-ChengDong')).statusCode).toBe(200)
    expect((await login(h.app, 'leader-chengdong', 'GRIDCOMMAND-DEMO')).statusCode).toBe(401)
  })

  it('answers a wrong password and an unknown user with the same 401, and audits both', async () => {
    const user = await createUser(h.db, 'resident')
    const unknown = `nobody-${randomBytes(4).toString('hex')}`
    const wrong = await login(h.app, user, 'not the password', '10.9.0.1')
    const nobody = await login(h.app, unknown, 'not the password', '10.9.0.1')
    expect(wrong.statusCode).toBe(401)
    expect(nobody.statusCode).toBe(401)
    expect(wrong.body).toBe(nobody.body)
    expect(wrong.json()).toEqual({ error: 'bad_credentials', message: 'unknown username or wrong password' })
    expect(wrong.headers['www-authenticate']).toBe(nobody.headers['www-authenticate'])

    const { rows } = await h.db.query<{ account: string; outcome: string; user_id: string | null; address: string }>(
      `SELECT account, outcome, user_id, address FROM auth_events WHERE account = ANY($1) ORDER BY id`,
      [[user.toLowerCase(), unknown]],
    )
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatchObject({ account: user.toLowerCase(), outcome: 'bad_credentials', address: '10.9.0.1' })
    expect(rows[0].user_id).not.toBeNull()
    expect(rows[1]).toMatchObject({ account: unknown, outcome: 'bad_credentials', user_id: null })
  })

  it('refuses unknown fields and over-long input with 400', async () => {
    const extra = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: 'x', remember: true } })
    expect(extra.statusCode).toBe(400)
    expect(extra.json()).toMatchObject({ error: 'invalid_request', field: 'remember' })
    const long = await login(h.app, 'a'.repeat(65), 'x')
    expect(long.statusCode).toBe(400)
  })

  it('a grid worker: scope is their own grid, and callerOf (the case code) sees their worker id', async () => {
    const { rows } = await h.db.query<{ id: string; region_id: string }>(
      `SELECT w.id, w.region_id FROM workers w JOIN regions g ON g.id = w.region_id
        WHERE w.role = 'grid_worker' AND g.path <@ '330702.330702001' ORDER BY w.id LIMIT 1`,
    )
    const worker = rows[0]
    const t = await signIn(h.app, 'worker-chengdong')
    expect(t.user).toMatchObject({ role: 'grid_worker', workerId: worker.id, scopeRegionId: worker.region_id, scopeLevel: 4 })
    expect(jwtParts(t.accessToken).payload).toMatchObject({ wid: worker.id })

    const created = await h.app.inject({
      method: 'POST',
      url: '/api/cases',
      headers: bearer(t.accessToken),
      payload: { category: 'public_facilities.street_light', description: '路灯不亮', ...IN_CHENGDONG },
    })
    expect(created.statusCode, created.body).toBe(201)
    expect(created.json().reporter).toBe(worker.id)

    // A token and an X-Actor naming someone else: refused, not silently one or the other.
    const mixed = await h.app.inject({
      method: 'POST',
      url: `/api/cases/${created.json().id}/actions/note`,
      headers: { ...bearer(t.accessToken), 'x-actor': 'someone-else', 'if-match': '"1"' },
      payload: { note: '现场查看' },
    })
    expect(mixed.statusCode).toBe(400)
    expect(mixed.json()).toMatchObject({ error: 'actor_mismatch', field: 'X-Actor' })
    const same = await h.app.inject({
      method: 'POST',
      url: `/api/cases/${created.json().id}/actions/note`,
      headers: { ...bearer(t.accessToken), 'x-actor': worker.id, 'if-match': '"1"' },
      payload: { note: '现场查看' },
    })
    expect(same.statusCode, same.body).toBe(200)
    const detail = (await h.app.inject({ method: 'GET', url: `/api/cases/${created.json().id}` })).json()
    expect(detail.timeline.at(-1)).toMatchObject({ action: 'note', actor: worker.id })
  })

  it('a disabled user cannot sign in (same 401) and their tokens stop working at once', async () => {
    const user = await createUser(h.db, 'dispatcher', { scope: '330702' })
    const t = await signIn(h.app, user, TEST_PASSWORD)
    expect((await me(h, bearer(t.accessToken))).statusCode).toBe(200)
    await h.db.query(`UPDATE users SET disabled_at = now() WHERE username = $1`, [user])
    expect((await me(h, bearer(t.accessToken))).statusCode).toBe(401)
    const again = await login(h.app, user, TEST_PASSWORD)
    expect(again.statusCode).toBe(401)
    expect(again.json().error).toBe('bad_credentials')
    expect((await refresh(h, t.refreshToken)).statusCode).toBe(401)
  })

  describe('token attacks', () => {
    let good: string
    let claims: Record<string, unknown>
    beforeAll(async () => {
      good = (await signIn(h.app, 'dispatcher-wucheng')).accessToken
      claims = jwtParts(good).payload
    })
    const sign = (payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'at+jwt' }, key: Uint8Array | CryptoKey = TEST_SECRET) =>
      new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key)

    it('the control: the same claims re-signed correctly are accepted', async () => {
      const res = await me(h, bearer(await sign(claims)))
      expect(res.statusCode, res.body).toBe(200)
    })

    const cases: Array<[string, () => Promise<string>]> = [
      ['alg none, no signature', async () => `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`],
      ['alg none, the real signature kept', async () => `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.${jwtParts(good).signature}`],
      ['HS512 with the right secret', () => sign(claims, { alg: 'HS512', typ: 'at+jwt' })],
      ['HS384 with the right secret', () => sign(claims, { alg: 'HS384', typ: 'at+jwt' })],
      ['ES256 with an attacker key', async () => sign(claims, { alg: 'ES256', typ: 'at+jwt' }, (await generateKeyPair('ES256')).privateKey)],
      ['header alg switched to HS384, HS256 signature kept', async () => {
        const [, p, s] = good.split('.')
        return `${b64({ alg: 'HS384', typ: 'at+jwt' })}.${p}.${s}`
      }],
      ['expired', () => sign({ ...claims, iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 60 })],
      ['not yet valid (nbf in an hour)', () => sign({ ...claims, nbf: Math.floor(Date.now() / 1000) + 3600 })],
      ['wrong secret', () => sign(claims, undefined, new TextEncoder().encode('another-secret-that-is-long-enough-0123456789'))],
      ['wrong audience', () => sign({ ...claims, aud: 'some-other-api' })],
      ['no audience', () => sign(Object.fromEntries(Object.entries(claims).filter(([k]) => k !== 'aud')))],
      ['wrong issuer', () => sign({ ...claims, iss: 'evil' })],
      ['no typ header', () => sign(claims, { alg: 'HS256' })],
      ['typ JWT (not an access token)', () => sign(claims, { alg: 'HS256', typ: 'JWT' })],
      ['tampered payload (role admin), original signature', async () => {
        const [hd, , s] = good.split('.')
        return `${hd}.${b64({ ...claims, role: 'admin', scope: null })}.${s}`
      }],
      ['tampered payload (another user id), original signature', async () => {
        const [hd, , s] = good.split('.')
        return `${hd}.${b64({ ...claims, sub: randomUUID() })}.${s}`
      }],
      ['valid signature, a session that does not exist', () => sign({ ...claims, sid: randomUUID() })],
      ['valid signature, a user id that is not a uuid', () => sign({ ...claims, sub: 'admin' })],
      ['not a JWT at all', async () => 'abc.def'],
    ]
    it.each(cases)('%s → 401 invalid_token', async (_name, make) => {
      const res = await me(h, bearer(await make()))
      expect(res.statusCode, res.body).toBe(401)
      expect(res.json().error).toBe('invalid_token')
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="gridcommand", error="invalid_token"$/)
    })

    it('a bad token is refused on any route (RFC 6750), but ignored by login', async () => {
      const forged = await sign({ ...claims, iss: 'evil' })
      expect((await h.app.inject({ method: 'GET', url: '/api/health', headers: bearer(forged) })).statusCode).toBe(401)
      expect((await h.app.inject({ method: 'GET', url: '/api/health', headers: { authorization: 'Bearer' } })).statusCode).toBe(401)
      expect((await h.app.inject({ method: 'GET', url: '/api/health', headers: { authorization: 'Basic dXNlcjpwYXNz' } })).statusCode).toBe(200)
      const res = await h.app.inject({ method: 'POST', url: '/api/auth/login', headers: bearer(forged), payload: { username: 'commander', password: 'gridcommand-demo' } })
      expect(res.statusCode).toBe(200)
    })
  })

  it('an access token lives 15 minutes', async () => {
    const t = await signIn(h.app, 'commander')
    h.clock.now = new Date(Date.now() + 14 * 60_000)
    expect((await me(h, bearer(t.accessToken))).statusCode).toBe(200)
    h.clock.now = new Date(Date.now() + 15 * 60_000 + 6_000) // past exp and the 5 s clock tolerance
    const res = await me(h, bearer(t.accessToken))
    expect(res.statusCode).toBe(401)
    expect(res.json().message).toMatch(/expired/)
    h.clock.now = undefined
  })

  it('refresh rotates the refresh token; presenting a used one again ends the session for everyone', async () => {
    const t0 = await signIn(h.app, 'leader-duohu')
    const r1 = await refresh(h, t0.refreshToken)
    expect(r1.statusCode, r1.body).toBe(200)
    const t1 = r1.json()
    expect(t1.refreshToken).not.toBe(t0.refreshToken)
    expect(jwtParts(t1.accessToken).payload.sid).toBe(jwtParts(t0.accessToken).payload.sid)
    expect(t1.user).toMatchObject({ username: 'leader-duohu', scopeRegionId: '330703001' })
    expect((await me(h, bearer(t1.accessToken))).statusCode).toBe(200)

    const t2 = (await refresh(h, t1.refreshToken)).json()
    // t0's token again (a stolen copy): refused, and the session is revoked — the newest token and every access token of it too.
    const reuse = await refresh(h, t0.refreshToken)
    expect(reuse.statusCode).toBe(401)
    expect(reuse.json().error).toBe('refresh_token_reused')
    expect((await refresh(h, t2.refreshToken)).statusCode).toBe(401)
    expect((await me(h, bearer(t2.accessToken))).statusCode).toBe(401)
    expect((await me(h, bearer(t0.accessToken))).statusCode).toBe(401)

    const sid = jwtParts(t0.accessToken).payload.sid
    const { rows } = await h.db.query<{ revoked_reason: string }>(`SELECT revoked_reason FROM auth_sessions WHERE id = $1`, [sid])
    expect(rows[0].revoked_reason).toBe('refresh_reuse')
    const ev = await h.db.query<{ kind: string; outcome: string }>(`SELECT kind, outcome FROM auth_events WHERE session_id = $1 ORDER BY id`, [sid])
    expect(ev.rows.map((r) => `${r.kind}:${r.outcome}`)).toEqual(['login:ok', 'refresh:ok', 'refresh:ok', 'refresh:reused', 'refresh:revoked'])
  })

  it('a refresh whose answer was lost may be tried again with the same token within a minute, while its successor is unused', async () => {
    const t0 = await signIn(h.app, 'leader-duohu')
    const base = Date.now()
    h.clock.now = new Date(base)
    const lost = await refresh(h, t0.refreshToken) // the app closed before it stored the answer
    expect(lost.statusCode).toBe(200)
    h.clock.now = new Date(base + 20_000)
    const again = await refresh(h, t0.refreshToken)
    expect(again.statusCode, again.body).toBe(200)
    const t1 = again.json()
    expect(t1.refreshToken).not.toBe(lost.json().refreshToken)
    // The answer that never arrived is void; the new one works and the session lives on.
    expect((await refresh(h, lost.json().refreshToken)).json().error).toBe('invalid_refresh_token')
    expect((await me(h, bearer(t1.accessToken))).statusCode).toBe(200)
    const t2 = await refresh(h, t1.refreshToken)
    expect(t2.statusCode).toBe(200)
    // t1 is used now: presenting it again is a copy, whatever the time — the session ends.
    const copy = await refresh(h, t1.refreshToken)
    expect(copy.json().error).toBe('refresh_token_reused')
    expect((await me(h, bearer(t2.json().accessToken))).statusCode).toBe(401)
    const sid = jwtParts(t0.accessToken).payload.sid
    const ev = await h.db.query<{ outcome: string }>(`SELECT outcome FROM auth_events WHERE session_id = $1 AND kind = 'refresh' ORDER BY id`, [sid])
    expect(ev.rows.map((r) => r.outcome)).toEqual(['ok', 'retried', 'ok', 'reused'])
    h.clock.now = undefined
  })

  it('after the grace minute a used refresh token is a reuse even when its successor was never used', async () => {
    const t0 = await signIn(h.app, 'leader-duohu')
    const base = Date.now()
    h.clock.now = new Date(base)
    expect((await refresh(h, t0.refreshToken)).statusCode).toBe(200)
    h.clock.now = new Date(base + 61_000)
    expect((await refresh(h, t0.refreshToken)).json().error).toBe('refresh_token_reused')
    h.clock.now = undefined
  })

  it('an unknown refresh token is refused; a refresh token lasts 7 days and a session 30 at most', async () => {
    expect((await refresh(h, 'rt_' + randomBytes(32).toString('base64url'))).json()).toMatchObject({ error: 'invalid_refresh_token' })
    const start = Date.now()
    const day = 86400_000
    let t = await signIn(h.app, 'leader-chengzhong')
    h.clock.now = new Date(start + 7 * day + 1000)
    const late = await refresh(h, t.refreshToken)
    expect(late.statusCode).toBe(401)
    expect(late.json().message).toMatch(/expired/)

    h.clock.now = new Date(start)
    t = await signIn(h.app, 'leader-chengzhong')
    for (const d of [6, 12, 18, 24]) {
      h.clock.now = new Date(start + d * day)
      const r = await refresh(h, t.refreshToken)
      expect(r.statusCode, `day ${d}: ${r.body}`).toBe(200)
      t = r.json()
    }
    expect(Date.parse((t as unknown as { refreshExpiresAt: string }).refreshExpiresAt)).toBeLessThanOrEqual(start + 30 * day + 1000)
    h.clock.now = new Date(start + 30 * day + 2000)
    expect((await refresh(h, t.refreshToken)).statusCode).toBe(401)
    h.clock.now = undefined
  })

  it('logout revokes the session: its refresh token and its access tokens stop working', async () => {
    const t = await signIn(h.app, 'dispatcher-jindong')
    const out = await h.app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refreshToken: t.refreshToken } })
    expect(out.statusCode).toBe(204)
    expect((await refresh(h, t.refreshToken)).statusCode).toBe(401)
    expect((await me(h, bearer(t.accessToken))).statusCode).toBe(401)

    // With the access token alone; and `all` ends every session of the user.
    const a = await signIn(h.app, 'dispatcher-jindong')
    const b = await signIn(h.app, 'dispatcher-jindong')
    const c = await signIn(h.app, 'dispatcher-jindong')
    expect((await h.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(a.accessToken), payload: {} })).statusCode).toBe(204)
    expect((await me(h, bearer(a.accessToken))).statusCode).toBe(401)
    expect((await me(h, bearer(b.accessToken))).statusCode).toBe(200)
    expect((await h.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(b.accessToken), payload: { all: true } })).statusCode).toBe(204)
    expect((await me(h, bearer(b.accessToken))).statusCode).toBe(401)
    expect((await me(h, bearer(c.accessToken))).statusCode).toBe(401)
    expect((await refresh(h, c.refreshToken)).statusCode).toBe(401)

    const anon = await h.app.inject({ method: 'POST', url: '/api/auth/logout', payload: {} })
    expect(anon.statusCode).toBe(401)
    expect(anon.headers['www-authenticate']).toBe('Bearer realm="gridcommand"')
  })

  it('/me and the guards: 401 with WWW-Authenticate without a token, 403 for the wrong role', async () => {
    const none = await me(h, {})
    expect(none.statusCode).toBe(401)
    expect(none.json().error).toBe('unauthenticated')
    expect(none.headers['www-authenticate']).toBe('Bearer realm="gridcommand"')

    const leader = await signIn(h.app, 'leader-taoyuan')
    expect(leader.user).toMatchObject({ scopeRegionId: '330702001008', scopeName: '桃园社区', scopeLevel: 3 })
    const admin = await signIn(h.app, 'admin')
    expect(admin.user).toMatchObject({ role: 'admin', scopeRegionId: null, scopePath: null })
    const asLeader = await h.app.inject({ method: 'GET', url: '/api/test-guards/admin', headers: bearer(leader.accessToken) })
    expect(asLeader.statusCode).toBe(403)
    expect(asLeader.json()).toMatchObject({ error: 'forbidden' })
    expect((await h.app.inject({ method: 'GET', url: '/api/test-guards/admin', headers: bearer(admin.accessToken) })).json()).toEqual({ who: 'admin' })
    expect((await h.app.inject({ method: 'GET', url: '/api/test-guards/admin' })).statusCode).toBe(401)
    expect((await h.app.inject({ method: 'GET', url: '/api/test-guards/user', headers: bearer(leader.accessToken) })).json()).toEqual({ who: 'leader-taoyuan' })
  })

  it('GET /api/auth/demo: the enabled demo accounts and their password on a demo server, 404 on any other', async () => {
    const off = await h.app.inject({ method: 'GET', url: '/api/auth/demo' })
    expect(off.statusCode).toBe(404)
    expect(off.json().message).toMatch(/SEED_DEMO_USERS/)
    const demo = await buildApp({ db: h.db, demoAccounts: true, auth: { secret: TEST_SECRET } })
    try {
      const res = await demo.inject({ method: 'GET', url: '/api/auth/demo' })
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json()
      expect(body.password).toBe('gridcommand-demo')
      expect(body.usernames).toEqual(expect.arrayContaining(['commander', 'dispatcher-wucheng', 'leader-chengdong', 'leader-taoyuan', 'worker-chengdong']))
      // Only seeded demo accounts, never another user.
      const other = await createUser(h.db, 'resident')
      expect(((await demo.inject({ method: 'GET', url: '/api/auth/demo' })).json().usernames as string[]).includes(other)).toBe(false)
      // A disabled demo account is not offered.
      await h.db.query(`UPDATE users SET disabled_at = now() WHERE username = 'resident-zhang'`)
      try {
        expect((await demo.inject({ method: 'GET', url: '/api/auth/demo' })).json().usernames).not.toContain('resident-zhang')
      } finally {
        await h.db.query(`UPDATE users SET disabled_at = NULL WHERE username = 'resident-zhang'`)
      }
    } finally {
      await demo.close()
    }
  })

  it('auth_events is append-only', async () => {
    await expect(h.db.query(`UPDATE auth_events SET outcome = 'ok' WHERE outcome = 'bad_credentials'`)).rejects.toThrow(/append-only/)
    await expect(h.db.query(`DELETE FROM auth_events`)).rejects.toThrow(/append-only/)
  })
})

describe.each(DB_MODES)('sign-in limits (%s)', (mode) => {
  const h = harness(mode, { auth: { accountLimit: { max: 3, windowSeconds: 900 }, addressLimit: { max: 4, windowSeconds: 60 } } })
  let n = 0
  /** Each attempt from its own address, so that only the per-account limit is at work. */
  const attempt = (user: string, password: string) => login(h.app, user, password, `10.20.${Math.floor(n / 250)}.${n++ % 250}`)

  it('per account: after 3 failures 429 with Retry-After — even with the right password — until the window moves on', async () => {
    const start = Date.now()
    h.clock.now = new Date(start)
    const user = await createUser(h.db, 'resident')
    for (let i = 0; i < 3; i++) expect((await attempt(user, 'wrong')).statusCode).toBe(401)
    const locked = await attempt(user, TEST_PASSWORD)
    expect(locked.statusCode).toBe(429)
    expect(locked.json()).toMatchObject({ error: 'too_many_attempts' })
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(890)
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(900)
    // Throttled attempts do not extend the lock.
    h.clock.now = new Date(start + 600_000)
    const still = await attempt(user, TEST_PASSWORD)
    expect(still.statusCode).toBe(429)
    expect(Number(still.headers['retry-after'])).toBeLessThanOrEqual(300)
    h.clock.now = new Date(start + 901_000)
    expect((await attempt(user, TEST_PASSWORD)).statusCode).toBe(200)
    const { rows } = await h.db.query<{ outcome: string }>(`SELECT outcome FROM auth_events WHERE account = $1 ORDER BY id`, [user.toLowerCase()])
    expect(rows.map((r) => r.outcome)).toEqual(['bad_credentials', 'bad_credentials', 'bad_credentials', 'throttled', 'throttled', 'ok'])
    h.clock.now = undefined
  })

  it('per account: unknown usernames are limited the same way (429 does not reveal which accounts exist)', async () => {
    const unknown = `ghost-${randomBytes(4).toString('hex')}`
    for (let i = 0; i < 3; i++) expect((await attempt(unknown, 'wrong')).statusCode).toBe(401)
    expect((await attempt(unknown, 'wrong')).statusCode).toBe(429)
  })

  it('per account: a successful sign-in starts the count again', async () => {
    const user = await createUser(h.db, 'resident')
    for (let i = 0; i < 2; i++) expect((await attempt(user, 'wrong')).statusCode).toBe(401)
    expect((await attempt(user, TEST_PASSWORD)).statusCode).toBe(200)
    for (let i = 0; i < 2; i++) expect((await attempt(user, 'wrong')).statusCode).toBe(401)
    expect((await attempt(user, TEST_PASSWORD)).statusCode).toBe(200)
  })

  it('per address: the 5th sign-in request in a minute from one address gets 429 with Retry-After; other addresses are not affected', async () => {
    const ip = '10.30.0.1'
    for (let i = 0; i < 4; i++) expect((await login(h.app, `someone-${i}`, 'x', ip)).statusCode).toBe(401)
    const res = await login(h.app, 'commander', 'gridcommand-demo', ip)
    expect(res.statusCode).toBe(429)
    expect(res.json()).toMatchObject({ error: 'too_many_requests' })
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60)
    expect((await login(h.app, 'commander', 'gridcommand-demo', '10.30.0.2')).statusCode).toBe(200)
  })
})

describe.each(DB_MODES)('general rate limit (%s)', (mode) => {
  const h = harness(mode, { rateLimit: { max: 5, windowSeconds: 60 } })
  const get = (url: string, remoteAddress: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, remoteAddress, headers })

  it('anonymous callers are counted per address: the 6th request in the window gets 429 with Retry-After; another address is not affected', async () => {
    const ip = '10.40.0.1'
    for (let i = 0; i < 5; i++) {
      const ok = await get('/api/categories', ip)
      expect(ok.statusCode).toBe(200)
      expect(ok.headers['x-ratelimit-limit']).toBe('5')
      expect(ok.headers['x-ratelimit-remaining']).toBe(String(4 - i))
    }
    // Any route counts: the limit is per caller, not per route.
    const refused = await get('/api/regions?level=1', ip)
    expect(refused.statusCode).toBe(429)
    expect(refused.json()).toMatchObject({ error: 'too_many_requests' })
    expect(refused.json().message).toMatch(/this address/)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60)
    expect((await get('/api/categories', '10.40.0.2')).statusCode).toBe(200)
  })

  it('signed-in callers are counted per account, whatever their address; the health check and sign-in keep their own rules', async () => {
    const ip = '10.40.1.1'
    for (let i = 0; i < 5; i++) await get('/api/categories', ip)
    expect((await get('/api/categories', ip)).statusCode).toBe(429)
    // From the exhausted address: sign-in has its own per-address budget, the health check none.
    const a = (await login(h.app, await createUser(h.db, 'resident'), TEST_PASSWORD, ip)).json()
    const b = (await login(h.app, await createUser(h.db, 'resident'), TEST_PASSWORD, ip)).json()
    expect(a.accessToken && b.accessToken).toBeTruthy()
    expect((await get('/api/health', ip)).statusCode).toBe(200)
    for (let i = 0; i < 5; i++) expect((await get('/api/auth/me', `10.40.2.${i}`, bearer(a.accessToken))).statusCode).toBe(200)
    const refused = await get('/api/auth/me', '10.40.3.1', bearer(a.accessToken))
    expect(refused.statusCode).toBe(429)
    expect(refused.json().message).toMatch(/this account/)
    // Another account from the same exhausted address still has its own budget.
    expect((await get('/api/auth/me', ip, bearer(b.accessToken))).statusCode).toBe(200)
  })
})

describe.each(DB_MODES)('AUTH_MODE=token (%s)', (mode) => {
  const h = harness(mode, { auth: { mode: 'token' } })

  it('refuses X-Actor, still takes anonymous reports, and acts for the signed-in user', async () => {
    const anon = await h.app.inject({ method: 'POST', url: '/api/cases', payload: { category: 'public_facilities.street_light', description: '路灯不亮', ...IN_CHENGDONG } })
    expect(anon.statusCode, anon.body).toBe(201)
    expect(anon.json().reporter).toBeNull()
    const id = anon.json().id

    const named = await h.app.inject({ method: 'POST', url: `/api/cases/${id}/actions/register`, headers: { 'x-actor': 'staff-1', 'if-match': '"1"' }, payload: {} })
    expect(named.statusCode).toBe(401)
    expect(named.headers['www-authenticate']).toBe('Bearer realm="gridcommand"')
    const nobody = await h.app.inject({ method: 'POST', url: `/api/cases/${id}/actions/register`, headers: { 'if-match': '"1"' }, payload: {} })
    expect(nobody.statusCode).toBe(401)
    expect(nobody.json().error).toBe('unauthenticated')
    const reportNamed = await h.app.inject({ method: 'POST', url: '/api/cases', headers: { 'x-actor': 'resident-1' }, payload: { category: 'public_facilities.street_light', description: '路灯不亮', ...IN_CHENGDONG } })
    expect(reportNamed.statusCode).toBe(401)

    const t = await signIn(h.app, 'dispatcher-wucheng')
    const ok = await h.app.inject({ method: 'POST', url: `/api/cases/${id}/actions/register`, headers: { ...bearer(t.accessToken), 'if-match': '"1"' }, payload: {} })
    expect(ok.statusCode, ok.body).toBe(200)
    // Reading it needs a token in this mode (case-access.test.ts): the dispatcher's district holds it.
    expect((await h.app.inject({ method: 'GET', url: `/api/cases/${id}` })).statusCode).toBe(401)
    const detail = (await h.app.inject({ method: 'GET', url: `/api/cases/${id}`, headers: bearer(t.accessToken) })).json()
    expect(detail.timeline.at(-1)).toMatchObject({ action: 'register', actor: 'dispatcher-wucheng' })
  })
})

describe.each(DB_MODES)('client address behind a proxy (%s)', (mode) => {
  const trusting = harness(mode, { trustProxy: '127.0.0.1' })
  const oneHop = harness(mode, { trustProxy: 1 })
  const direct = harness(mode)
  const lastAddress = async (h: Harness, account: string) =>
    (await h.db.query<{ address: string }>(`SELECT address FROM auth_events WHERE account = $1 ORDER BY id DESC LIMIT 1`, [account])).rows[0]?.address

  it('TRUST_PROXY set: the address is the X-Forwarded-For of a trusted proxy; unset: the socket, whatever the header says', async () => {
    const account = `proxied-${randomBytes(4).toString('hex')}`
    const via = (h: Harness) =>
      h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: account, password: 'x' }, remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7' } })
    expect((await via(trusting)).statusCode).toBe(401)
    expect(await lastAddress(trusting, account)).toBe('203.0.113.7')
    expect((await via(oneHop)).statusCode).toBe(401)
    expect(await lastAddress(oneHop, account)).toBe('203.0.113.7')
    expect((await via(direct)).statusCode).toBe(401)
    expect(await lastAddress(direct, account)).toBe('127.0.0.1')
  })
})
