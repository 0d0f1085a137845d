/**
 * The page's HTTP calls, same origin. Components never fetch: stores call these.
 */
import type { Case, CaseList } from '../../../shared/schemas/case.ts'
import type { RegionFeatureCollection } from '../../../shared/schemas/region.ts'
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

export async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { headers: { accept: 'application/json' }, ...init })
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

/** Open cases in one request (one snapshot, up to the API's 20,000), and the event-log position they reflect. */
export async function fetchOpenCasesSnapshot(signal?: AbortSignal): Promise<{ cases: Case[]; seq: number }> {
  const body = await getJson<CaseList>('/api/cases?status=open&limit=20000', { signal })
  return { cases: body.cases, seq: body.seq }
}

export async function fetchOpenCases(signal?: AbortSignal): Promise<Case[]> {
  return (await fetchOpenCasesSnapshot(signal)).cases
}

export const fetchRegions = (level: RegionLevel, signal?: AbortSignal) =>
  getJson<RegionFeatureCollection>(`/api/regions?level=${level}`, { signal })
