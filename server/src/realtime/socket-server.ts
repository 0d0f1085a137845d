import type { Server as HttpServer } from 'node:http'
import { Server, type Socket } from 'socket.io'
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '../../../shared/protocol/events.ts'
import { WALL_ROOM, regionRoom } from '../../../shared/protocol/rooms.ts'

export type GcServer = Server<ClientToServerEvents, ServerToClientEvents>
export type GcSocket = Socket<ClientToServerEvents, ServerToClientEvents>

/** Who may join which room. The identity issue replaces the default (everyone, everything) with role scoping. */
export type SubscribePolicy = (socket: GcSocket, regionId: string) => boolean | Promise<boolean>

const REGION_ID = /^[A-Za-z0-9_]{1,64}$/

export function createSocketServer(http: HttpServer, policy: SubscribePolicy = () => true): GcServer {
  const io: GcServer = new Server(http, { serveClient: false, transports: ['websocket', 'polling'] })
  io.on('connection', (socket) => {
    // Foundation: every dashboard is a wall. Scoped walls subscribe to their region instead (identity issue).
    void socket.join(WALL_ROOM)
    socket.on('region:subscribe', async (regionId, ack) => {
      const reply: (res: Ack<{ room: string }>) => void = typeof ack === 'function' ? ack : () => {}
      if (typeof regionId !== 'string' || !REGION_ID.test(regionId)) {
        return reply({ ok: false, error: 'invalid_region', message: 'regionId must be a region id ([A-Za-z0-9_])' })
      }
      if (!(await policy(socket, regionId))) return reply({ ok: false, error: 'forbidden' })
      const room = regionRoom(regionId)
      await socket.join(room)
      reply({ ok: true, data: { room } })
    })
  })
  return io
}
