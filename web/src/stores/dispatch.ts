/**
 * The dispatcher's workspace (issue #8): the queue (open cases from stores/cases.ts, filtered, sorted by time left),
 * the selected case's detail and candidates, the conflict of the last action, the cases ticked for bulk dispatch.
 *
 * Live: the queue is the cases store, which realtime/socket.ts keeps current. When the selected case changes
 * under us (a newer version arrives), its detail and candidates are reloaded: the dispatcher always acts on what
 * they see, and an action on an older version comes back as a conflict saying who changed what — never a silent
 * overwrite.
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, toRaw, watch } from 'vue'
import { categoryFamily } from '../../../shared/domain/categories.ts'
import type { CaseAction } from '../../../shared/domain/case-lifecycle.ts'
import type { Case, CaseConflict, CaseDetail } from '../../../shared/schemas/case.ts'
import type { BulkAction, BulkResult, Candidates } from '../../../shared/schemas/dispatch.ts'
import { fetchCandidates, fetchCaseDetail, postBulk, postCaseAction, type ActionOutcome } from '../api/dispatch.ts'
import { HttpError } from '../api/http.ts'
import { t } from '../i18n.ts'
import { useCasesStore } from './cases.ts'

export interface QueueFilters {
  status: string
  category: string
  priority: string
  /** '' all, 'yes' overdue only, 'no' not overdue */
  overdue: '' | 'yes' | 'no'
  /** a region id at any level: the case's chain passes through it */
  region: string
  source: string
}

/** A failed load of the selected case is tried again after this long, then twice as long, up to the maximum. */
export const DETAIL_RETRY_MS = 2000
export const DETAIL_RETRY_MAX_MS = 30_000

export const EMPTY_FILTERS: QueueFilters = { status: '', category: '', priority: '', overdue: '', region: '', source: '' }

/** Seconds left on the case's clock at `nowMs`; null when the clock does not run (handled and later). */
export function secondsLeft(c: Case, nowMs: number): number | null {
  if (c.timeLeftSeconds === null || c.dueAt === null) return null
  return Math.floor((Date.parse(c.dueAt) - nowMs) / 1000)
}

/** Time left first (overdue = negative, most overdue on top); cases whose clock stopped last; then the newest. */
export function byTimeLeft(a: Case, b: Case): number {
  const da = a.timeLeftSeconds === null || a.dueAt === null ? Infinity : Date.parse(a.dueAt)
  const db = b.timeLeftSeconds === null || b.dueAt === null ? Infinity : Date.parse(b.dueAt)
  if (da !== db) return da < db ? -1 : 1
  return b.reportedAt.localeCompare(a.reportedAt) || a.code.localeCompare(b.code)
}

export function matches(c: Case, f: QueueFilters, nowMs: number): boolean {
  if (f.status && c.status !== f.status) return false
  if (f.category && categoryFamily(c.category) !== f.category && c.category !== f.category) return false
  if (f.priority && c.priority !== f.priority) return false
  if (f.source && c.source !== f.source) return false
  if (f.region && !c.regions.some((r) => r.id === f.region)) return false
  if (f.overdue) {
    const left = secondsLeft(c, nowMs)
    const overdue = left !== null && left < 0
    if ((f.overdue === 'yes') !== overdue) return false
  }
  return true
}

/** The action that gives a case to a worker in its status (reported: register first). */
export function assignActionFor(status: Case['status']): 'dispatch' | 'reassign' | 'register' | null {
  if (status === 'registered') return 'dispatch'
  if (status === 'dispatched' || status === 'in_progress') return 'reassign'
  if (status === 'reported') return 'register'
  return null
}

export interface PendingConflict {
  conflict: CaseConflict
  /** What the dispatcher tried, to offer it again on the fresh version. */
  attempt: { kind: 'assign'; workerId: string } | { kind: 'escalate'; reason: string } | { kind: 'step'; action: 'close' | 'reopen'; body: Record<string, unknown> }
}

