/**
 * The page's one Socket.IO connection. This is the ONLY module that subscribes to socket events: it turns them
 * into store calls, and components read the stores. New server events get a handler here and a store action.
 */
import type { Pinia } from 'pinia'
import { io, type Socket } from 'socket.io-client'
import type { ClientToServerEvents, ServerToClientEvents } from '../../../shared/protocol/events.ts'
import { useCasesStore } from '../stores/cases.ts'
import { useConnectionStore } from '../stores/connection.ts'
import { useRegionsStore } from '../stores/regions.ts'

export type GcSocket = Socket<ServerToClientEvents, ClientToServerEvents>

export interface Realtime {
  socket: GcSocket
  stop(): void
}

/** After the server itself closed the link (restart, deploy) Socket.IO does not retry on its own: we do. */
const SERVER_CLOSE_RETRY_MS = 1500

export function startRealtime(pinia: Pinia): Realtime {
  const cases = useCasesStore(pinia)
  const connection = useConnectionStore(pinia)
  const regions = useRegionsStore(pinia)
  const socket: GcSocket = io({ transports: ['websocket', 'polling'] })

  let everConnected = false
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  function resync(): void {
    // A simple resync: events missed while offline (or before the first join) come back with the snapshot.
    // The replay issue replaces this with "send me everything after connection.lastSeq".
    cases.load().catch((err) => console.warn('[gridcommand] resync failed:', err instanceof Error ? err.message : err))
  }

  socket.on('connect', () => {
    connection.setState('online', '')
    if (everConnected) connection.noteReconnect()
    everConnected = true
    resync()
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
  })

  socket.on('regions:imported', (event) => {
    connection.noteSeq(event.seq)
    regions.reloadAfterImport(event.seq).catch((err) => console.warn('[gridcommand] region reload failed:', err instanceof Error ? err.message : err))
  })

  socket.on('case:created', (event) => {
    if (!event || typeof event !== 'object' || !event.case?.id) return
    connection.noteSeq(event.seq)
    cases.upsert(event.case)
  })

  return {
    socket,
    stop() {
      stopped = true
      clearTimeout(retryTimer)
      socket.removeAllListeners()
      socket.disconnect()
    },
  }
}
