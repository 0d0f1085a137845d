import type { Db, Queryable } from '../db/types.ts'

/** NOTIFY channel that wakes the relay; it carries no payload (the log is the source of truth). */
export const EVENTS_CHANNEL = 'gc_events'

export interface LoggedEvent {
  seq: number
  kind: string
  regionPath: string | null
  payload: Record<string, unknown>
  /** Whom the event is personal to (events.actors, migration 019): delivered to their `mine` channel. */
  actors: string[] | null
}

/** The distinct actors of a list, null when there are none (what events.actors stores). */
export function actorList(...actors: Array<string | null | undefined>): string[] | null {
  const set = [...new Set(actors.filter((a): a is string => typeof a === 'string' && a !== ''))]
  return set.length ? set : null
}

/**
 * Appends to the event log inside the caller's transaction and notifies on commit (a rolled-back transaction
 * notifies nobody and logs nothing). The seq is drawn by a trigger (migration 011), after the transaction has its id.
 */
export async function appendEvent(tx: Queryable, kind: string, regionPath: string | null, payload: object, actors: string[] | null = null): Promise<number> {
  // One round trip: the insert and the NOTIFY (delivered on commit only; PostgreSQL folds repeats within one
  // transaction into one).
  const { rows } = await tx.query<{ seq: number }>(
    `WITH e AS (INSERT INTO events (kind, region_path, payload, actors) VALUES ($1, $2::ltree, $3::jsonb, $4::text[]) RETURNING seq)
     SELECT e.seq, pg_notify('${EVENTS_CHANNEL}', '') FROM e`,
    [kind, regionPath, JSON.stringify(payload), actors?.length ? actors : null],
  )
  return rows[0].seq
}

/**
 * Wakes every relay (NOTIFY on EVENTS_CHANNEL, no payload) for events already committed by a transaction that did not
 * notify itself — the intake path (services/cases.ts reportCase), PostgreSQL's busiest writer. Why not in the
 * transaction: a transaction that NOTIFYs takes PostgreSQL's notify-queue lock at commit and holds it until the commit
 * is done, WAL flush included, so every notifying commit waits for the one before it (no group commit): at hundreds of
 * reports a second that queue is where reports stall. Here the NOTIFY is a statement of its own, with no write and
 * so no flush, sent after the commit.
 *
 * And not one per report: a relay that is woken reads everything committed so far, and the frame hub reads at most
 * once a frame, so wake-ups closer together than WAKE_EVERY_MS tell it nothing new. The first wake-up after a quiet
 * spell goes out at once; later ones fold into one more, sent WAKE_EVERY_MS after the one before (and only after it
 * has been answered): at most 1000 / WAKE_EVERY_MS NOTIFY statements a second per database handle, whatever the
 * rate of reports (before: about one per report). Never awaited by the caller and never thrown: if it is lost
 * (connection gone, process killed after the commit), the relays' poll (relay.ts, every second) still finds the
 * events.
 */
export const WAKE_EVERY_MS = 10
const wakers = new WeakMap<Db, { inflight: boolean; again: boolean; lastAt: number }>()

export function wakeRelays(db: Db): void {
  let w = wakers.get(db)
  if (!w) wakers.set(db, (w = { inflight: false, again: false, lastAt: -Infinity }))
  if (w.inflight) {
    w.again = true
    return
  }
  w.inflight = true
  const state = w
  // Timers may fire a little early (libuv's clock is cached and whole milliseconds): send() checks the time itself.
  const send = (): void => {
    const wait = state.lastAt + WAKE_EVERY_MS - performance.now()
    if (wait > 0) {
      setTimeout(send, Math.ceil(wait))
      return
    }
    state.lastAt = performance.now()
    db.query(`SELECT pg_notify('${EVENTS_CHANNEL}', '')`).then(done, done)
  }
  const done = (): void => {
    if (state.again) {
      state.again = false
      send()
    } else state.inflight = false
  }
  send()
}

export interface RelayRead {
  events: LoggedEvent[]
  /** pg_snapshot_xmin of the statement's snapshot: every transaction with a smaller id had ended when it was taken. */
  xmin: bigint
  /** event_log_state.pruned_through in the same snapshot. */
  prunedThrough: number
}

/**
 * The relay's read: the next events after `afterSeq` and, from the SAME snapshot, its xmin and the prune mark (one
 * statement, so one snapshot).
 */
export async function readForRelay(q: Queryable, afterSeq: number, limit: number): Promise<RelayRead> {
  const { rows } = await q.query<LoggedEvent & { xmin: string; pruned: number; seq: number | null }>(
    `SELECT e.seq, e.kind, e.region_path::text AS "regionPath", e.payload, e.actors,
            pg_snapshot_xmin(pg_current_snapshot())::text AS xmin, s.pruned_through AS pruned
       FROM event_log_state s
       LEFT JOIN LATERAL (SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT $2) e ON true
      ORDER BY e.seq`,
    [afterSeq, limit],
  )
  const first = rows[0]
  return {
    events: first?.seq == null ? [] : rows.map(({ seq, kind, regionPath, payload, actors }) => ({ seq: seq!, kind, regionPath, payload, actors })),
    xmin: BigInt(first.xmin),
    prunedThrough: Number(first.pruned),
  }
}

