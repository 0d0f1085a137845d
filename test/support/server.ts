import type { AddressInfo } from 'node:net'
import { io as connect, type Socket } from 'socket.io-client'
import type { ClientToServerEvents, ServerToClientEvents } from '../../shared/protocol/events.ts'
import { buildApp, type AppOptions } from '../../server/src/app.ts'
import type { AppInstance } from '../../server/src/app-types.ts'

export type TestClient = Socket<ServerToClientEvents, ClientToServerEvents>

/** The real server on a random loopback port. */
export async function startServer(opts: AppOptions): Promise<{ app: AppInstance; url: string }> {
  const app = await buildApp({ relayPollMs: 250, ...opts })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { app, url: `http://127.0.0.1:${port}` }
}

export async function connectClient(url: string): Promise<TestClient> {
  const socket: TestClient = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
  })
  return socket
}

/** Resolves with the first value `register` delivers, or rejects after `ms`. */
export function waitFor<T>(register: (done: (v: T) => void) => void, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
    register((v) => {
      clearTimeout(timer)
      resolve(v)
    })
  })
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() }
}
