/**
 * Cases held by the page, by id. Two writers: `load()` (HTTP snapshot of the open cases, with the event-log position
 * it reflects) and `upsert()` (events from realtime/socket.ts, in log order, each applied once). Both are idempotent by
 * id and never go back to an older version, so a case that arrives by event and again in a snapshot is held — and
 * counted — once.
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, triggerRef } from 'vue'
import { isOpenStatus } from '../../../shared/domain/case-status.ts'
import type { Case } from '../../../shared/schemas/case.ts'
import { fetchOpenCasesSnapshot } from '../api/http.ts'
import { useConnectionStore } from './connection.ts'

/** How long a case that just arrived counts as "new" (map pulse, list highlight). */
export const NEW_CASE_WINDOW_MS = 10_000

function newestFirst(a: Case, b: Case): number {
  const d = Date.parse(b.reportedAt) - Date.parse(a.reportedAt)
  return d !== 0 ? d : b.code.localeCompare(a.code)
}

export const useCasesStore = defineStore('cases', () => {
  /** Mutated in place, then triggerRef: cheaper than copying the Map on every event. */
  const byId = shallowRef(new Map<string, Case>())
  /** Client time (ms) at which a case arrived live (an event, or a resync after the first snapshot): drives the "new" effects. */
  const arrivals = shallowRef(new Map<string, number>())
  /** Bumped on every change; the map layer watches this instead of the collections. */
  const revision = ref(0)
  const loaded = ref(false)
  const loading = ref(false)
  const error = ref<string | null>(null)

  let loadToken = 0
  /** Ids upserted while a snapshot request is in flight: kept even if the snapshot predates them. */
  let touchedDuringLoad: Set<string> | null = null

  const openCases = computed(() => {
    void revision.value
    const out: Case[] = []
    for (const c of byId.value.values()) if (isOpenStatus(c.status)) out.push(c)
    return out
  })
  const openCount = computed(() => openCases.value.length)
  /** Open cases, newest report first. */
  const recent = computed(() => [...openCases.value].sort(newestFirst))

  function changed(): void {
    triggerRef(byId)
    revision.value++
  }

  /** Adds or updates one case. Returns true when the case was not held before. */
  function upsert(c: Case): boolean {
    touchedDuringLoad?.add(c.id)
    const held = byId.value.get(c.id)
    if (held && held.version >= c.version) return false
    byId.value.set(c.id, c)
    if (!held) {
      arrivals.value.set(c.id, Date.now())
      triggerRef(arrivals)
    }
    changed()
    return !held
  }

  function get(id: string): Case | undefined {
    return byId.value.get(id)
  }

  /** When the case arrived live (client ms), or undefined for cases from the first snapshot. */
  function arrivedAt(id: string): number | undefined {
    return arrivals.value.get(id)
  }

  function isNew(id: string, nowMs: number = Date.now()): boolean {
    const at = arrivals.value.get(id)
    return at !== undefined && nowMs - at < NEW_CASE_WINDOW_MS
  }

  /** Event-log position of the last snapshot applied (null before the first). */
  const snapshotSeq = ref<number | null>(null)
  /** Loads run one after the other; a call while one runs shares it (or, for `replace`, queues behind it). */
  let inflight: Promise<number> | null = null
  let inflightReplace = false

  /**
   * Loads the server's open cases; resolves with the event-log position the snapshot reflects.
   *
   * Default (first load, a late retry): merged with what is held — a held newer version stays, cases upserted while
   * the request was in flight stay — and, if the page has already applied events past the snapshot's position,
   * nothing held is dropped (the snapshot is older than the page).
   * `replace: true` (the server said reset: the page may have missed events): the snapshot is the truth.
   */
  function load(opts: { replace?: boolean } = {}): Promise<number> {
    const replace = opts.replace ?? false
    if (inflight && (inflightReplace || !replace)) return inflight
    const after = inflight?.catch(() => {}) ?? Promise.resolve()
    const p = after.then(() => loadNow(replace))
    inflight = p
    inflightReplace = replace
    const clear = () => {
      if (inflight === p) inflight = null
    }
    p.then(clear, clear)
    return p
  }

  async function loadNow(replace: boolean): Promise<number> {
    const token = ++loadToken
    touchedDuringLoad = new Set()
    loading.value = true
    try {
      const { cases: fetched, seq } = await fetchOpenCasesSnapshot()
      const connection = useConnectionStore()
      const olderThanPage = !replace && connection.positioned && connection.lastSeq > seq
      const prev = byId.value
      const next = olderThanPage ? new Map(prev) : new Map<string, Case>()
      const now = Date.now()
      for (const c of fetched) {
        const held = prev.get(c.id)
        next.set(c.id, !replace && held && held.version > c.version ? held : c)
        if (!held && loaded.value) arrivals.value.set(c.id, now)
      }
      for (const id of touchedDuringLoad) {
        const held = prev.get(id)
        if (held && !next.has(id)) next.set(id, held)
      }
      for (const id of [...arrivals.value.keys()]) {
        if (!next.has(id) || now - arrivals.value.get(id)! > NEW_CASE_WINDOW_MS * 6) arrivals.value.delete(id)
      }
      byId.value = next
      triggerRef(arrivals)
      revision.value++
      loaded.value = true
      snapshotSeq.value = seq
      error.value = null
      return seq
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err)
      throw err
    } finally {
      if (token === loadToken) {
        loading.value = false
        touchedDuringLoad = null
      }
    }
  }

  return { byId, arrivals, revision, loaded, loading, error, snapshotSeq, openCases, openCount, recent, upsert, get, arrivedAt, isNew, load }
})
