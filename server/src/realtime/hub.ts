import type { Ack, ResetReason, ResumeReply, Scope, WireEvent } from '../../../shared/protocol/events.ts'
import type { Db } from '../db/types.ts'
import { eventsInScope, logBounds, type LoggedEvent } from '../repos/events.ts'
import type { Relay, RelaySink } from './relay.ts'
import { replayRefusal } from './replay-check.ts'
import type { GcServer, GcSocket } from './socket-server.ts'
import { linkBacklog, matches, newSubscription, setScope, toWireEvent, type PendingEvent, type SocketStats, type Subscription } from './subscription.ts'

/**
 * The frame hub: one per server process, between the relay and the sockets.
 *
 * Each socket has a scope (everything, or some regions and perhaps its user's personal channel), a cursor (the last seq it was sent or is owed) and a state:
 *   idle      — no `events:resume` yet, or reset: it gets nothing;
 *   replaying — catching up from the log, in frames of up to `replayBatch` events, up to what the live sockets have
 *               been sent (`flushed`); then it turns live without a seam;
 *   live      — gets every released event of its scope in the hub's frames;
 *   lagging   — its link has `maxBacklog` frames unsent: it gets no more until they are gone, then replays from its
 *               cursor (memory stays bounded; nothing is lost).
 *
 * Frames: a NOTIFY (or the poll) only wakes the hub; right before each frame the hub has the relay read the log,
 * then sends what came at most every `frameMs` (after a quiet spell at once). So under load the relay reads once
 * per frame, not once per commit, and an event waits at most one frame interval after its commit. Live sockets that
 * are level with the hub and share a scope share one frame, encoded once (io.to(ids)); the others get their own.
 * No socket gets two frames less than `frameMs` apart.
 *
 * Events go out in their compact wire form (shared/protocol/wire.ts), made once per event as the hub takes it from
 * the log (`toWireEvent`: in `deliver` for the live sockets, in each replay read), never per socket or per frame.
 */

export interface HubOptions {
  /** Minimum time between two frames to one socket (100 ms: 10 frames per second). */
  frameMs?: number
  /** Events per replay read and per replay frame. */
  replayBatch?: number
  /** A client further behind than this many seqs is told to reload a snapshot instead of replaying. */
  maxReplay?: number
  /** Frames queued on one socket's link before it is set aside to catch up from the log later. */
  maxBacklog?: number
  /** A socket whose scope was quiet while the log moved on gets an empty frame (its new position) this often. */
  idleReportMs?: number
  onError?: (err: unknown) => void
}

export interface HubStats {
  sockets: number
  live: number
  replaying: number
  lagging: number
  /** Frames written (a shared frame counts once per socket). */
  frames: number
  /** Shared encodes (io.to(ids).emit). */
  broadcasts: number
  /** Events sent in replay. */
  replayed: number
  resets: number
  flushed: number
}

const now = () => performance.now()

export class FrameHub implements RelaySink {
  /** Position up to which live sockets have been served (all of it that lies in their scope). */
  flushed = 0
  private started = false
  private startWaiters: Array<() => void> = []
  private pending: PendingEvent[] = []
  private pendingPosition = 0
  private readonly subs = new Map<string, Subscription>()
  private timer: NodeJS.Timeout | undefined
  private housekeeping: NodeJS.Timeout
  private lastFlushAt = -Infinity
  private stopped = false
  private relay: Relay | undefined
  /** A wake-up came: read the log before the next frame. */
  private wanted = false
  /** Reading before a frame: deliveries meanwhile go into that frame. */
  private flushing = false
  private readonly counters = { frames: 0, broadcasts: 0, replayed: 0, resets: 0 }
  readonly frameMs: number
  private readonly replayBatch: number
  private readonly maxReplay: number
  private readonly maxBacklog: number
  private readonly idleReportMs: number
  private readonly onError: (err: unknown) => void

  constructor(
    private readonly io: GcServer,
    private readonly db: Db,
    opts: HubOptions = {},
  ) {
    this.frameMs = opts.frameMs ?? 100
    this.replayBatch = opts.replayBatch ?? 1000
    this.maxReplay = opts.maxReplay ?? 50_000
    this.maxBacklog = opts.maxBacklog ?? 50
    this.idleReportMs = Math.max(this.frameMs, opts.idleReportMs ?? 5000)
    this.onError = opts.onError ?? ((err) => console.error('[hub]', err))
    // Lagging sockets are picked up again when their link has drained, even if no event comes meanwhile; quiet
    // sockets hear of their new position.
    this.housekeeping = setInterval(() => {
      this.resumeLagging()
      this.tellPositions()
    }, Math.min(1000, this.idleReportMs))
    this.housekeeping.unref()
  }

  // ---- from the relay ---------------------------------------------------------------------------------------------

  /** The relay that feeds this hub: read by the hub before each frame. */
  attach(relay: Relay): void {
    this.relay = relay
  }

  wake(): void {
    this.wanted = true
    this.schedule()
  }

  start(position: number): void {
    this.flushed = this.pendingPosition = position
    this.started = true
    for (const w of this.startWaiters.splice(0)) w()
  }

