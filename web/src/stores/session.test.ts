/**
 * The session's client logic without a browser or server: fetch is a fake that plays the server's auth contract
 * (server/src/auth/README.md). The browser suite (web/e2e/signin.e2e.test.ts) signs in against the real server.
 */
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getJson, installAuth } from '../api/http.ts'
import { REFRESH_TOKEN_KEY, SignInError, useSessionStore } from './session.ts'

const user = {
  id: '00000000-0000-4000-8000-000000000001', username: 'leader-chengdong', displayName: '城东街道负责人', role: 'leader',
  scopeRegionId: '330702001', scopePath: '330702.330702001', scopeName: '城东街道', scopeLevel: 2, workerId: null,
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A fake server: access tokens at-1, at-2…; refresh tokens rt-1, rt-2… (each usable once); only `valid` is accepted. */
function fakeServer() {
  let n = 0
  const state = {
    valid: null as string | null,
    refreshCalls: 0,
    refreshUsed: new Set<string>(),
    refuseRefresh: false,
    /** AUTH_MODE=token: anonymous case requests are refused. */
    tokenMode: false,
    caseCalls: [] as Array<string | null>,
  }
  const pair = () => {
    n++
    state.valid = `at-${n}`
    return { tokenType: 'Bearer', accessToken: `at-${n}`, expiresIn: 900, refreshToken: `rt-${n}`, refreshExpiresAt: '2099-01-01T00:00:00Z', user }
  }
  const fetchFake = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input)
    const auth = new Headers(init?.headers).get('authorization')
    const body = init?.body ? JSON.parse(String(init.body)) : undefined
    if (url === '/api/auth/login') {
      if (body.password !== 'gridcommand-demo') return json(401, { error: 'bad_credentials', message: 'x' })
      if (body.username === 'locked') return json(429, { error: 'too_many_attempts', message: 'retry in 600 s' }, { 'retry-after': '600' })
      return json(200, pair())
    }
    if (url === '/api/auth/refresh') {
      state.refreshCalls++
      await sleep(30) // in flight long enough for every waiting request to pile up
      if (state.refuseRefresh || state.refreshUsed.has(body.refreshToken)) return json(401, { error: 'refresh_token_reused', message: 'x' })
      state.refreshUsed.add(body.refreshToken)
      return json(200, pair())
    }
    if (url === '/api/auth/logout') return new Response(null, { status: 204 })
    if (url.startsWith('/api/cases')) {
      const token = auth?.replace(/^Bearer /, '') ?? null
      state.caseCalls.push(token)
      if (!token && state.tokenMode) return json(401, { error: 'unauthenticated', message: 'sign in' })
      if (token && token !== state.valid) return json(401, { error: 'invalid_token', message: 'expired' })
      return json(200, { cases: [], seq: 1, token })
    }
    return json(404, { error: 'not_found' })
  }
  return { state, fetchFake }
}

