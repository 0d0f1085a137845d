import type { Queryable } from '../db/types.ts'

/** NOTIFY channel that wakes the relay; it carries no payload (the log is the source of truth). */
export const EVENTS_CHANNEL = 'gc_events'

export interface LoggedEvent {
  seq: number
  kind: string
  regionPath: string | null
  payload: Record<string, unknown>
}

/**
 * Appends to the event log inside the caller's transaction and notifies on commit (a rolled-back transaction
 * notifies nobody and logs nothing).
 */
export async function appendEvent(tx: Queryable, kind: string, regionPath: string | null, payload: object): Promise<number> {
  const { rows } = await tx.query<{ seq: number }>(
    'INSERT INTO events (kind, region_path, payload) VALUES ($1, $2::ltree, $3::jsonb) RETURNING seq',
    [kind, regionPath, JSON.stringify(payload)],
  )
  await tx.query(`SELECT pg_notify('${EVENTS_CHANNEL}', '')`)
  return rows[0].seq
}

export async function eventsAfter(q: Queryable, afterSeq: number, limit: number): Promise<LoggedEvent[]> {
  const { rows } = await q.query<LoggedEvent>(
    `SELECT seq, kind, region_path::text AS "regionPath", payload FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`,
    [afterSeq, limit],
  )
  return rows
}

export async function lastEventSeq(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ seq: number }>('SELECT coalesce(max(seq), 0)::bigint AS seq FROM events')
  return rows[0].seq
}
