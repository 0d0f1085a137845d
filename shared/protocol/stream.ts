/**
 * The client half of the event stream, free of any framework: the web app (realtime/socket.ts), the tests and the
 * benchmarks all run this same code.
 *
 * The client holds a position: the seq of the last event it applied (or of the snapshot it loaded). On every
 * (re)connect, to whichever server process, it sends `events:resume { after: position }` and gets exactly the events
 * after it, in order, replayed from the log and then live. An event at or below the position was applied already and
 * is dropped. When the server answers `reset` (too far behind, log pruned, unknown position) the client loads a
 * snapshot, takes the snapshot's seq as its position and resumes from there.
 *
 * Events arrive in their compact wire form (wire.ts): each one is expanded before `apply` sees it, so handlers get
 * the event exactly as the server had it (every null and default in place).
 */
import type { Socket } from 'socket.io-client'
import type { Ack, ClientToServerEvents, FrameEvent, ResetInfo, ResumeReply, Scope, ServerToClientEvents, WireEvent } from './events.ts'
import { expandEvent } from './wire.ts'

export type StreamSocket = Socket<ServerToClientEvents, ClientToServerEvents>

/** offline: no link; syncing: loading a snapshot or waiting for the resume's answer; live: resumed. */
export type StreamStatus = 'offline' | 'syncing' | 'live'

export interface StreamHandlers {
  /** The position of the client's state: seq of the last event applied; null before any snapshot. */
  getPosition(): number | null
  setPosition(seq: number): void
  /** Applies one event (in seq order, never one at or below the position), expanded from its wire form. */
  apply(event: FrameEvent): void
  /**
   * Loads a snapshot of the scope and resolves with the seq it reflects ('initial': no state yet; 'reset': the server
   * cannot catch this client up from the log; 'scope': the scope changed).
   */
  snapshot(reason: 'initial' | 'reset' | 'scope', scope: Scope): Promise<number>
  onStatus?(status: StreamStatus): void
  onError?(err: unknown): void
}

export interface StreamStats {
  /** Events applied. */
  applied: number
  /** Events received at or below the position, dropped. */
  duplicates: number
  frames: number
  /** Resets received (in an ack or as `events:reset`). */
  resets: number
  /** Successful resumes (one per connect, at least). */
  resumes: number
  /** Last successful resume's answer. */
  lastResume: ResumeReply | null
}

export interface StreamOptions {
  scope?: Scope
  ackTimeoutMs?: number
  /** Wait after a failed resume or snapshot; doubles up to 10 s. */
  retryMs?: number
}

export interface EventStream {
  readonly stats: StreamStats
  readonly status: StreamStatus
  readonly scope: Scope
  /** Switches scope: loads a snapshot of the new scope and resumes from it. */
  setScope(scope: Scope): Promise<void>
  /** Resolves when the stream is live (resumed on the current connection). */
  whenLive(): Promise<void>
  detach(): void
}

export function attachEventStream(socket: StreamSocket, handlers: StreamHandlers, opts: StreamOptions = {}): EventStream {
  let scope: Scope = opts.scope ?? { all: true }
  const ackTimeoutMs = opts.ackTimeoutMs ?? 10_000
  const stats: StreamStats = { applied: 0, duplicates: 0, frames: 0, resets: 0, resumes: 0, lastResume: null }
  let status: StreamStatus = 'offline'
  let needSnapshot: 'reset' | 'scope' | null = null
  /** True while a snapshot replaces the state: frames are ignored (the server sends none then; belt and braces). */
  let snapshotting = false
  /** Bumped on every connect/disconnect/scope change: a sync of an older generation gives up. */
  let generation = 0
  let detached = false
  let liveWaiters: Array<() => void> = []

  const onError = handlers.onError ?? ((err: unknown) => console.warn('[stream]', err instanceof Error ? err.message : err))

  function setStatus(next: StreamStatus): void {
    if (status === next) return
    status = next
    handlers.onStatus?.(next)
    if (next === 'live') {
      const w = liveWaiters
      liveWaiters = []
      for (const f of w) f()
    }
  }

  async function sync(): Promise<void> {
    const gen = ++generation
    setStatus('syncing')
    let wait = opts.retryMs ?? 500
    for (;;) {
      if (detached || gen !== generation || !socket.connected) return
      try {
        let snapshotJustLoaded = false
        if (needSnapshot || handlers.getPosition() === null) {
          snapshotJustLoaded = true
          snapshotting = true
          try {
            const seq = await handlers.snapshot(needSnapshot ?? 'initial', scope)
            // A snapshot is valid whatever happened to the link meanwhile: no frame was applied during it.
            handlers.setPosition(seq)
            needSnapshot = null
          } finally {
            snapshotting = false
          }
          if (detached || gen !== generation || !socket.connected) return
        }
        const res: Ack<ResumeReply> = await socket.timeout(ackTimeoutMs).emitWithAck('events:resume', { after: handlers.getPosition()!, scope })
        if (detached || gen !== generation) return
        if (res.ok) {
          stats.resumes++
          stats.lastResume = res.data
          setStatus('live')
          return
        }
        if (res.error === 'reset') {
          stats.resets++
          // Reset again right after a snapshot: the server's position was behind its own log; give it a moment.
          if (snapshotJustLoaded) {
            await new Promise((r) => setTimeout(r, wait))
            wait = Math.min(10_000, wait * 2)
          }
          needSnapshot ??= 'reset'
          continue
        }
        throw new Error(`events:resume refused: ${res.error}${res.message ? ` (${res.message})` : ''}`)
      } catch (err) {
        if (detached || gen !== generation) return
        onError(err)
        await new Promise((r) => setTimeout(r, wait))
        wait = Math.min(10_000, wait * 2)
      }
    }
  }

  const onConnect = () => void sync()
  const onDisconnect = () => {
    generation++
    setStatus('offline')
  }
  const onFrame = (frame: WireEvent[], through?: number) => {
    if (!Array.isArray(frame)) return
    stats.frames++
    if (snapshotting) return
    let pos = handlers.getPosition()
    if (pos === null) return
    for (const e of frame) {
      if (!e || typeof e !== 'object' || typeof e.seq !== 'number') continue
      if (e.seq <= pos) {
        stats.duplicates++
        continue
      }
      try {
        handlers.apply(expandEvent(e))
      } catch (err) {
        onError(err)
      }
      pos = e.seq
      handlers.setPosition(pos)
      stats.applied++
    }
    // Nothing of the scope between the last event and `through`: the position moves on (shorter replays later).
    if (typeof through === 'number' && Number.isSafeInteger(through) && through > pos) handlers.setPosition(through)
  }
  const onReset = (_info: ResetInfo) => {
    stats.resets++
    needSnapshot ??= 'reset'
    void sync()
  }

  socket.on('connect', onConnect)
  socket.on('disconnect', onDisconnect)
  socket.on('events:frame', onFrame)
  socket.on('events:reset', onReset)
  if (socket.connected) void sync()

  return {
    stats,
    get status() {
      return status
    },
    get scope() {
      return scope
    },
    async setScope(next: Scope) {
      scope = next
      needSnapshot = 'scope'
      if (socket.connected) await sync()
    },
    whenLive() {
      return status === 'live' ? Promise.resolve() : new Promise<void>((r) => liveWaiters.push(r))
    },
    detach() {
      detached = true
      generation++
      socket.off('connect', onConnect)
      socket.off('disconnect', onDisconnect)
      socket.off('events:frame', onFrame)
      socket.off('events:reset', onReset)
    },
  }
}
