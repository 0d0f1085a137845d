/**
 * The cases a phone works with, kept live: the signed-in user's reach (GET /api/cases is scoped by the server — a
 * grid worker's grid and what is assigned to them, an inspector's area, a resident's own reports and the cases they
 * follow), then every change over the event stream (shared/protocol/stream.ts, the wall's code) with the personal
 * channel (`mine`: assigned to me, taken from me, reported or followed by me) on top of the region scope.
 *
 * The last list is kept on the phone (lib/db.ts cache): the app shows it at once, also with no network, and the
 * stream or a reload brings it up to date. Coming back to the front reloads it (a phone asleep for an hour may have
 * lost its socket long ago; the stream resumes from its position either way).
 */
import { defineStore } from 'pinia'
import { io, type Socket } from 'socket.io-client'
import { computed, ref, shallowRef, triggerRef } from 'vue'
import { FINAL_STATUSES } from '../../../../shared/domain/case-status.ts'
import type { ClientToServerEvents, FrameEvent, Scope, ServerToClientEvents } from '../../../../shared/protocol/events.ts'
import { attachEventStream, type EventStream } from '../../../../shared/protocol/stream.ts'
import type { Case, CaseDetail } from '../../../../shared/schemas/case.ts'
import type { SessionUser } from '../../stores/session.ts'
import { useSessionStore } from '../../stores/session.ts'
import { useProfileStore } from './profile.ts'
import { fetchCase, fetchCases } from '../api/field.ts'
import { readCache, writeCache } from '../lib/db.ts'
import { alertUser } from '../lib/notify.ts'

export type LiveState = 'offline' | 'syncing' | 'live'

/** A notice for the worker: a new task, a case sent back, one close to its limit. */
export interface FieldNotice {
  id: number
  kind: 'assigned' | 'sent_back' | 'near_limit' | 'updated'
  caseId: string
  code: string
  at: number
}

/** Open cases and those closed in the last 30 days: what a phone lists. */
const LIST_QUERY = 'status=reported,registered,dispatched,in_progress,handled,verified,closed,rated,rejected,merged&limit=500'
const FINAL = new Set<string>(FINAL_STATUSES)
/** A limit this close (share used) raises a notice once per case. */
export const NEAR_LIMIT_SHARE = 0.8

export function actorOf(u: Pick<SessionUser, 'username' | 'workerId'>): string {
  return u.workerId ?? u.username
}

/** What the stream follows for this user: their area (a grid worker's grid, an inspector's street) and their own cases. */
export function fieldScope(u: SessionUser): Scope {
  return { regions: u.scopeRegionId ? [u.scopeRegionId] : [], mine: true } as Scope
}

