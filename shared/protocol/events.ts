import type { CaseAction } from '../domain/case-lifecycle.ts'
import type { Case, TimelineEntry } from '../schemas/case.ts'
import type { CameraUpdatedEvent } from '../schemas/camera.ts'
import type { CheckinCreatedEvent } from '../schemas/checkin.ts'
import type { WorkersMovedEvent, WorkerUpdatedEvent } from '../schemas/worker.ts'

/** Every event relayed from the event log carries its sequence number (strictly increasing). */
export interface Sequenced {
  seq: number
}

/**
 * Server → client, named `domain:past-participle`.
 *
 * The kinds of the event log (everything but `events:*`) are never emitted alone: they reach a socket inside an
 * `events:frame`, as `{ kind, seq, ...payload }` (see `FrameEvent`). The entries here say what each kind carries.
 */
export interface ServerToClientEvents {
  'case:created': (event: Sequenced & { case: Case }) => void
  /**
   * Any action on a case (the loop, reassignment, escalation — by a person or the clock —, notes) or a supplement
   * ("me too", POST /api/cases/:id/supplements): the case after it and its timeline row.
   */
  'case:updated': (event: Sequenced & { case: Case; action: CaseAction | 'overdue' | 'supplement'; entry: TimelineEntry }) => void
  /** Boundaries changed (POST /api/regions/import): dashboards reload their region layers. No region: sent to every scope. */
  'regions:imported': (event: Sequenced & { created: number; updated: number; unchanged: number; repathed: number; idCount: number }) => void
  /** Live positions one batch moved, one event per street: `positions` are [workerId, lon, lat, tMillis, status, gridId] (schemas/worker.ts). */
  'workers:moved': (event: Sequenced & WorkersMovedEvent) => void
  /** A worker's status set by hand (POST /api/workers/:id/status); routed by the worker's own grid. */
  'worker:updated': (event: Sequenced & WorkerUpdatedEvent) => void
  /** A camera went online or offline (POST /api/cameras/:id/status); routed by the camera's region. */
  'camera:updated': (event: Sequenced & CameraUpdatedEvent) => void
  /** A patrol check-in (POST /api/checkins): routed by its region, and on its worker's personal channel. */
  'checkin:created': (event: Sequenced & CheckinCreatedEvent) => void

  /**
   * Log events in seq order, coalesced: at most one frame per socket every 100 ms (10 per second), whatever the rate.
   * Replayed events (after `events:resume`) come in the same frames, before the live ones, without a seam.
   * `through`: every event of the socket's scope up to this seq has now been sent — the client's position moves
   * there even when the frame holds nothing of its scope (a quiet region's socket gets `[]` now and then).
   *
   * Events travel in their compact wire form (`WireEvent`, made by shared/protocol/wire.ts once per event on the
   * server, live and replayed alike): in a case event's `case` and `entry`, a field is left out when it holds the
   * value the client restores it to — null for a nullable field of the schema, the schema's `default` (overdue
   * false, escalations 0, attachments [], data {}), or a copy of another field (a case's updatedAt = its reportedAt;
   * a region's level = its place in `regions` + 1; in `case:updated`, entry.at = case.updatedAt and action =
   * entry.action); a nested object left empty (stages, all null) is left out whole. Nothing is renamed and every
   * other field is sent as is. stream.ts expands each event (`expandEvent`) before its handlers see it: they get
   * the event exactly as the server had it. A client reading frames without stream.ts expands them itself.
   */
  'events:frame': (frame: WireEvent[], through: number) => void
  /**
   * The server cannot bring this socket up to date from the log (it was pruned under a replay, or the socket's backlog
   * was dropped): reload a snapshot (GET /api/cases gives its `seq`), then `events:resume` from that seq.
   */
  'events:reset': (info: ResetInfo) => void
}

/** Client → server commands, named `domain:verb`; every command is answered with an Ack. */
export interface ClientToServerEvents {
  /**
   * Subscribe (or change scope) and get, in order, every event of the scope after `after`, then the live ones. Sent
   * on every (re)connect, to whichever server process. Errors: `invalid_request`, `forbidden` (the subscribe policy),
   * `reset` (too far behind, log pruned, or a position this log never had: load a snapshot and resume from its seq).
   */
  'events:resume': (req: ResumeRequest, ack: (res: Ack<ResumeReply>) => void) => void
}

export type Ack<T> = { ok: true; data: T } | { ok: false; error: string; message?: string }

// ---- the stream protocol -------------------------------------------------------------------------------------------

/**
 * What a socket receives: the wall everything, a region scope the events under any of its regions (any level).
 * `mine: true` adds the caller's personal channel (signed-in users only; `regions` may then be empty, as for a
 * resident): every case event of a case assigned to them, taken away from them (its previous assignee), reported
 * or followed by them, wherever it lies, and the events of their own worker (their `worker:updated`, their
 * check-ins).
 */
export type Scope = { all: true } | { regions: string[]; mine?: boolean }

export interface ResumeRequest {
  /**
   * The last seq this client applied (its snapshot's `seq` right after loading one). Omitted: start at the server's
   * current position, no replay (for clients that keep no state).
   */
  after?: number
  /** Default: everything (the wall). */
  scope?: Scope
}

export interface ResumeReply {
  /** Events with seq > from follow, replayed from the log and then live. */
  from: number
  /** The server's delivered position when it answered (from < head: that much is being replayed). */
  head: number
  /** The Socket.IO rooms the socket is now in (names from rooms.ts). */
  rooms: string[]
}

export type ResetReason = 'pruned' | 'too_far_behind' | 'unknown_position' | 'backlog'

export interface ResetInfo {
  reason: ResetReason
  /** The server's delivered position at the time. */
  head: number
}

/** Wire events that are not log kinds. */
type StreamWireEvent = 'events:frame' | 'events:reset'
/** The kinds written to the event log (and any other kind added to ServerToClientEvents). */
export type EventKind = Exclude<keyof ServerToClientEvents, StreamWireEvent>
export type EventPayload<K extends EventKind> = Parameters<ServerToClientEvents[K]>[0]
/** One event as handlers see it: its kind, its seq and its payload's fields, side by side. */
export type FrameEvent = { [K in EventKind]: { kind: K } & EventPayload<K> }[EventKind]

/** The kinds whose payload is compacted on the wire (see `events:frame`); the others travel as they are. */
export type CompactKind = 'case:created' | 'case:updated'
/** Any field, at any depth, may be left out. */
type Compacted<T> = T extends ReadonlyArray<infer U> ? Array<Compacted<U>> : T extends object ? { [P in keyof T]?: Compacted<T[P]> } : T
/** One event as it travels in an `events:frame` (expand it with wire.ts `expandEvent` to read its payload). */
export type WireEvent = {
  [K in EventKind]: { kind: K; seq: number } & (K extends CompactKind ? Compacted<Omit<EventPayload<K>, 'seq'>> : Omit<EventPayload<K>, 'seq'>)
}[EventKind]
