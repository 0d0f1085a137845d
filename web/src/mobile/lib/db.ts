/**
 * The phone's own store (IndexedDB through `idb`): the outbox — everything the user made that the server has not
 * confirmed yet, photos included as Blobs — and a cache of what the app last read (lists, case details, categories)
 * so that it opens and shows them with no network. Nothing here is shared between users of the same phone: every
 * row names its owner, and the app reads only the signed-in user's.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'
import type { CaseAction } from '../../../../shared/domain/case-lifecycle.ts'

export type OutboxKind = 'report' | 'action' | 'checkin' | 'supplement'

/** Why the server refused an item (kept until the user fixes or discards it). */
export interface Refusal {
  status: number
  code: string
  message: string
  field?: string
}

export interface OutboxItem {
  /** Order of making (IndexedDB key): items are sent in this order. */
  seq?: number
  /** The Idempotency-Key the item is sent with, every time: made on the phone when the item was made. */
  key: string
  owner: string
  kind: OutboxKind
  /** When the user made it (sent as `madeAt`). */
  madeAt: string
  /** One line for the outbox list. */
  title: string
  /** Actions and supplements: the case; reports once sent: the case they became. */
  caseId?: string
  caseCode?: string
  action?: CaseAction
  /** The case version the action was made on (If-Match); moved on when an earlier item of this phone changed it. */
  version?: number
  /** The JSON body, without the photo ids (added when sending). */
  body: Record<string, unknown>
  /** Photos by group: `main` goes into body.photos, `after` into body.selfHandled.photos. */
  photos: Record<string, Blob[]>
  /** Ids of the groups already uploaded (a retry does not upload them again). */
  photoIds: Record<string, string[]>
  state: 'pending' | 'refused'
  refusal?: Refusal
  attempts: number
  lastTriedAt?: string
}

export interface CacheRow {
  key: string
  value: unknown
  at: number
}

interface FieldDb extends DBSchema {
  outbox: { key: number; value: OutboxItem; indexes: { owner: string } }
  cache: { key: string; value: CacheRow }
}

let db: Promise<IDBPDatabase<FieldDb>> | null = null

export function fieldDb(): Promise<IDBPDatabase<FieldDb>> {
  db ??= openDB<FieldDb>('gridcommand-field', 1, {
    upgrade(d) {
      const outbox = d.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true })
      outbox.createIndex('owner', 'owner')
      d.createObjectStore('cache', { keyPath: 'key' })
    },
  })
  return db
}

export async function outboxOf(owner: string): Promise<OutboxItem[]> {
  const all = await (await fieldDb()).getAllFromIndex('outbox', 'owner', owner)
  return all.sort((a, b) => a.seq! - b.seq!)
}

export async function putOutbox(item: OutboxItem): Promise<OutboxItem> {
  const seq = await (await fieldDb()).put('outbox', item)
  return { ...item, seq }
}

export async function deleteOutbox(seq: number): Promise<void> {
  await (await fieldDb()).delete('outbox', seq)
}

export async function readCache<T>(key: string): Promise<T | undefined> {
  return ((await (await fieldDb()).get('cache', key))?.value as T | undefined) ?? undefined
}

/** Keeps a JSON copy (what is cached is API data; a copy also drops any Vue proxy, which IndexedDB cannot clone). */
export async function writeCache(key: string, value: unknown): Promise<void> {
  await (await fieldDb()).put('cache', { key, value: JSON.parse(JSON.stringify(value)), at: Date.now() })
}
