/**
 * HTTP calls of the drill-down and the dispatcher's workspace (issue #8), through apiFetch (Bearer when signed in).
 * Stores call these; components never do.
 */
import type { CaseAction } from '../../../shared/domain/case-lifecycle.ts'
import type { Case, CaseConflict, CaseDetail } from '../../../shared/schemas/case.ts'
import type { BulkActionBody, BulkResult, Candidates } from '../../../shared/schemas/dispatch.ts'
import { apiFetch, getJson } from './http.ts'

export const fetchCaseDetail = (id: string, signal?: AbortSignal) => getJson<CaseDetail>(`/api/cases/${encodeURIComponent(id)}`, { signal })

export const fetchCandidates = (id: string, params: { limit?: number; radiusM?: number; status?: string } = {}, signal?: AbortSignal) => {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v))
  return getJson<Candidates>(`/api/cases/${encodeURIComponent(id)}/candidates?${q}`, { signal })
}

/** An action's outcome: the case after it, a conflict (412: who changed what, the case now), or another refusal. */
export type ActionOutcome =
  | { kind: 'ok'; case: Case }
  | { kind: 'conflict'; conflict: CaseConflict }
  | { kind: 'error'; status: number; error: string; message: string; field?: string }

export async function postCaseAction(id: string, action: CaseAction, version: number, body: Record<string, unknown>): Promise<ActionOutcome> {
  const res = await apiFetch(`/api/cases/${encodeURIComponent(id)}/actions/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'if-match': `"${version}"` },
    body: JSON.stringify(body),
  })
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>
  if (res.ok) return { kind: 'ok', case: json as unknown as Case }
  if (res.status === 412) return { kind: 'conflict', conflict: json as unknown as CaseConflict }
  return { kind: 'error', status: res.status, error: String(json.error ?? res.status), message: String(json.message ?? res.statusText), field: json.field as string | undefined }
}

export async function postBulk(body: BulkActionBody): Promise<BulkResult> {
  const res = await apiFetch('/api/cases/actions/bulk', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>
  if (!res.ok) throw new Error(String(json.message ?? `${res.status}`))
  return json as unknown as BulkResult
}