  deliver(events: LoggedEvent[], position: number): void {
    for (const e of events) this.pending.push({ event: toWireEvent(e), labels: e.regionPath ? e.regionPath.split('.') : null, actors: e.actors })
    this.pendingPosition = Math.max(this.pendingPosition, position)
    this.schedule()
  }

  lost(from: number, through: number): void {
    this.pendingPosition = Math.max(this.pendingPosition, through)
    for (const sub of this.subs.values()) {
      if ((sub.state === 'live' || sub.state === 'lagging') && sub.cursor < through) this.reset(sub, 'pruned')
    }
    this.onError(new Error(`events ${from + 1}…${through} were pruned before this process relayed them: live sockets were reset`))
    this.schedule()
  }

  // ---- from the sockets -------------------------------------------------------------------------------------------

  private whenStarted(): Promise<void> {
    return this.started ? Promise.resolve() : new Promise((r) => this.startWaiters.push(r))
  }

  /** `events:resume` after the policy allowed the scope; `mine`: the actor of its personal channel, if asked and allowed. */
  async resume(socket: GcSocket, after: number | undefined, scope: Scope, mine: string | null = null): Promise<Ack<ResumeReply>> {
    await this.whenStarted()
    let sub = this.subs.get(socket.id)
    if (!sub) {
      if (socket.disconnected) return { ok: false, error: 'disconnected' }
      sub = newSubscription(socket, scope)
      this.subs.set(socket.id, sub)
    }
    const epoch = ++sub.epoch
    sub.state = 'idle'
    sub.queue = []
    const rooms = setScope(sub, scope, mine)

    if (after === undefined) {
      sub.cursor = sub.sentThrough = this.flushed
      sub.state = 'live'
      return { ok: true, data: { from: sub.cursor, head: this.flushed, rooms } }
    }
    const bounds = await logBounds(this.db)
    if (sub.epoch !== epoch) return { ok: false, error: 'superseded', message: 'a later events:resume replaced this one' }
    const refusal = replayRefusal(after, bounds, this.maxReplay)
    if (refusal) {
      this.counters.resets++
      return { ok: false, error: 'reset', message: refusal.message }
    }
    sub.cursor = sub.sentThrough = after
    sub.state = 'replaying'
    // The answer goes out first: the replay starts on the next turn of the event loop.
    setImmediate(() => void this.replay(sub, epoch))
    return { ok: true, data: { from: after, head: this.flushed, rooms } }
  }

  /** The socket left (or was refused a scope): it gets nothing more and leaves its rooms. */
  disconnected(socket: GcSocket): void {
    const sub = this.subs.get(socket.id)
    if (!sub) return
    sub.epoch++
    this.subs.delete(socket.id)
    if (socket.connected) for (const r of sub.rooms) void socket.leave(r)
  }

  socketStats(id: string): SocketStats | undefined {
    const s = this.subs.get(id)
    return s && { state: s.state, cursor: s.cursor, frames: s.frames, minGapMs: s.minGapMs }
  }

  get stats(): HubStats {
    let live = 0
    let replaying = 0
    let lagging = 0
    for (const s of this.subs.values()) {
      if (s.state === 'live') live++
      else if (s.state === 'replaying') replaying++
      else if (s.state === 'lagging') lagging++
    }
    return { sockets: this.subs.size, live, replaying, lagging, ...this.counters, flushed: this.flushed }
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    clearInterval(this.housekeeping)
    for (const s of this.subs.values()) s.epoch++
    this.subs.clear()
  }

  // ---- replay -------------------------------------------------------------------------------------------------------

  private async replay(sub: Subscription, epoch: number): Promise<void> {
    const current = () => sub.epoch === epoch && !this.stopped
    let retryMs = 200
    while (current()) {
      const upTo = this.flushed
      if (sub.cursor >= upTo) {
        // Level with the live sockets: from the next flush on it gets what they get (its queue first).
        sub.state = 'live'
        if (sub.queue.length) this.schedule()
        return
      }
      let read
      try {
        read = await eventsInScope(this.db, sub.cursor, upTo, sub.regions ? { regions: [...sub.regions], mine: sub.mine } : null, this.replayBatch)
      } catch (err) {
        if (!current()) return
        this.onError(err)
        await new Promise((r) => setTimeout(r, retryMs))
        retryMs = Math.min(5000, retryMs * 2)
        continue
      }
      if (!current()) return
      if (read.prunedThrough > sub.cursor) return this.reset(sub, 'pruned')
      for (const e of read.events) sub.queue.push(toWireEvent(e))
      this.counters.replayed += read.events.length
      sub.cursor = read.events.length === this.replayBatch ? read.events[read.events.length - 1].seq : upTo
      if (sub.queue.length >= this.replayBatch) {
        const wait = sub.lastFrameAt + this.frameMs - now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        if (!current()) return
        if (linkBacklog(sub) >= this.maxBacklog) return this.setAside(sub)
        this.send(sub, sub.queue, sub.cursor)
        sub.queue = []
      }
    }
  }