export const useDispatchStore = defineStore('dispatch', () => {
  const cases = useCasesStore()
  const filters = ref<QueueFilters>({ ...EMPTY_FILTERS })
  /** Bumped every second by the view (composables/use-now.ts): the overdue filter and the order follow the clock. */
  const clock = ref(Date.now())
  const selectedId = ref<string | null>(null)
  const detail = shallowRef<CaseDetail | null>(null)
  const candidates = shallowRef<Candidates | null>(null)
  const loadingDetail = ref(false)
  const busy = ref(false)
  const conflict = shallowRef<PendingConflict | null>(null)
  /** A line for the status bar: the last outcome (assigned, escalated, refused…). */
  const notice = ref<{ kind: 'ok' | 'error'; text: string } | null>(null)
  const checked = ref<Set<string>>(new Set())
  const lastBulk = shallowRef<BulkResult | null>(null)

  const queue = computed(() => {
    void cases.revision
    const now = clock.value
    return cases.openCases.filter((c) => matches(c, filters.value, now)).sort(byTimeLeft)
  })
  const selected = computed<Case | null>(() => {
    void cases.revision
    return selectedId.value ? (cases.get(selectedId.value) ?? detail.value) : null
  })

  let detailToken = 0
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  /** The notice a failed load put up (taken down again when a later load succeeds or another case is chosen). */
  let loadFailure: { kind: 'error'; text: string } | null = null
  function dropLoadFailure(): void {
    clearTimeout(retryTimer)
    if (loadFailure && toRaw(notice.value) === loadFailure) notice.value = null
    loadFailure = null
  }
  /**
   * Loads the selected case's detail and candidates. When the server cannot be reached or fails, the dispatcher is
   * told in their language and the load is tried again (DETAIL_RETRY_MS, doubling up to DETAIL_RETRY_MAX_MS) for as
   * long as the case stays selected; a case that is not there (404) or out of reach (403) is said so, not retried.
   */
  async function reload(id: string, retryMs = DETAIL_RETRY_MS): Promise<void> {
    const token = ++detailToken
    clearTimeout(retryTimer)
    loadingDetail.value = true
    try {
      const [d, k] = await Promise.all([fetchCaseDetail(id), fetchCandidates(id, { limit: 12 }).catch(() => null)])
      if (token !== detailToken) return
      detail.value = d
      candidates.value = k
      cases.upsert(d)
      dropLoadFailure()
    } catch (err) {
      if (token !== detailToken) return
      const gone = err instanceof HttpError && (err.status === 404 || err.status === 403)
      loadFailure = { kind: 'error', text: gone ? t('dispatch.detailGone') : t('dispatch.detailFailed', { seconds: Math.round(retryMs / 1000) }) }
      notice.value = loadFailure
      if (!gone) {
        retryTimer = setTimeout(() => {
          if (token === detailToken && selectedId.value === id) void reload(id, Math.min(retryMs * 2, DETAIL_RETRY_MAX_MS))
        }, retryMs)
      }
    } finally {
      if (token === detailToken) loadingDetail.value = false
    }
  }

  async function select(id: string | null): Promise<void> {
    if (id === selectedId.value && detail.value?.id === id) return
    selectedId.value = id
    detail.value = null
    candidates.value = null
    // Another case: the last one's failed load (and its retry) no longer concern the dispatcher.
    dropLoadFailure()
    if (id) await reload(id)
  }

  // Someone else changed the selected case (event → cases store): show the fresh state.
  watch(
    () => (selectedId.value ? cases.get(selectedId.value)?.version : undefined),
    (v) => {
      const d = detail.value
      if (v !== undefined && d && d.id === selectedId.value && v > d.version && !busy.value) void reload(d.id)
    },
  )

  function move(step: number): void {
    const q = queue.value
    if (q.length === 0) return
    const i = q.findIndex((c) => c.id === selectedId.value)
    const next = i < 0 ? (step > 0 ? 0 : q.length - 1) : Math.min(q.length - 1, Math.max(0, i + step))
    void select(q[next].id)
  }

  function applyOutcome(o: ActionOutcome, attempt: PendingConflict['attempt']): boolean {
    if (o.kind === 'ok') {
      cases.upsert(o.case)
      return true
    }
    if (o.kind === 'conflict') {
      if (o.conflict.case) cases.upsert(o.conflict.case)
      conflict.value = { conflict: o.conflict, attempt }
      return false
    }
    notice.value = { kind: 'error', text: `${o.error}: ${o.message}` }
    return false
  }

  /** Gives the selected case (at `version`, default the one shown) to `workerId`: dispatch, reassign, or register + dispatch. */
  async function assign(workerId: string, version?: number): Promise<boolean> {
    const c = detail.value
    if (!c || busy.value) return false
    busy.value = true
    conflict.value = null
    try {
      let v = version ?? c.version
      let status = c.status
      const attempt = { kind: 'assign' as const, workerId }
      if (assignActionFor(status) === 'register') {
        const r = await postCaseAction(c.id, 'register', v, {})
        if (!applyOutcome(r, attempt)) return false
        if (r.kind === 'ok') {
          v = r.case.version
          status = r.case.status
        }
      }
      const action = assignActionFor(status)
      if (action !== 'dispatch' && action !== 'reassign') {
        notice.value = { kind: 'error', text: t('dispatch.cannotAssign') }
        return false
      }
      const body: Record<string, unknown> = { assigneeId: workerId }
      if (c.department) body.department = c.department
      if (action === 'reassign') body.reason = t('dispatch.reassignReason')
      const r = await postCaseAction(c.id, action, v, body)
      if (!applyOutcome(r, attempt)) return false
      notice.value = { kind: 'ok', text: t('dispatch.assigned', { code: c.code, worker: workerName(workerId) }) }
      return true
    } finally {
      busy.value = false
      if (selectedId.value === c.id) await reload(c.id)
    }
  }

  async function escalate(reason: string = t('dispatch.escalateReason'), version?: number): Promise<boolean> {
    const c = detail.value
    if (!c || busy.value) return false
    busy.value = true
    conflict.value = null
    try {
      const r = await postCaseAction(c.id, 'escalate' as CaseAction, version ?? c.version, { reason })
      if (!applyOutcome(r, { kind: 'escalate', reason })) return false
      notice.value = { kind: 'ok', text: t('dispatch.escalated', { code: c.code }) }
      return true
    } finally {
      busy.value = false
      if (selectedId.value === c.id) await reload(c.id)
    }
  }

  /** A loop step on the selected case with no one to choose: close (结案) a verified case, reopen (重办) a rated one. */
  async function step(action: 'close' | 'reopen', body: Record<string, unknown> = {}, version?: number): Promise<boolean> {
    const c = detail.value
    if (!c || busy.value) return false
    busy.value = true
    conflict.value = null
    try {
      const r = await postCaseAction(c.id, action, version ?? c.version, body)
      if (!applyOutcome(r, { kind: 'step', action, body })) return false
      notice.value = { kind: 'ok', text: t(action === 'close' ? 'dispatch.closed' : 'dispatch.reopened', { code: c.code }) }
      return true
    } finally {
      busy.value = false
      if (selectedId.value === c.id) await reload(c.id)
    }
  }
  const close = (version?: number) => step('close', {}, version)
  const reopen = (reason: string = t('dispatch.reopenReason')) => step('reopen', { reason })

  /** Retries the conflicting attempt on the version the conflict reported (the dispatcher has seen the changes). */
  async function retryConflict(): Promise<void> {
    const p = conflict.value
    if (!p) return
    await reload(p.conflict.case?.id ?? detail.value!.id)
    const v = p.conflict.currentVersion
    conflict.value = null
    if (p.attempt.kind === 'assign') await assign(p.attempt.workerId, v)
    else if (p.attempt.kind === 'step') await step(p.attempt.action, p.attempt.body, v)
    else await escalate(p.attempt.reason, v)
  }

  /** Drops the dispatcher's action; the case is re-read so the screen shows the state that won. */
  function dismissConflict(): void {
    conflict.value = null
    if (selectedId.value) void reload(selectedId.value)
  }

  function workerName(id: string): string {
    return candidates.value?.workers.find((w) => w.id === id)?.name ?? id
  }

  function toggleChecked(id: string): void {
    const next = new Set(checked.value)
    if (next.has(id)) next.delete(id)
    else next.add(id)
    checked.value = next
  }

  /** Bulk: gives every ticked case to `workerId` (dispatch the registered ones, reassign the dispatched ones). */
  async function bulkAssign(workerId: string): Promise<BulkResult[]> {
    const picked = [...checked.value].map((id) => cases.get(id)).filter((c): c is Case => !!c)
    const groups = new Map<BulkAction, Case[]>()
    for (const c of picked) {
      const a = assignActionFor(c.status)
      if (a === 'dispatch' || a === 'reassign') groups.set(a, [...(groups.get(a) ?? []), c])
    }
    busy.value = true
    const out: BulkResult[] = []
    try {
      for (const [action, list] of groups) {
        const r = await postBulk({
          action,
          assigneeId: workerId,
          ...(action === 'reassign' ? { reason: t('dispatch.reassignReason') } : {}),
          items: list.map((c) => ({ id: c.id, version: c.version })),
        })
        for (const item of r.results) if (item.case) cases.upsert(item.case)
        out.push(r)
      }
      const ok = out.reduce((s, r) => s + r.succeeded, 0)
      const failed = out.reduce((s, r) => s + r.failed, 0) + (picked.length - [...groups.values()].flat().length)
      lastBulk.value = out[out.length - 1] ?? null
      notice.value = { kind: failed ? 'error' : 'ok', text: t('dispatch.bulkDone', { ok, failed }) }
      checked.value = new Set()
      return out
    } finally {
      busy.value = false
      if (selectedId.value) await reload(selectedId.value)
    }
  }

  return {
    filters, clock, queue, selectedId, selected, detail, candidates, loadingDetail, busy, conflict, notice, checked, lastBulk, close, reopen,
    select, reload, move, assign, escalate, retryConflict, dismissConflict, toggleChecked, bulkAssign, workerName,
  }
})
