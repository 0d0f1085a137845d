import type { Server } from 'socket.io'
import { WALL_ROOM, regionRoom } from '../../../shared/protocol/rooms.ts'
import type { Db } from '../db/types.ts'
import { EVENTS_CHANNEL, eventsAfter, lastEventSeq, type LoggedEvent } from '../repos/events.ts'

export interface RelayOptions {
  /** Fallback poll: a LISTEN connection can die silently, the log cannot. */
  pollMs?: number
  batch?: number
  onError?: (err: unknown) => void
}

export interface Relay {
  readonly lastSeq: number
  /** Reads and emits everything committed so far; resolves when caught up. */
  drain(): Promise<void>
  stop(): Promise<void>
}

/** The Socket.IO rooms an event is delivered to: the wall, and every region on its path (district … grid). */
export function roomsFor(event: Pick<LoggedEvent, 'regionPath'>): string[] {
  const labels = event.regionPath ? event.regionPath.split('.') : []
  return [WALL_ROOM, ...labels.map(regionRoom)]
}

/**
 * Relays the event log to this process's sockets in seq order. Woken by NOTIFY (no payload), with polling as a
 * fallback. Starts at the current end of the log: clients catch up on what came before through HTTP (and, with
 * the real-time issue, by replaying from their last seq).
 */
export async function startRelay(db: Db, io: Server, opts: RelayOptions = {}): Promise<Relay> {
  const { pollMs = 1000, batch = 500, onError = (err) => console.error('[relay]', err) } = opts
  let lastSeq = await lastEventSeq(db)
  let running: Promise<void> | undefined
  let again = false
  let stopped = false

  async function drainOnce(): Promise<void> {
    for (;;) {
      const events = await eventsAfter(db, lastSeq, batch)
      for (const e of events) {
        io.to(roomsFor(e)).emit(e.kind as never, { seq: e.seq, ...e.payload } as never)
        lastSeq = e.seq
      }
      if (events.length < batch) return
    }
  }

  function drain(): Promise<void> {
    if (stopped) return Promise.resolve()
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      try {
        do {
          again = false
          await drainOnce()
        } while (again && !stopped)
      } catch (err) {
        onError(err)
      } finally {
        running = undefined
      }
    })()
    return running
  }

  const unlisten = await db.listen(EVENTS_CHANNEL, () => void drain())
  const timer = setInterval(() => void drain(), pollMs)
  timer.unref()

  return {
    get lastSeq() {
      return lastSeq
    },
    drain,
    async stop() {
      stopped = true
      clearInterval(timer)
      await unlisten().catch(() => {})
      await running
    },
  }
}
