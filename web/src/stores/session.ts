/**
 * The signed-in user (issue #6; the server's contract is server/src/auth/README.md).
 *
 * - The access token (15 min) lives in memory only; the refresh token (rotated on every use) in localStorage, so a
 *   reload — or the wall's browser restarting — keeps the session.
 * - The access token is renewed a minute before it expires, and when the server answers 401 `invalid_token`
 *   (api/http.ts calls `renew`). Renewals are single-flight: concurrent callers share one POST /api/auth/refresh.
 *   Across tabs they are serialised by a Web Lock and always use the refresh token in storage at that moment, so two
 *   tabs never present the same refresh token (the server would end the session as a reuse).
 * - A refresh the server refuses (401) ends the session here: signed out, the page is anonymous again.
 * - Signed out, the page works anonymously as long as the server allows it (AUTH_MODE=dev-header).
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { Role } from '../../../shared/domain/roles.ts'
import type { TokenPair, UserProfile } from '../../../shared/schemas/auth.ts'
import { installAuth } from '../api/http.ts'

export type { Role }
/** `user` of the token pair and of GET /api/auth/me. */
export type SessionUser = UserProfile

export const REFRESH_TOKEN_KEY = 'gridcommand.refreshToken'
/** Renew this long before the access token expires. */
const RENEW_BEFORE_MS = 60_000
/** After a refresh failed for a reason other than a refusal (network, server down): try again in this long. */
const RENEW_RETRY_MS = 15_000

/** Why a sign-in failed: `bad_credentials` (401), `throttled` (429, retryAfterSeconds), `network`, `server`. */
export class SignInError extends Error {
  constructor(
    readonly reason: 'bad_credentials' | 'throttled' | 'network' | 'server',
    readonly retryAfterSeconds: number | null = null,
    message: string = reason,
  ) {
    super(message)
    this.name = 'SignInError'
  }
}

/** localStorage when there is one (not in Node, not when disabled); otherwise memory. */
const memory = new Map<string, string>()
const storage = {
  get(key: string): string | null {
    try {
      if (typeof localStorage !== 'undefined') return localStorage.getItem(key)
    } catch {
      // disabled: memory
    }
    return memory.get(key) ?? null
  },
  set(key: string, value: string | null): void {
    try {
      if (typeof localStorage !== 'undefined') {
        if (value === null) localStorage.removeItem(key)
        else localStorage.setItem(key, value)
        return
      }
    } catch {
      // disabled: memory
    }
    if (value === null) memory.delete(key)
    else memory.set(key, value)
  },
}

/** Runs `fn` holding the page-wide refresh lock (all tabs of this origin), where the browser has Web Locks. */
function withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? (navigator as Navigator & { locks?: LockManager }).locks : undefined
  return locks ? (locks.request('gridcommand.refresh', fn) as Promise<T>) : fn()
}

/** The number in a 429's Retry-After header (seconds), else one in its message ("retry in 42 s"), else null. */
async function retryAfterOf(res: Response): Promise<number | null> {
  const header = Number(res.headers.get('retry-after'))
  if (Number.isFinite(header) && header > 0) return Math.ceil(header)
  try {
    const body = (await res.json()) as { message?: string }
    const m = /(\d+)\s*(s|second)/.exec(body.message ?? '')
    if (m) return Number(m[1])
  } catch {
    // no body
  }
  return null
}

const post = (url: string, body: unknown, token?: string | null) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  })

