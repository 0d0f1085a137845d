/**
 * One real server process for the fault tests: the app on DATABASE_URL at PORT (0: any), reporting its port on
 * stdout as `{"port":N}`. Killed with SIGKILL by the tests: no graceful anything.
 */
import type { AddressInfo } from 'node:net'
import { buildApp } from '../../src/app.ts'
import { createPgDb } from '../../src/db/pg-db.ts'

const db = createPgDb(process.env.DATABASE_URL!, { onError: () => {} })
const app = await buildApp({ db, relayPollMs: 250, realtime: { retention: false } })
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
process.stdout.write(`${JSON.stringify({ port: (app.server.address() as AddressInfo).port })}\n`)
