/**
 * The outbox (待发送): every report, action, check-in and "me too" the user makes goes here first — into IndexedDB,
 * photos included — and is sent from here, in the order it was made, when the server can be reached. Nothing the user
 * made is lost or done twice:
 *
 * - Each item carries the Idempotency-Key made on the phone when it was made, and sends it every time: a request whose
 *   answer was lost on the way back is answered again by the server with the first answer (Idempotent-Replayed), never
 *   done a second time. Its original time goes with it as `madeAt`.
 * - Photos are uploaded first, and their ids kept in the item: a retry does not upload them again.
 * - No answer (offline, a dropped link), 408/429/5xx or an Idempotency-Key still in progress: the item stays, the
 *   sending stops (later items wait: the order is kept) and is tried again with a growing pause — and at once when
 *   the phone comes online, the app comes to the front or the user taps "send now".
 * - A refusal (400/403/404/409/412/422) is kept with the server's reason and shown until the user fixes or discards
 *   it; the items after it go on.
 * - An action made on a version of a case that an earlier item of this phone then moved on is sent on the new
 *   version (the phone's own chain of steps: accept, then handle); a colleague's change in between is a 412, shown.
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, toRaw } from 'vue'
import type { CaseAction } from '../../../../shared/domain/case-lifecycle.ts'
import type { Case } from '../../../../shared/schemas/case.ts'
import { send, uploadPhotos, type Answer } from '../api/field.ts'
import { deleteOutbox, outboxOf, putOutbox, type OutboxItem, type OutboxKind, type Refusal } from '../lib/db.ts'

/** Statuses after which the same request, sent again unchanged, may well succeed. */
const TRANSIENT = new Set([0, 408, 425, 429, 500, 502, 503, 504])
const RETRY_MIN_MS = 2_000
const RETRY_MAX_MS = 60_000

export interface NewItem {
  kind: OutboxKind
  title: string
  body: Record<string, unknown>
  photos?: Record<string, Blob[]>
  caseId?: string
  caseCode?: string
  action?: CaseAction
  version?: number
}

/** What became of a sent item (the stores that show cases take the case from it). */
export interface Delivered {
  item: OutboxItem
  status: number
  body: Record<string, unknown>
}