/** A transaction id newer than that of every transaction begun so far (it takes one: a plain autocommit statement). */
export async function freshXactId(q: Queryable): Promise<bigint> {
  const { rows } = await q.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')
  return BigInt(rows[0].x)
}

export async function snapshotXmin(q: Queryable): Promise<bigint> {
  const { rows } = await q.query<{ x: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x')
  return BigInt(rows[0].x)
}

export interface LogBounds {
  /** Every event with seq <= prunedThrough may be gone. */
  prunedThrough: number
  /** The highest seq committed (or prunedThrough when the log is empty). */
  head: number
}

export async function logBounds(q: Queryable): Promise<LogBounds> {
  const { rows } = await q.query<LogBounds>(
    `SELECT s.pruned_through AS "prunedThrough", greatest(s.pruned_through, (SELECT coalesce(max(seq), 0) FROM events)) AS head
       FROM event_log_state s`,
  )
  return { prunedThrough: Number(rows[0].prunedThrough), head: Number(rows[0].head) }
}

/**
 * Filter of a replay: null = everything; else region ids (events without a region are for everyone) and, for a
 * personal channel, the actor whose events come too (events.actors holds it).
 */
export type ScopeFilter = { regions: string[]; mine?: string | null } | null

export interface ScopedRead {
  events: LoggedEvent[]
  prunedThrough: number
}

/**
 * Replay: the events in (afterSeq, upTo] under any of `regions` (or all), in seq order, at most `limit`, and the
 * prune mark from the same snapshot (when it is above afterSeq, some of the range may be gone).
 */
export async function eventsInScope(q: Queryable, afterSeq: number, upTo: number, scope: ScopeFilter, limit: number): Promise<ScopedRead> {
  const params: unknown[] = [afterSeq, upTo, limit]
  let filter = ''
  if (scope) {
    params.push(scope.regions.map((r) => `*.${r}.*`))
    const mine = scope.mine ? ` OR actors @> ARRAY[$${params.push(scope.mine)}]::text[]` : ''
    filter = `AND (region_path IS NULL OR region_path ? $4::lquery[]${mine})`
  }
  const { rows } = await q.query<LoggedEvent & { pruned: number; seq: number | null }>(
    `SELECT e.seq, e.kind, e.region_path::text AS "regionPath", e.payload, e.actors, s.pruned_through AS pruned
       FROM event_log_state s
       LEFT JOIN LATERAL (SELECT * FROM events WHERE seq > $1 AND seq <= $2 ${filter} ORDER BY seq LIMIT $3) e ON true
      ORDER BY e.seq`,
    params,
  )
  return {
    events: rows[0]?.seq == null ? [] : rows.map(({ seq, kind, regionPath, payload, actors }) => ({ seq: seq!, kind, regionPath, payload, actors })),
    prunedThrough: Number(rows[0].pruned),
  }
}

export interface RetentionPolicy {
  /** Keep events younger than this many days (0 or less: no limit by age). */
  keepDays: number
  /** Keep at most about this many of the newest events (a seq window; 0 or less: no limit by count). */
  keepRows: number
}

/** Lock key (pg_try_advisory_xact_lock): one pruning pass at a time across processes. */
const PRUNE_LOCK = 7_100_011
/** Rows deleted per transaction: a long first pass never holds one huge transaction. */
const PRUNE_CHUNK = 20_000

/**
 * Deletes what the retention policy lets go, oldest first, in chunks, and raises `pruned_through` with each chunk
 * (same transaction). Returns how many rows went and the new mark; `skipped` when another process is pruning.
 */
export async function pruneEvents(db: Db, policy: RetentionPolicy, now: Date): Promise<{ deleted: number; prunedThrough: number; skipped: boolean }> {
  const { rows } = await db.query<{ cutoff: number | null; oldest: number | null }>(
    `SELECT greatest(
              CASE WHEN $1::float8 > 0 THEN (SELECT max(seq) FROM events WHERE created_at < $3::timestamptz - make_interval(secs => $1::float8 * 86400)) END,
              CASE WHEN $2::bigint > 0 THEN (SELECT max(seq) - $2::bigint FROM events) END
            ) AS cutoff,
            (SELECT min(seq) FROM events) AS oldest`,
    [policy.keepDays, policy.keepRows, now],
  )
  const cutoff = rows[0].cutoff === null ? null : Number(rows[0].cutoff)
  let deleted = 0
  let prunedThrough = (await logBounds(db)).prunedThrough
  if (cutoff === null || rows[0].oldest === null || cutoff < Number(rows[0].oldest)) return { deleted, prunedThrough, skipped: false }
  for (let from = Number(rows[0].oldest) - 1; from < cutoff; ) {
    const to = Math.min(cutoff, from + PRUNE_CHUNK)
    const r = await db.transaction(async (tx) => {
      const { rows: lock } = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [PRUNE_LOCK])
      if (!lock[0].ok) return null
      const del = await tx.query('DELETE FROM events WHERE seq <= $1', [to])
      const { rows: st } = await tx.query<{ p: number }>(
        'UPDATE event_log_state SET pruned_through = greatest(pruned_through, $1) RETURNING pruned_through AS p',
        [to],
      )
      return { deleted: del.rowCount, prunedThrough: Number(st[0].p) }
    })
    if (!r) return { deleted, prunedThrough, skipped: true }
    deleted += r.deleted
    prunedThrough = r.prunedThrough
    from = to
  }
  return { deleted, prunedThrough, skipped: false }
}
