/**
 * The field app's HTTP calls, through apiFetch (Bearer when signed in, after the session is restored). Stores call
 * these; components never do. Writes made by the user go through the outbox (stores/outbox.ts), which calls `send`.
 */
import type { Case, CaseDetail, CaseList } from '../../../../shared/schemas/case.ts'
import type { RegionRef } from '../../../../shared/schemas/region.ts'
import { apiFetch, getJson, HttpError } from '../../api/http.ts'

export interface NearbyCase {
  id: string
  code: string
  category: string
  status: Case['status']
  reportedAt: string
  distanceM: number
  description: string
  supporters: number
}

export interface ServerCategory {
  code: string
  family: string
  parent: string | null
  zh: string
  en: string
  color: string
}

export const fetchCases = (query: string, signal?: AbortSignal) => getJson<CaseList>(`/api/cases?${query}`, { signal })
export const fetchCase = (id: string, signal?: AbortSignal) => getJson<CaseDetail>(`/api/cases/${encodeURIComponent(id)}`, { signal })
export const fetchCategories = () => getJson<{ categories: ServerCategory[] }>('/api/categories')

/** The region chain of a point, district first; [] outside every region. */
export async function resolvePoint(lon: number, lat: number, signal?: AbortSignal): Promise<RegionRef[]> {
  try {
    return (await getJson<{ regions: RegionRef[] }>(`/api/regions/resolve?lon=${lon}&lat=${lat}`, { signal })).regions
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) return []
    throw err
  }
}

export async function fetchNearby(lon: number, lat: number, category: string | null, signal?: AbortSignal): Promise<NearbyCase[]> {
  const q = new URLSearchParams({ lon: String(lon), lat: String(lat), radiusM: '50' })
  if (category) q.set('category', category)
  return (await getJson<{ cases: NearbyCase[] }>(`/api/cases/nearby?${q}`, { signal })).cases
}

/** A photo behind the session (GET /api/photos/:id needs the Bearer token an <img> cannot send). */
export async function fetchPhoto(url: string, signal?: AbortSignal): Promise<Blob> {
  const res = await apiFetch(url, { signal, headers: { accept: 'image/*' } })
  if (!res.ok) throw new HttpError(res.status, `GET ${url} → ${res.status}`)
  return res.blob()
}

/** What the server answered to a write: a status and its JSON (or null), or a network failure (status 0). */
export interface Answer {
  status: number
  body: Record<string, unknown> | null
}

export async function send(method: 'POST', url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  let res: Response
  try {
    res = await apiFetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  } catch {
    return { status: 0, body: null }
  }
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null }
}

/** POST /api/photos: the ids of the stored photos, in order; a status-0 Answer when the link is down. */
export async function uploadPhotos(blobs: readonly Blob[]): Promise<{ ids: string[] } | Answer> {
  const form = new FormData()
  blobs.forEach((b, i) => form.append('photos', b, `photo-${i + 1}.${b.type === 'image/png' ? 'png' : 'jpg'}`))
  let res: Response
  try {
    res = await apiFetch('/api/photos', { method: 'POST', body: form })
  } catch {
    return { status: 0, body: null }
  }
  const body = (await res.json().catch(() => null)) as { photos?: Array<{ id: string }> } & Record<string, unknown> | null
  if (res.ok && body?.photos) return { ids: body.photos.map((p) => p.id) }
  return { status: res.status, body }
}
