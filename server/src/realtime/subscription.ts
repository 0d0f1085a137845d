/**
 * What the frame hub (hub.ts) keeps per socket — its scope, its cursor in the log, its state — and the events as
 * they wait for a frame. Pure data and small helpers; the hub decides what to send when.
 */
import type { FrameEvent, Scope, WireEvent } from '../../../shared/protocol/events.ts'
import { scopeRooms } from '../../../shared/protocol/rooms.ts'
import { compactEvent } from '../../../shared/protocol/wire.ts'
import type { LoggedEvent } from '../repos/events.ts'
import type { GcSocket } from './socket-server.ts'

/** The states and their moves are described on FrameHub (hub.ts). */
export type SocketState = 'idle' | 'replaying' | 'live' | 'lagging'

/** One socket's place in the event stream. */
export interface Subscription {
  socket: GcSocket
  scope: Scope
  /** null: everything. */
  regions: Set<string> | null
  /** The actor of a personal channel (scope.mine): events naming them come too, wherever they lie. */
  mine: string | null
  /** Sockets with the same key get the same frames. */
  key: string
  rooms: string[]
  state: SocketState
  cursor: number
  /** Owed, not yet sent (the tail of a replay; events for a socket that is not level with the hub). */
  queue: WireEvent[]
  lastFrameAt: number
  /** The `through` of the last frame sent. */
  sentThrough: number
  /** Bumped on every resume/reset/disconnect: a replay of an older epoch stops. */
  epoch: number
  frames: number
  minGapMs: number
}

/** A socket's first `events:resume`: idle, at seq 0, until the resume sets its scope and cursor. */
export function newSubscription(socket: GcSocket, scope: Scope): Subscription {
  return {
    socket, scope, regions: null, mine: null, key: '', rooms: [], state: 'idle', cursor: 0, queue: [], lastFrameAt: -Infinity, sentThrough: 0, epoch: 0, frames: 0, minGapMs: Infinity,
  }
}

/**
 * Gives the socket the rooms of `scope` (leaving the others it was in) and the scope's filter, with `mine` the
 * actor of its personal channel (null: none); returns the rooms.
 */
export function setScope(sub: Subscription, scope: Scope, mine: string | null = null): string[] {
  const rooms = scopeRooms(scope)
  for (const r of sub.rooms) if (!rooms.includes(r)) void sub.socket.leave(r)
  for (const r of rooms) void sub.socket.join(r)
  sub.rooms = rooms
  sub.scope = scope
  sub.regions = 'all' in scope ? null : new Set(scope.regions)
  sub.mine = 'all' in scope ? null : mine
  // A personal channel is nobody else's: its socket shares frames only with the same user's other sockets.
  sub.key = 'all' in scope ? '*' : `${[...sub.regions!].sort().join(',')}${sub.mine ? `|mine:${sub.mine}` : ''}`
  return rooms
}

export interface SocketStats {
  state: SocketState
  cursor: number
  frames: number
  /** Smallest time between two frames sent to this socket (Infinity: fewer than two). */
  minGapMs: number
}

/** A released event waiting for the next frame. */
export interface PendingEvent {
  event: WireEvent
  /** Region ids on the event's path; null for a global event. */
  labels: string[] | null
  /** Whom it is personal to (events.actors). */
  actors: string[] | null
}

/** A logged event as it goes out in a frame: `{ ...payload, seq, kind }`, compacted. */
export function toWireEvent(e: LoggedEvent): WireEvent {
  return compactEvent({ ...e.payload, seq: e.seq, kind: e.kind } as unknown as FrameEvent)
}

/**
 * Whether an event with these labels lies in the scope (a global event, or a scope of everything: always), or is
 * personal to the scope's `mine`.
 */
export function matches(sub: { regions: Set<string> | null; mine: string | null }, labels: string[] | null, actors: string[] | null): boolean {
  if (!sub.regions || !labels) return true
  for (const l of labels) if (sub.regions.has(l)) return true
  return sub.mine !== null && actors !== null && actors.includes(sub.mine)
}

/** Frames written to the socket's link and not yet sent (Engine.IO's write buffer). */
export function linkBacklog(sub: Subscription): number {
  return (sub.socket.conn as unknown as { writeBuffer?: unknown[] } | undefined)?.writeBuffer?.length ?? 0
}
