/**
 * The page's one Socket.IO connection. This is the ONLY module that subscribes to socket events: it turns them
 * into store calls, and components read the stores. New event kinds get a handler in `handlers` and a store action.
 *
 * The event stream itself (position, resume on every connect, dropping duplicates, reset → snapshot) is
 * shared/protocol/stream.ts, the same code the server's tests run.
 */
import type { Pinia } from 'pinia'
import { io, type Socket } from 'socket.io-client'
import { watch } from 'vue'
import type { ClientToServerEvents, EventKind, FrameEvent, Scope, ServerToClientEvents } from '../../../shared/protocol/events.ts'
import { attachEventStream, type EventStream } from '../../../shared/protocol/stream.ts'
import { useCasesStore } from '../stores/cases.ts'
import { useConnectionStore } from '../stores/connection.ts'
import { useDrillStore } from '../stores/drill.ts'
import { useRegionsStore } from '../stores/regions.ts'
import { useResourcesStore } from '../stores/resources.ts'
import { useStatsStore } from '../stores/stats.ts'
import { useWallStore } from '../stores/wall.ts'
import { useSessionStore, type SessionUser } from '../stores/session.ts'

export type GcSocket = Socket<ServerToClientEvents, ClientToServerEvents>

export interface Realtime {
  socket: GcSocket
  stream: EventStream
  stop(): void
}

/** After the server itself closed the link (restart, deploy) Socket.IO does not retry on its own: we do. */
const SERVER_CLOSE_RETRY_MS = 1500

type Handlers = { [K in EventKind]?: (event: Extract<FrameEvent, { kind: K }>) => void }

export interface RealtimeOptions {
  /** Server origin; default: the page's own. */
  url?: string
}

/** What the page subscribes to: the signed-in user's scope region, else the wall (everything). */
export function scopeOf(user: SessionUser | null): Scope {
  return user?.scopeRegionId ? { regions: [user.scopeRegionId] } : { all: true }
}

export function startRealtime(pinia: Pinia, opts: RealtimeOptions = {}): Realtime {
  const cases = useCasesStore(pinia)
  const connection = useConnectionStore(pinia)
  const regions = useRegionsStore(pinia)
  const session = useSessionStore(pinia)
  const stats = useStatsStore(pinia)
  const wall = useWallStore(pinia)
  const resources = useResourcesStore(pinia)
  const drill = useDrillStore(pinia)
  /** Alerts only for what is happening now, not for old events replayed after a long absence. */
  const recent = (iso: string) => Date.now() - Date.parse(iso) < 10 * 60_000
  const socketOpts = {
    transports: ['websocket', 'polling'],
    // A function: called on every connect attempt, so a reconnect always sends the current access token.
    auth: (cb: (data: object) => void) => {
      const token = session.token()
      cb(token ? { token } : {})
    },
  }
  const socket: GcSocket = opts.url ? io(opts.url, socketOpts) : io(socketOpts)

  const warn = (what: string) => (err: unknown) => console.warn(`[gridcommand] ${what}:`, err instanceof Error ? err.message : err)

  const handlers: Handlers = {
    'case:created': (e) => {
      if (!e.case?.id) return
      cases.upsert(e.case)
      stats.noteChange()
      if (e.case.priority === 'urgent' && recent(e.case.reportedAt)) wall.pushAlert(e.case, 'urgent')
    },
    // Every loop step, reassignment and escalation: the case after it (a closed one drops out of the open set).
    'case:updated': (e) => {
      if (!e.case?.id) return
      cases.upsert(e.case)
      stats.noteChange()
      if ((e.action === 'escalate' || e.action === 'overdue') && recent(e.entry?.at ?? e.case.updatedAt)) {
        wall.pushAlert(e.case, e.action === 'escalate' ? 'escalated' : 'overdue')
      }
    },
    'workers:moved': (e) => resources.moveWorkers(e.positions),
    'worker:updated': (e) => resources.updateWorker(e.worker),
    'camera:updated': (e) => resources.updateCamera(e.camera),
    'checkin:created': (e) => drill.addCheckin(e.checkin),
    'regions:imported': (e) => void regions.reloadAfterImport(e.seq).catch(warn('region reload failed')),
  }

  const stream = attachEventStream(socket, {
    getPosition: () => (connection.positioned ? connection.lastSeq : null),
    setPosition: (seq) => connection.setPosition(seq),
    apply: (event) => {
      wall.noteEvent()
      ;(handlers[event.kind] as ((e: FrameEvent) => void) | undefined)?.(event)
    },
    async snapshot(reason) {
      // First start: the snapshot main.ts loaded, if it is there and nothing was applied since.
      if (reason === 'initial' && cases.loaded && cases.snapshotSeq !== null && !cases.loading) return cases.snapshotSeq
      const seq = await cases.load({ replace: reason !== 'initial' })
      // Away too long: a boundary import may be among what was missed.
      if (reason === 'reset') regions.load().catch(warn('region reload failed'))
      return seq
    },
    onStatus(status) {
      connection.setState(status === 'live' ? 'online' : status === 'syncing' ? 'connecting' : 'offline')
    },
    onError: warn('live link'),
  }, { scope: scopeOf(session.user) })

  let everConnected = false
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  const statsTimer = setInterval(() => connection.noteStats(stream.stats), 1000)

  // Data freshness: every frame (live, or the server's idle report every 5 s) proves the figures current.
  socket.on('events:frame', () => wall.noteFrame())

  socket.on('connect', () => {
    if (everConnected) connection.noteReconnect()
    everConnected = true
  })

  socket.on('disconnect', (reason) => {
    connection.setState('offline', reason)
    if (reason === 'io server disconnect' && !stopped) {
      clearTimeout(retryTimer)
      retryTimer = setTimeout(() => {
        if (!stopped && !socket.connected) socket.connect()
      }, SERVER_CLOSE_RETRY_MS)
    }
  })

  socket.on('connect_error', (err) => {
    connection.setState('offline', err.message)
    // Refused by the server's handshake (socket-auth.ts): Socket.IO does not retry that on its own.
    if (socket.active || stopped) return
    clearTimeout(retryTimer)
    if (err.message === 'invalid_token') {
      // Expired or revoked: renew (shared with any HTTP renewal in flight), then connect with the new token.
      void session.refresh().catch(() => false).then(() => {
        if (!stopped && !socket.connected) socket.connect()
      })
    } else {
      retryTimer = setTimeout(() => {
        if (!stopped && !socket.connected) socket.connect()
      }, SERVER_CLOSE_RETRY_MS * 4)
    }
  })

  // Signed in, signed out, another user: reconnect with the new identity and load the new scope's snapshot.
  const stopIdentity = watch(
    () => [session.user?.id ?? null, session.user?.scopeRegionId ?? null] as const,
    ([id, regionId], [prevId, prevRegion]) => {
      if (stopped || (id === prevId && regionId === prevRegion)) return
      socket.disconnect()
      void stream.setScope(scopeOf(session.user)).catch(warn('scope change'))
      socket.connect()
    },
  )

  return {
    socket,
    stream,
    stop() {
      stopped = true
      stopIdentity()
      clearTimeout(retryTimer)
      clearInterval(statsTimer)
      stream.detach()
      socket.removeAllListeners()
      socket.disconnect()
    },
  }
}
