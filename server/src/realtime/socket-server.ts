import type { Server as HttpServer } from 'node:http'
import { Server, type Socket } from 'socket.io'
import type { ClientToServerEvents, ServerToClientEvents } from '../../../shared/protocol/events.ts'

export type GcServer = Server<ClientToServerEvents, ServerToClientEvents>
export type GcSocket = Socket<ClientToServerEvents, ServerToClientEvents>

/**
 * Who may subscribe to what: `regionId` is a region (any level), or null for everything (the wall). Asked on every
 * `events:resume` — the first, every reconnect, every switch of server process — before anything is replayed. The
 * identity issue replaces the default (everyone, everything) with role scoping.
 */
export type SubscribePolicy = (socket: GcSocket, regionId: string | null) => boolean | Promise<boolean>

export const allowEverything: SubscribePolicy = () => true

/**
 * Whose personal channel (`scope.mine`) a socket may follow: the actor of its signed-in user (the worker id of a grid
 * worker, else the username), or null — refused. Asked on every `events:resume` that asks for it.
 */
export type PersonalChannel = (socket: GcSocket) => string | null | Promise<string | null>

/** Without sign-in there is nobody to be personal to. */
export const noPersonalChannel: PersonalChannel = () => null

export function createSocketServer(http: HttpServer): GcServer {
  return new Server(http, { serveClient: false, transports: ['websocket', 'polling'] })
}
