import { WALL_ROOM, regionRoom } from '../../../shared/protocol/rooms.ts'
import type { Db } from '../db/types.ts'
import { EVENTS_CHANNEL, freshXactId, logBounds, readForRelay, snapshotXmin, type LoggedEvent } from '../repos/events.ts'

/**
 * The relay: reads the event log in seq order and hands each newly *released* run of events to its sink (the
 * process's frame hub). One per server process; every process relays the same log to its own sockets.
 *
 * Woken by NOTIFY (no payload) and by a poll, because a LISTEN connection can die silently. The sink may take the
 * wake-ups and pace the reads itself (the frame hub reads right before each frame).
 *
 * ## Gaps: a seq that is not there (yet)
 * seq values come from a sequence, so they are drawn in order but become visible in COMMIT order: 41 may be visible
 * while 40's transaction is still running. Reading `seq > last` and moving on would skip 40 for good. So the relay
 * stops at a gap and releases nothing beyond it until the gap is either filled (40 commits: delivered next) or
 * known to be final (40 was rolled back, or its transaction failed):
 *   - when the gap is first seen, the relay takes a fresh transaction id X (`pg_current_xact_id()` in a statement of
 *     its own, after the read that saw the gap);
 *   - the holder of 40 had its transaction id before it drew 40 (migration 011's trigger), and 40 was drawn before
 *     41 committed, before the read: so the holder's id is below X;
 *   - as soon as a read's snapshot has xmin > X, every transaction below X has ended. If 40 is still missing in that
 *     very snapshot, it never comes: the relay releases 41 and what follows.
 * Nothing is skipped on a timer. The price: while a gap is open, a long-running writing transaction that began
 * before it was seen (a big boundary import, a migration, an idle-in-transaction session) holds delivery back until
 * it ends; the relay logs a warning every `gapWarnMs` while that lasts.
 *
 * At start the relay takes max(seq) M and a fresh id X the same way, and releases nothing until xmin > X: every seq
 * up to M is then final, and M is a safe starting point (no socket is live yet; clients catch up from the log).
 */

export interface RelayOptions {
  /** Fallback poll: a LISTEN connection can die silently, the log cannot. */
  pollMs?: number
  batch?: number
  /** How soon to look again while a gap is open. */
  gapRetryMs?: number
  /** Warn (onWarn) when a gap has been open this long. */
  gapWarnMs?: number
  onError?: (err: unknown) => void
  onWarn?: (msg: string) => void
  /** Skip LISTEN (tests of the poll fallback; a process that wants polling only). */
  listen?: boolean
}

export interface RelaySink {
  /** The start position is known: every event up to it is final (called once, before any deliver). */
  start(position: number): void
  /**
   * There may be new events (a NOTIFY, the poll). Without this the relay reads at once; with it, the sink decides
   * when to call drain() (the frame hub reads right before each frame: at most one read per frame under load).
   */
  wake?(): void
  /** Newly released events, in seq order, and the new position (>= the last event's seq). */
  deliver(events: LoggedEvent[], position: number): void
  /** Events after `from` up to `through` were pruned before the relay read them: sockets that were live lost them. */
  lost(from: number, through: number): void
}

export interface RelayStats {
  reads: number
  released: number
  /** Gaps seen (a missing seq with a later one visible). */
  gapsSeen: number
  /** Gaps declared final (rolled back): seqs skipped. */
  seqsSkipped: number
}

export interface Relay {
  /** Released position: every event with seq <= this has been handed to the sink or will never exist. */
  readonly position: number
  /** Deprecated name of position. */
  readonly lastSeq: number
  readonly stats: RelayStats
  /** Resolves once the start position is known (see above). */
  ready(): Promise<void>
  /** Reads and releases everything committed so far (up to an open gap); resolves when done. */
  drain(): Promise<void>
  stop(): Promise<void>
}

/** The Socket.IO rooms an event is delivered to: the wall, and every region on its path (district … grid). */
export function roomsFor(event: Pick<LoggedEvent, 'regionPath'>): string[] {
  const labels = event.regionPath ? event.regionPath.split('.') : []
  return [WALL_ROOM, ...labels.map(regionRoom)]
}