export const useFieldStore = defineStore('field', () => {
  const session = useSessionStore()
  /** The phone's user: the session's, or offline the one kept from it (the lists are that user's). */
  const profile = useProfileStore()
  const cases = shallowRef(new Map<string, Case>())
  const details = shallowRef(new Map<string, CaseDetail>())
  const loaded = ref(false)
  const loading = ref(false)
  const error = ref<string | null>(null)
  const live = ref<LiveState>('offline')
  const notices = ref<FieldNotice[]>([])
  /** Notices not yet seen (the badge on the tasks tab). */
  const unseen = ref(0)
  let position: number | null = null
  let socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null
  let stream: EventStream | null = null
  let noticeSeq = 0
  const warned = new Set<string>()

  const me = computed(() => (profile.user ? actorOf(profile.user) : null))
  const list = computed(() => [...cases.value.values()].sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt)))

  /** Grid worker: assigned to me, or in my grid with nobody named yet; open and not yet handled. */
  const inbox = computed(() =>
    list.value
      .filter((c) => ['dispatched', 'in_progress'].includes(c.status) && (c.assigneeId === me.value || (c.assigneeId === null && c.regions.some((r) => r.id === profile.user?.scopeRegionId))))
      .sort((a, b) => (a.dueAt ? Date.parse(a.dueAt) : Infinity) - (b.dueAt ? Date.parse(b.dueAt) : Infinity)),
  )
  /** Inspector / leader: handled in my area, waiting for verification, the oldest first. */
  const toVerify = computed(() => list.value.filter((c) => c.status === 'handled').sort((a, b) => Date.parse(a.updatedAt) - Date.parse(b.updatedAt)))
  /** What I reported (and followed: the server lists what it lets me read). */
  const mine = computed(() => list.value.filter((c) => c.reporter === me.value || profile.user?.role === 'resident'))

  const cacheKey = () => `cases:${profile.user?.username ?? ''}`

  function put(c: Case): void {
    const prev = cases.value.get(c.id)
    if (prev && prev.version > c.version) return
    cases.value.set(c.id, c)
    const d = details.value.get(c.id)
    if (d && d.version < c.version) details.value.delete(c.id)
    triggerRef(cases)
  }

  function notice(kind: FieldNotice['kind'], c: Case): void {
    notices.value = [{ id: ++noticeSeq, kind, caseId: c.id, code: c.code, at: Date.now() }, ...notices.value].slice(0, 20)
    unseen.value++
    alertUser(kind === 'near_limit' ? 'warning' : 'task')
  }

  function apply(e: FrameEvent): void {
    if (e.kind !== 'case:created' && e.kind !== 'case:updated') return
    const c = e.case
    if (!c?.id) return
    const before = cases.value.get(c.id)
    put(c)
    void writeCache(cacheKey(), [...cases.value.values()])
    if (!me.value || e.kind !== 'case:updated') return
    const mineNow = c.assigneeId === me.value
    if ((e.action === 'dispatch' || e.action === 'reassign') && mineNow && before?.assigneeId !== me.value) notice('assigned', c)
    else if (e.action === 'send_back' && (mineNow || c.reporter === me.value || e.entry?.data?.handlerId === me.value)) notice('sent_back', c)
  }

  async function load(): Promise<number> {
    if (!session.user) return 0
    loading.value = true
    try {
      const res = await fetchCases(LIST_QUERY)
      const next = new Map<string, Case>()
      for (const c of res.cases) next.set(c.id, c)
      cases.value = next
      loaded.value = true
      error.value = null
      void writeCache(cacheKey(), res.cases)
      return res.seq
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err)
      throw err
    } finally {
      loading.value = false
    }
  }

  /** The last list kept on this phone, before the network answers (or when it never does). */
  async function loadCached(): Promise<void> {
    const kept = await readCache<Case[]>(cacheKey()).catch(() => undefined)
    if (kept && !loaded.value) {
      cases.value = new Map(kept.map((c) => [c.id, c]))
      loaded.value = true
    }
  }

  async function detail(id: string, fresh = false): Promise<CaseDetail> {
    const have = details.value.get(id)
    if (have && !fresh && (cases.value.get(id)?.version ?? 0) <= have.version) return have
    try {
      const d = await fetchCase(id)
      details.value.set(id, d)
      triggerRef(details)
      put(d)
      void writeCache(`case:${id}`, d)
      return d
    } catch (err) {
      const kept = have ?? (await readCache<CaseDetail>(`case:${id}`).catch(() => undefined))
      if (kept) return kept
      throw err
    }
  }

  /** Cases close to their limit raise one notice each (checked every half minute by App.vue). */
  function checkLimits(now = Date.now()): void {
    for (const c of inbox.value) {
      if (!c.dueAt || warned.has(c.id) || c.assigneeId !== me.value) continue
      const start = Date.parse(c.stages.dispatchedAt ?? c.reportedAt)
      const share = (now - start) / (Date.parse(c.dueAt) - start)
      if (share >= NEAR_LIMIT_SHARE) {
        warned.add(c.id)
        notice('near_limit', c)
      }
    }
  }

  function markSeen(): void {
    unseen.value = 0
  }

  function connect(): void {
    disconnect()
    const user = session.user
    if (!user) return
    socket = io({
      transports: ['websocket', 'polling'],
      auth: (cb: (d: object) => void) => {
        const token = session.token()
        cb(token ? { token } : {})
      },
    })
    socket.on('connect_error', (err) => {
      if (err.message === 'invalid_token') void session.refresh().catch(() => false).then(() => socket?.connect())
    })
    stream = attachEventStream(socket, {
      getPosition: () => position,
      setPosition: (seq) => (position = seq),
      apply,
      snapshot: () => load(),
      onStatus: (s) => (live.value = s),
      onError: (err) => console.warn('[field] live link:', err instanceof Error ? err.message : err),
    }, { scope: fieldScope(user) })
  }

  function disconnect(): void {
    stream?.detach()
    socket?.removeAllListeners()
    socket?.disconnect()
    stream = null
    socket = null
    position = null
    live.value = 'offline'
  }

  /** Signed out, or another user: nothing of the last one stays on screen. */
  function reset(): void {
    disconnect()
    cases.value = new Map()
    details.value = new Map()
    loaded.value = false
    notices.value = []
    unseen.value = 0
    warned.clear()
  }

  /** The app came back to the front: the list again from the server (the stream resumes by itself). */
  async function wake(): Promise<void> {
    if (!session.user) return
    if (socket && !socket.connected) socket.connect()
    await load().catch(() => {})
  }

  const isFinal = (c: Case) => FINAL.has(c.status)

  return { cases, list, inbox, toVerify, mine, loaded, loading, error, live, notices, unseen, me, put, load, loadCached, detail, checkLimits, markSeen, connect, disconnect, reset, wake, isFinal }
})
