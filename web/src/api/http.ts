/**
 * The page's HTTP calls, same origin. Components never fetch: stores call these.
 */
import type { DemoAccounts } from '../../../shared/schemas/auth.ts'
import type { Case, CaseList } from '../../../shared/schemas/case.ts'
import type { RegionFeatureCollection } from '../../../shared/schemas/region.ts'
import type { RegionProfile } from '../../../shared/schemas/region.ts'
import type { RegionLevel } from '../../../shared/domain/levels.ts'

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

/**
 * How the page signs its requests (installed by stores/session.ts; none: anonymous, as in AUTH_MODE=dev-header).
 * `token()` is the current access token or null; `renew()` is called once when the server answers 401
 * `invalid_token` to a signed request and resolves true when a new token is there (single-flight in the session).
 */
export interface AuthHooks {
  token(): string | null
  renew(): Promise<boolean>
  /** An anonymous request was answered 401 (the server runs with AUTH_MODE=token): signing in is required. */
  required?(): void
  /**
   * Resolves once the session kept from before (a refresh token in storage) has been restored or refused. Every
   * request waits for it, so the first loads of a view opened by a direct link or a reload go out signed in.
   */
  ready?(): Promise<void>
}

let auth: AuthHooks | null = null

export function installAuth(hooks: AuthHooks | null): void {
  auth = hooks
}

function withBearer(init: RequestInit | undefined, token: string | null): RequestInit {
  const headers = new Headers(init?.headers)
  if (!headers.has('accept')) headers.set('accept', 'application/json')
  if (token) headers.set('authorization', `Bearer ${token}`)
  return { ...init, headers }
}

/** The error code of a JSON error body ({ error, message }), or null. */
async function errorCode(res: Response): Promise<string | null> {
  try {
    const body = (await res.clone().json()) as { error?: unknown }
    return typeof body.error === 'string' ? body.error : null
  } catch {
    return null
  }
}

/**
 * fetch with the Bearer token when signed in. A 401 `invalid_token` (expired or revoked access token) renews the
 * token once and retries the request once; concurrent 401s share one renewal (see stores/session.ts).
 */
export async function apiFetch(url: string, init?: RequestInit): Promise<Response> {
  await auth?.ready?.()
  const token = auth?.token() ?? null
  const res = await fetch(url, withBearer(init, token))
  if (res.status !== 401 || !auth) return res
  if (!token) {
    auth.required?.()
    return res
  }
  if ((await errorCode(res)) !== 'invalid_token') return res
  const renewed = await auth.renew()
  const next = auth.token()
  // Renewed: retry with the new token. Not renewed: the session is over; retry once as the anonymous page.
  if (!renewed && next) return res
  const again = await fetch(url, withBearer(init, next))
  if (again.status === 401 && !next) auth.required?.()
  return again
}

export async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await apiFetch(url, init)
  if (!res.ok) {
    let detail = res.statusText
    try {
      const body = (await res.json()) as { message?: string; error?: string }
      detail = body.message ?? body.error ?? detail
    } catch {
      // not JSON: keep the status text
    }
    throw new HttpError(res.status, `GET ${url} → ${res.status} ${detail}`)
  }
  return (await res.json()) as T
}

export interface Health {
  status: 'ok'
  db: 'embedded' | 'postgres'
  postgis: string
}

export const fetchHealth = (signal?: AbortSignal) => getJson<Health>('/api/health', { signal })
/** The demo accounts a demo server offers (404 → HttpError on any other server). */
export const fetchDemoAccounts = (signal?: AbortSignal) => getJson<DemoAccounts>('/api/auth/demo', { signal })

/** Open cases in one request (one snapshot, up to the API's 20,000), and the event-log position they reflect. */
export async function fetchOpenCasesSnapshot(signal?: AbortSignal): Promise<{ cases: Case[]; seq: number }> {
  const body = await getJson<CaseList>('/api/cases?status=open&limit=20000', { signal })
  return { cases: body.cases, seq: body.seq }
}

export async function fetchOpenCases(signal?: AbortSignal): Promise<Case[]> {
  return (await fetchOpenCasesSnapshot(signal)).cases
}

export const fetchRegions = (level: RegionLevel, signal?: AbortSignal, parentId?: string | null) =>
  getJson<RegionFeatureCollection>(`/api/regions?level=${level}${parentId ? `&parentId=${encodeURIComponent(parentId)}` : ''}`, { signal })

export const fetchRegionProfile = (id: string, signal?: AbortSignal) =>
  getJson<RegionProfile>(`/api/regions/${encodeURIComponent(id)}`, { signal })