interface Gap {
  /** The missing seq. */
  at: number
  /** Fresh transaction id taken after the gap was seen; null until taken. */
  horizon: bigint | null
  since: number
  warnedAt: number
}

export async function startRelay(db: Db, sink: RelaySink, opts: RelayOptions = {}): Promise<Relay> {
  const {
    pollMs = 1000,
    batch = 1000,
    gapRetryMs = 5,
    gapWarnMs = 10_000,
    onError = (err) => console.error('[relay]', err),
    onWarn = (msg) => console.warn('[relay]', msg),
  } = opts
  const stats: RelayStats = { reads: 0, released: 0, gapsSeen: 0, seqsSkipped: 0 }

  // Start: M and, after it, a fresh id; M becomes the position once xmin > X. (M is at least the prune mark: the log
  // may have been pruned empty.)
  const startSeq = (await logBounds(db)).head
  const startHorizon = await freshXactId(db)
  let position: number | undefined
  let resolveReady!: () => void
  const readyPromise = new Promise<void>((r) => (resolveReady = r))

  let gap: Gap | null = null
  let running: Promise<void> | undefined
  let again = false
  let stopped = false
  let soon: NodeJS.Timeout | undefined

  function lookAgainSoon(): void {
    if (soon || stopped) return
    soon = setTimeout(() => {
      soon = undefined
      void drain()
    }, gapRetryMs)
  }

  async function drainOnce(): Promise<void> {
    if (position === undefined) {
      if ((await snapshotXmin(db)) <= startHorizon) return lookAgainSoon()
      position = startSeq
      sink.start(position)
      resolveReady()
    }
    for (;;) {
      const read = await readForRelay(db, position, batch)
      stats.reads++
      if (read.prunedThrough > position) {
        // The relay fell behind the retention window (a very long outage): whatever it had not read is gone.
        const from = position
        position = read.prunedThrough
        gap = null
        sink.lost(from, read.prunedThrough)
      }
      const released: LoggedEvent[] = []
      for (const e of read.events) {
        if (e.seq <= position) continue
        if (e.seq !== position + 1) {
          if (!gap || gap.at !== position + 1) {
            gap = { at: position + 1, horizon: null, since: Date.now(), warnedAt: 0 }
            stats.gapsSeen++
            break
          }
          if (gap.horizon === null || read.xmin <= gap.horizon) break
          stats.seqsSkipped += e.seq - position - 1 // final: rolled back or failed
        }
        released.push(e)
        position = e.seq
        gap = null
      }
      if (released.length) {
        stats.released += released.length
        sink.deliver(released, position)
      }
      if (gap) {
        if (gap.horizon === null) gap.horizon = await freshXactId(db)
        const open = Date.now() - gap.since
        if (open >= gapWarnMs && Date.now() - gap.warnedAt >= gapWarnMs) {
          gap.warnedAt = Date.now()
          onWarn(`seq ${gap.at} has been missing for ${Math.round(open / 1000)} s: a transaction that began before it was drawn is still running; delivery waits for it`)
        }
        return lookAgainSoon()
      }
      if (read.events.length < batch) return
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

  const wake = sink.wake ? () => (position === undefined ? void drain() : sink.wake!()) : () => void drain()
  const unlisten = opts.listen === false ? async () => {} : await db.listen(EVENTS_CHANNEL, wake)
  const timer = setInterval(wake, pollMs)
  timer.unref()
  void drain()

  return {
    get position() {
      return position ?? startSeq
    },
    get lastSeq() {
      return position ?? startSeq
    },
    stats,
    ready: () => readyPromise,
    async drain() {
      await readyPromise
      // If a pass is running it may have read before the caller's commit: drain() then asks for one more pass.
      await drain()
    },
    async stop() {
      stopped = true
      clearInterval(timer)
      clearTimeout(soon)
      await unlisten().catch(() => {})
      await running
    },
  }
}