  private reset(sub: Subscription, reason: ResetReason): void {
    sub.epoch++
    sub.state = 'idle'
    sub.queue = []
    this.counters.resets++
    sub.socket.emit('events:reset', { reason, head: this.flushed })
  }

  /** Lagging: owed events are dropped from memory and the cursor goes back to before them (the log has them). */
  private setAside(sub: Subscription): void {
    if (sub.queue.length) sub.cursor = sub.queue[0].seq - 1
    sub.queue = []
    sub.state = 'lagging'
  }

  private resumeLagging(): void {
    for (const sub of this.subs.values()) {
      if (sub.state !== 'lagging' || linkBacklog(sub) > 0) continue
      if (this.flushed - sub.cursor > this.maxReplay) {
        this.reset(sub, 'backlog')
        continue
      }
      sub.state = 'replaying'
      void this.replay(sub, sub.epoch)
    }
  }

  private tellPositions(): void {
    const t = now()
    for (const sub of this.subs.values()) {
      if (sub.state === 'live' && sub.queue.length === 0 && sub.sentThrough < sub.cursor && t - sub.lastFrameAt >= this.idleReportMs) {
        this.send(sub, [], sub.cursor)
      }
    }
  }

  // ---- frames -------------------------------------------------------------------------------------------------------

  private schedule(): void {
    if (this.timer || this.flushing || this.stopped) return
    const wait = Math.max(0, this.lastFlushAt + this.frameMs - now())
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.tick()
    }, Math.ceil(wait))
  }

  /** Frame time: read what the wake-ups announced, then send. */
  private async tick(): Promise<void> {
    if (this.stopped) return
    if (now() < this.lastFlushAt + this.frameMs) return this.schedule()
    if (this.wanted && this.relay) {
      this.wanted = false
      this.flushing = true
      try {
        await this.relay.drain()
      } finally {
        this.flushing = false
      }
    }
    this.flush()
  }

  private send(sub: Subscription, frame: WireEvent[], through: number): void {
    this.noteFrame(sub, now(), through)
    this.counters.frames++
    sub.socket.emit('events:frame', frame, through)
  }

  private noteFrame(sub: Subscription, t: number, through: number): void {
    if (sub.lastFrameAt > -Infinity) sub.minGapMs = Math.min(sub.minGapMs, t - sub.lastFrameAt)
    sub.lastFrameAt = t
    sub.sentThrough = through
    sub.frames++
  }

  private flush(): void {
    if (this.stopped) return
    const t = now()
    // libuv timers run on a cached clock and can fire a little early: never send frames closer than frameMs.
    if (t < this.lastFlushAt + this.frameMs) return this.schedule()
    this.lastFlushAt = t
    const before = this.flushed
    const after = this.pendingPosition
    const pending = this.pending
    this.pending = []
    this.flushed = after

    const groups = new Map<string, { regions: Set<string> | null; mine: string | null; subs: Subscription[] }>()
    let owed = false
    for (const sub of this.subs.values()) {
      if (sub.state !== 'live') continue
      if (linkBacklog(sub) >= this.maxBacklog) {
        // Its link cannot keep up: nothing more for it until the link drains; then it replays from its cursor.
        this.setAside(sub)
        continue
      }
      const ready = t - sub.lastFrameAt >= this.frameMs
      if (sub.queue.length === 0 && sub.cursor === before && ready) {
        sub.cursor = after
        if (pending.length === 0) continue
        let g = groups.get(sub.key)
        if (!g) groups.set(sub.key, (g = { regions: sub.regions, mine: sub.mine, subs: [] }))
        g.subs.push(sub)
        continue
      }
      for (const p of pending) if (p.event.seq > sub.cursor && matches(sub, p.labels, p.actors)) sub.queue.push(p.event)
      if (after > sub.cursor) sub.cursor = after
      if (sub.queue.length && ready) {
        this.send(sub, sub.queue, sub.cursor)
        sub.queue = []
      } else if (sub.queue.length) owed = true
      else if (sub.sentThrough < sub.cursor && t - sub.lastFrameAt >= this.idleReportMs) this.send(sub, [], sub.cursor)
    }
    for (const g of groups.values()) {
      const frame = g.regions ? pending.filter((p) => matches(g, p.labels, p.actors)).map((p) => p.event) : pending.map((p) => p.event)
      // Nothing for this scope: its sockets hear of the new position only now and then (idleReportMs).
      const subs = frame.length ? g.subs : g.subs.filter((s) => s.sentThrough < after && t - s.lastFrameAt >= this.idleReportMs)
      if (subs.length === 0) continue
      for (const sub of subs) this.noteFrame(sub, t, after)
      this.counters.frames += subs.length
      this.counters.broadcasts++
      if (subs.length === 1) subs[0].socket.emit('events:frame', frame, after)
      // local: with a Redis adapter a plain io.to() would also go out to every other process (each relays the log
      // to its own sockets; this frame is for ours only).
      else this.io.local.to(subs.map((s) => s.socket.id)).emit('events:frame', frame, after)
    }
    if (owed || this.pending.length || this.wanted) this.schedule()
  }
}