const newKey = () => (typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`)

export const useOutboxStore = defineStore('outbox', () => {
  const owner = ref<string | null>(null)
  const items = shallowRef<OutboxItem[]>([])
  const sending = ref(false)
  /** The last send attempt found no server (offline or unreachable). */
  const unreachable = ref(false)
  /** Items sent since the app started (tests and the status line read it). */
  const sent = ref(0)
  const pending = computed(() => items.value.filter((i) => i.state === 'pending'))
  const refused = computed(() => items.value.filter((i) => i.state === 'refused'))

  const listeners: Array<(d: Delivered) => void> = []
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let retryMs = RETRY_MIN_MS
  let running: Promise<void> | null = null
  let again = false

  async function reload(): Promise<void> {
    items.value = owner.value ? await outboxOf(owner.value) : []
  }

  /** The signed-in user's outbox (another user's items on the same phone are neither shown nor sent). */
  async function open(username: string | null): Promise<void> {
    owner.value = username
    await reload()
    if (username) void flush()
  }

  async function enqueue(n: NewItem): Promise<OutboxItem> {
    if (!owner.value) throw new Error('not signed in')
    const item = await putOutbox({
      key: newKey(),
      owner: owner.value,
      kind: n.kind,
      madeAt: new Date().toISOString(),
      title: n.title,
      caseId: n.caseId,
      caseCode: n.caseCode,
      action: n.action,
      version: n.version,
      // Plain copies: IndexedDB clones what it stores, and a Vue proxy (a form's reactive state) cannot be cloned.
      body: JSON.parse(JSON.stringify(n.body)) as Record<string, unknown>,
      photos: Object.fromEntries(Object.entries(n.photos ?? {}).map(([group, blobs]) => [group, [...toRaw(blobs)].map((b) => toRaw(b))])),
      photoIds: {},
      state: 'pending',
      attempts: 0,
    })
    await reload()
    void flush()
    return item
  }

  async function discard(seq: number): Promise<void> {
    await deleteOutbox(seq)
    await reload()
  }

  /** A refused item sent again as it is (after the user fixed what was wrong elsewhere), or with a new body/version. */
  async function retry(seq: number, change: { body?: Record<string, unknown>; version?: number } = {}): Promise<void> {
    const item = items.value.find((i) => i.seq === seq)
    if (!item) return
    await putOutbox({ ...item, ...(change.body ? { body: JSON.parse(JSON.stringify(change.body)) } : {}), ...(change.version !== undefined ? { version: change.version } : {}), state: 'pending', refusal: undefined })
    await reload()
    retryMs = RETRY_MIN_MS
    void flush()
  }

  /** Calls `fn` for every item the server took; returns the function that stops it. */
  /** A refused item the user corrected (a report moved into a grid, a text fixed): sent again with the same key. */
  async function replace(seq: number, change: { title: string; body: Record<string, unknown>; photos: Record<string, Blob[]> }): Promise<void> {
    const item = items.value.find((i) => i.seq === seq)
    if (!item) return
    await putOutbox({
      ...item,
      title: change.title,
      body: JSON.parse(JSON.stringify(change.body)) as Record<string, unknown>,
      photos: Object.fromEntries(Object.entries(change.photos).map(([group, blobs]) => [group, [...toRaw(blobs)].map((b) => toRaw(b))])),
      photoIds: {},
      state: 'pending',
      refusal: undefined,
    })
    await reload()
    retryMs = RETRY_MIN_MS
    void flush()
  }

  function onDelivered(fn: (d: Delivered) => void): () => void {
    listeners.push(fn)
    return () => {
      const i = listeners.indexOf(fn)
      if (i >= 0) listeners.splice(i, 1)
    }
  }

  function schedule(): void {
    clearTimeout(retryTimer)
    retryTimer = setTimeout(() => void flush(), retryMs)
    retryMs = Math.min(RETRY_MAX_MS, retryMs * 2)
  }

  /** Sends the pending items in order until one cannot be sent now. Single-flight: a call meanwhile runs once more. */
  function flush(): Promise<void> {
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      sending.value = true
      try {
        do {
          again = false
          await sendAll()
        } while (again)
      } finally {
        sending.value = false
        running = null
      }
    })()
    return running
  }

  /** Now, not at the next retry (the app came online or to the front; the user tapped "send now"). */
  function kick(): void {
    retryMs = RETRY_MIN_MS
    void flush()
  }

  async function sendAll(): Promise<void> {
    if (!owner.value) return
    const queue = await outboxOf(owner.value)
    for (const original of queue) {
      if (original.state !== 'pending') continue
      // The item may have been changed meanwhile (a version moved on by an earlier item): read it again.
      const item = (await outboxOf(owner.value)).find((i) => i.seq === original.seq)
      if (!item || item.state !== 'pending') continue
      const outcome = await sendOne(item)
      if (outcome === 'wait') {
        unreachable.value = true
        await reload()
        schedule()
        return
      }
      unreachable.value = false
    }
    retryMs = RETRY_MIN_MS
    await reload()
  }

  async function refuse(item: OutboxItem, a: Answer): Promise<void> {
    const b = a.body ?? {}
    const refusal: Refusal = {
      status: a.status,
      code: typeof b.error === 'string' ? b.error : Array.isArray(b) ? 'refused' : String(a.status),
      message: typeof b.message === 'string' ? b.message : String(a.status),
      ...(typeof b.field === 'string' ? { field: b.field } : {}),
    }
    await putOutbox({ ...item, state: 'refused', refusal })
  }

  /** 'done' (sent or refused: go on with the next) or 'wait' (cannot be sent now: stop, keep the order). */
  async function sendOne(item: OutboxItem): Promise<'done' | 'wait'> {
    const tried = { ...item, attempts: item.attempts + 1, lastTriedAt: new Date().toISOString() }
    // Photos first, each group once.
    for (const [group, blobs] of Object.entries(item.photos)) {
      if (!blobs.length || tried.photoIds[group]) continue
      const up = await uploadPhotos(blobs)
      if ('ids' in up) {
        tried.photoIds = { ...tried.photoIds, [group]: up.ids }
        await putOutbox(tried)
        continue
      }
      if (TRANSIENT.has(up.status) || up.status === 401) {
        await putOutbox(tried)
        return 'wait'
      }
      await refuse(tried, up)
      return 'done'
    }
    const { url, body } = requestOf(tried)
    const headers: Record<string, string> = { 'idempotency-key': `"${tried.key}"` }
    if (tried.kind === 'action' && tried.version !== undefined) headers['if-match'] = `"${tried.version}"`
    const a = await send('POST', url, body, headers)
    if (a.status >= 200 && a.status < 300) {
      await deleteOutbox(tried.seq!)
      sent.value++
      await moveVersionsOn(tried, a.body)
      for (const fn of listeners) fn({ item: tried, status: a.status, body: a.body ?? {} })
      return 'done'
    }
    if (TRANSIENT.has(a.status) || a.status === 401 || (a.status === 409 && a.body?.error === 'idempotency_in_progress')) {
      await putOutbox(tried)
      return 'wait'
    }
    await refuse(tried, a)
    return 'done'
  }

  /** After an item changed a case, this phone's later actions on it go on the new version. */
  async function moveVersionsOn(item: OutboxItem, body: Record<string, unknown> | null): Promise<void> {
    const c = (body?.case ?? body) as Partial<Case> | null
    if (!c?.id || typeof c.version !== 'number') return
    for (const later of await outboxOf(item.owner)) {
      if (later.seq! > item.seq! && later.kind === 'action' && later.caseId === c.id && later.state === 'pending') {
        await putOutbox({ ...later, version: c.version })
      }
    }
  }

  return { owner, items, pending, refused, sending, unreachable, sent, open, enqueue, discard, retry, replace, flush, kick, onDelivered, reload }
})

/** The request an item makes: its URL and its body with the photo ids and `madeAt`. */
export function requestOf(item: OutboxItem): { url: string; body: Record<string, unknown> } {
  const body: Record<string, unknown> = { ...item.body, madeAt: item.madeAt }
  const main = item.photoIds.main
  if (main?.length) body.photos = main
  if (item.photoIds.after?.length && body.selfHandled) body.selfHandled = { ...(body.selfHandled as object), photos: item.photoIds.after }
  switch (item.kind) {
    case 'report':
      return { url: '/api/cases', body }
    case 'action':
      return { url: `/api/cases/${encodeURIComponent(item.caseId!)}/actions/${item.action}`, body }
    case 'checkin':
      return { url: '/api/checkins', body }
    case 'supplement':
      return { url: `/api/cases/${encodeURIComponent(item.caseId!)}/supplements`, body }
  }
}