export const useSessionStore = defineStore('session', () => {
  const user = shallowRef<SessionUser | null>(null)
  /** True while a stored session is being restored at start (the page waits for it before its first loads). */
  const restoring = ref(false)
  /** Client ms when the access token expires (0: none). */
  const expiresAt = ref(0)
  /** How many times the access token was renewed (tests, devtools). */
  const refreshes = ref(0)
  /** The sign-in page is open (App.vue shows it over the wall). */
  const signInOpen = ref(false)
  /**
   * Why the page left the session by itself: it ended (`expired`: a refused refresh) or another tab signed out
   * (`elsewhere`). Shown on the sign-in page.
   */
  const notice = ref<'expired' | 'elsewhere' | null>(null)
  /**
   * The server refused an anonymous request (401: AUTH_MODE=token): the page cannot be used without signing in, so
   * the sign-in page cannot be closed. False while the server allows anonymous use (dev-header).
   */
  const required = ref(false)

  let accessToken: string | null = null
  let renewTimer: ReturnType<typeof setTimeout> | undefined
  let inflight: Promise<boolean> | null = null
  // Requests wait for this (api/http.ts): pending while a session kept in storage has not been restored yet — from
  // the store's creation, before any view has mounted — and resolved once the server has answered the restore (a
  // session, or none). A restore that cannot reach the server keeps it pending: requests would fail meanwhile anyway.
  let settle!: () => void
  const settled = new Promise<void>((resolve) => (settle = resolve))
  if (!storage.get(REFRESH_TOKEN_KEY)) settle()

  const signedIn = computed(() => user.value !== null)
  /** The region the user's views open on: their scope (null: everything, or none for residents). */
  const scopeRegionId = computed(() => user.value?.scopeRegionId ?? null)

  function schedule(ms: number): void {
    clearTimeout(renewTimer)
    renewTimer = setTimeout(() => void refresh(), Math.max(1000, ms))
  }

  function accept(pair: TokenPair): void {
    accessToken = pair.accessToken
    storage.set(REFRESH_TOKEN_KEY, pair.refreshToken)
    expiresAt.value = Date.now() + pair.expiresIn * 1000
    user.value = pair.user
    schedule(pair.expiresIn * 1000 - RENEW_BEFORE_MS)
  }

  /** Forgets the session here (no request). */
  function clear(): void {
    clearTimeout(renewTimer)
    accessToken = null
    expiresAt.value = 0
    storage.set(REFRESH_TOKEN_KEY, null)
    user.value = null
  }

  async function refreshNow(): Promise<boolean> {
    return withRefreshLock(async () => {
      // Inside the lock: the token in storage is the newest (another tab may have rotated it since we last looked).
      const token = storage.get(REFRESH_TOKEN_KEY)
      if (!token) {
        clear()
        return false
      }
      let res: Response
      try {
        res = await post('/api/auth/refresh', { refreshToken: token })
      } catch (err) {
        // Server unreachable: keep the session, try again later.
        schedule(RENEW_RETRY_MS)
        throw err
      }
      if (res.ok) {
        accept((await res.json()) as TokenPair)
        refreshes.value++
        return true
      }
      if (res.status === 401 || res.status === 400) {
        // invalid_refresh_token / refresh_token_reused: the session is over. Back to the sign-in page.
        const had = user.value !== null
        clear()
        if (had) {
          notice.value = 'expired'
          signInOpen.value = true
        }
        return false
      }
      // 429, 5xx: keep the session, try again later.
      schedule(RENEW_RETRY_MS)
      throw new Error(`refresh failed: ${res.status}`)
    })
  }

  /**
   * Gets a new access token (single-flight: callers while one is in flight share it). Resolves true when there is
   * one, false when the server refused the session (now signed out); rejects when the server could not be reached.
   */
  function refresh(): Promise<boolean> {
    if (!inflight) {
      const p = refreshNow()
      inflight = p
      const done = () => {
        if (inflight === p) inflight = null
      }
      p.then(done, done)
    }
    return inflight
  }

  installAuth({
    ready: () => settled,
    token: () => accessToken,
    renew: () => refresh().catch(() => false),
    required: () => {
      required.value = true
      signInOpen.value = true
    },
  })

  // Other tabs of this page share the session through the refresh token in localStorage: one that signs out removes
  // it (this tab signs out too, and says why when it must sign in again), one that signs in stores one while this tab
  // is anonymous (this tab takes the session up). Rotations by another tab's renewal need nothing: renewals read the
  // token in storage inside the lock. The event fires in the OTHER tabs only.
  if (typeof window !== 'undefined') {
    window.addEventListener('storage', (e) => {
      if (e.key !== REFRESH_TOKEN_KEY && e.key !== null) return
      const now = storage.get(REFRESH_TOKEN_KEY)
      if (!now && user.value) {
        clear()
        notice.value = 'elsewhere'
        if (required.value) signInOpen.value = true
      } else if (now && !user.value && !inflight) {
        void refresh().then((ok) => {
          if (ok) {
            signInOpen.value = false
            notice.value = null
          }
        }, () => {})
      }
    })
  }

  /** At start: a refresh token in storage becomes a session again. Network errors are retried by the caller. */
  async function restore(): Promise<boolean> {
    if (!storage.get(REFRESH_TOKEN_KEY)) {
      settle()
      return false
    }
    restoring.value = true
    try {
      const ok = await refresh()
      settle()
      return ok
    } finally {
      restoring.value = false
    }
  }

  async function signIn(username: string, password: string): Promise<SessionUser> {
    let res: Response
    try {
      res = await post('/api/auth/login', { username: username.trim(), password })
    } catch (err) {
      throw new SignInError('network', null, err instanceof Error ? err.message : String(err))
    }
    if (res.status === 401) throw new SignInError('bad_credentials')
    if (res.status === 429) throw new SignInError('throttled', await retryAfterOf(res))
    if (!res.ok) throw new SignInError('server', null, `sign-in failed: ${res.status}`)
    const pair = (await res.json()) as TokenPair
    settle()
    // A sign-in replaces any session this page had.
    const previous = storage.get(REFRESH_TOKEN_KEY)
    accept(pair)
    signInOpen.value = false
    notice.value = null
    if (previous && previous !== pair.refreshToken) void post('/api/auth/logout', { refreshToken: previous }).catch(() => {})
    return pair.user
  }

  /** Ends the session on the server (best effort) and here. */
  async function signOut(): Promise<void> {
    const token = storage.get(REFRESH_TOKEN_KEY)
    const bearer = accessToken
    clear()
    if (required.value) signInOpen.value = true
    if (token) await post('/api/auth/logout', { refreshToken: token }, bearer).catch(() => {})
  }

  /** The current access token (the socket's handshake reads this on every connect attempt). */
  function token(): string | null {
    return accessToken
  }

  function openSignIn(): void {
    notice.value = null
    signInOpen.value = true
  }

  function closeSignIn(): void {
    if (required.value && !user.value) return
    signInOpen.value = false
    notice.value = null
  }

  return {
    user, restoring, expiresAt, refreshes, signedIn, scopeRegionId, signInOpen, notice, required,
    restore, signIn, signOut, refresh, token, clear, openSignIn, closeSignIn,
  }
})