describe('session store', () => {
  const realFetch = globalThis.fetch
  let server: ReturnType<typeof fakeServer>

  beforeEach(() => {
    server = fakeServer()
    globalThis.fetch = server.fetchFake as typeof fetch
    setActivePinia(createPinia())
  })

  afterEach(() => {
    useSessionStore().clear()
    installAuth(null)
    globalThis.fetch = realFetch
  })

  it('signs in and sends the Bearer token on API calls', async () => {
    const session = useSessionStore()
    await session.signIn('leader-chengdong', 'gridcommand-demo')
    expect(session.signedIn).toBe(true)
    expect(session.user?.scopeName).toBe('城东街道')
    const body = await getJson<{ token: string }>('/api/cases')
    expect(body.token).toBe('at-1')
  })

  it('concurrent 401 invalid_token: ONE refresh, every request waits and retries once with the new token', async () => {
    const session = useSessionStore()
    await session.signIn('leader-chengdong', 'gridcommand-demo')
    server.state.valid = 'revoked' // the server no longer takes at-1 (expired)
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => getJson<{ token: string }>('/api/cases')))
    expect(server.state.refreshCalls).toBe(1)
    expect(results.map((r) => r.token)).toEqual(['at-2', 'at-2', 'at-2', 'at-2', 'at-2'])
    // 5 tries with the old token, 5 retries with the new one: each request retried exactly once.
    expect(server.state.caseCalls.filter((t) => t === 'at-1')).toHaveLength(5)
    expect(server.state.caseCalls.filter((t) => t === 'at-2')).toHaveLength(5)
    expect(session.refreshes).toBe(1)
    expect(session.token()).toBe('at-2')
  })

  it('a refused refresh signs out and opens the sign-in page; the request is retried anonymously', async () => {
    const session = useSessionStore()
    await session.signIn('leader-chengdong', 'gridcommand-demo')
    server.state.valid = 'revoked'
    server.state.refuseRefresh = true
    const results = await Promise.all([1, 2].map(() => getJson<{ token: string | null }>('/api/cases')))
    expect(server.state.refreshCalls).toBe(1)
    expect(results.map((r) => r.token)).toEqual([null, null])
    expect(session.signedIn).toBe(false)
    expect(session.signInOpen).toBe(true)
    expect(session.notice).toBe('expired')
    expect(session.token()).toBeNull()
  })

  it('keeps the session across a reload: a new page restores it from the stored refresh token', async () => {
    await useSessionStore().signIn('leader-chengdong', 'gridcommand-demo')
    // "Reload": a fresh store; the access token (memory) is gone, the refresh token (storage) is not.
    setActivePinia(createPinia())
    const session = useSessionStore()
    expect(session.signedIn).toBe(false)
    expect(await session.restore()).toBe(true)
    expect(session.user?.username).toBe('leader-chengdong')
    expect(session.token()).toBe('at-2')
  })

  it('after a reload, a request made before the session is restored waits for it and goes out signed in', async () => {
    await useSessionStore().signIn('leader-chengdong', 'gridcommand-demo')
    setActivePinia(createPinia())
    const session = useSessionStore()
    // A view that mounts before main.ts restores the session asks at once (a direct link to /drill/…).
    const early = getJson<{ token: string | null }>('/api/cases?status=open')
    await sleep(60) // longer than a refresh takes: the request must still be waiting, unsent
    expect(server.state.caseCalls).toEqual([])
    expect(await session.restore()).toBe(true)
    expect((await early).token).toBe('at-2')
    expect(server.state.caseCalls).toEqual(['at-2'])
  })

  it('with no session kept, requests go out at once (anonymous)', async () => {
    const session = useSessionStore()
    expect(session.signedIn).toBe(false)
    expect((await getJson<{ token: string | null }>('/api/cases')).token).toBeNull()
  })

  it('explicit refreshes are single-flight too, and never present a used refresh token', async () => {
    const session = useSessionStore()
    await session.signIn('leader-chengdong', 'gridcommand-demo')
    const all = await Promise.all([session.refresh(), session.refresh(), session.refresh()])
    expect(all).toEqual([true, true, true])
    expect(server.state.refreshCalls).toBe(1)
    expect(await session.refresh()).toBe(true) // a later one uses the rotated token: no reuse
    expect(server.state.refreshCalls).toBe(2)
    expect(session.signedIn).toBe(true)
  })

  it('reports 401 and 429 (with the wait) as distinct sign-in errors', async () => {
    const session = useSessionStore()
    const bad = await session.signIn('leader-chengdong', 'nope').catch((e) => e)
    expect(bad).toBeInstanceOf(SignInError)
    expect(bad.reason).toBe('bad_credentials')
    const locked = await session.signIn('locked', 'gridcommand-demo').catch((e) => e)
    expect(locked.reason).toBe('throttled')
    expect(locked.retryAfterSeconds).toBe(600)
    expect(session.signedIn).toBe(false)
  })

  it('AUTH_MODE=token: an anonymous 401 makes signing in required (the page cannot be closed until then)', async () => {
    const session = useSessionStore()
    server.state.tokenMode = true
    await expect(getJson('/api/cases')).rejects.toThrow(/401/)
    expect(session.required).toBe(true)
    expect(session.signInOpen).toBe(true)
    session.closeSignIn()
    expect(session.signInOpen).toBe(true)
    await session.signIn('leader-chengdong', 'gridcommand-demo')
    expect(session.signInOpen).toBe(false)
    expect((await getJson<{ token: string }>('/api/cases')).token).toBe('at-1')
    await session.signOut()
    expect(session.signInOpen).toBe(true)
  })

  it('signs out: the server is told, the tokens are gone', async () => {
    const session = useSessionStore()
    await session.signIn('leader-chengdong', 'gridcommand-demo')
    const calls: string[] = []
    const inner = globalThis.fetch
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
      calls.push(`${String(input)} ${init?.body ?? ''}`)
      return inner(input, init)
    }) as typeof fetch
    await session.signOut()
    expect(calls).toEqual([`/api/auth/logout {"refreshToken":"rt-1"}`])
    expect(session.signedIn).toBe(false)
    expect(session.token()).toBeNull()
    expect(await session.restore()).toBe(false)
    expect(REFRESH_TOKEN_KEY).toBe('gridcommand.refreshToken')
  })
})
