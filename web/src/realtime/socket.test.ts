/**
 * The web app's own live link (socket.ts + the cases and connection stores), run in Node against the real server:
 * after a server restart and after a reset the page holds exactly the database's open cases, and applied nothing
 * twice. (The browser suite, web/e2e, shows the same page in Chromium.)
 */
import type { AddressInfo } from 'node:net'
import { createPinia, setActivePinia } from 'pinia'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../server/src/app.ts'
import type { AppInstance } from '../../../server/src/app-types.ts'
import type { Db } from '../../../server/src/db/types.ts'
import { pruneEvents } from '../../../server/src/repos/events.ts'
import { dbOpenVersions, maxSeq, report, sleep } from '../../../server/test/realtime/support.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { useCasesStore } from '../stores/cases.ts'
import { useConnectionStore } from '../stores/connection.ts'
import { useRegionsStore } from '../stores/regions.ts'
import { startRealtime, type Realtime } from './socket.ts'

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(20)
  }
}

async function serve(db: Db, port = 0): Promise<{ app: AppInstance; url: string; port: number }> {
  const app = await buildApp({ db, relayPollMs: 250, realtime: { retention: false } })
  await app.listen({ port, host: '127.0.0.1' })
  const p = (app.server.address() as AddressInfo).port
  return { app, url: `http://127.0.0.1:${p}`, port: p }
}

describe.each(DB_MODES)('the page’s live link (%s)', (mode) => {
  let db: Db
  let base = ''
  const realFetch = globalThis.fetch
  let rt: Realtime | undefined
  beforeAll(async () => {
    db = await testDb(mode)
    // The page fetches same-origin paths; here they go to the server under test.
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
      realFetch(typeof input === 'string' && input.startsWith('/') ? `${base}${input}` : input, init)) as typeof fetch
  })
  afterAll(() => {
    rt?.stop()
    globalThis.fetch = realFetch
  })

  it('holds the database’s open cases after a server restart and after a reset, each event applied once', async () => {
    const pinia = createPinia()
    setActivePinia(pinia)
    const cases = useCasesStore(pinia)
    const connection = useConnectionStore(pinia)
    const regions = useRegionsStore(pinia)
    const openInStore = () => new Map(cases.openCases.map((c) => [c.id, c.version]))

    let s = await serve(db)
    base = s.url
    void cases.load() // as main.ts does
    rt = startRealtime(pinia, { url: s.url })
    await until(() => connection.state === 'online', 'online')
    for (let i = 0; i < 5; i++) await report(s.url, `page ${i}`, i)
    let last = await maxSeq(db)
    await until(() => connection.lastSeq >= last, 'the first five')

    // Restart on the same port; others write meanwhile.
    const port = s.port
    await s.app.close()
    const other = await serve(db)
    for (let i = 0; i < 5; i++) await report(other.url, `while the server is down ${i}`, i)
    s = await serve(db, port)
    try {
      for (let i = 0; i < 3; i++) await report(s.url, `after the restart ${i}`, i)
      last = await maxSeq(db)
      await until(() => connection.lastSeq >= last && connection.state === 'online', 'caught up after the restart')
      expect(openInStore()).toEqual(await dbOpenVersions(db))
      expect(rt.stream.stats.duplicates).toBe(0)
      expect(rt.stream.stats.resets).toBe(0)
      expect(connection.reconnects).toBeGreaterThanOrEqual(1)

      // Offline while the log is pruned past the page's position: the server says reset, the page reloads.
      rt.socket.disconnect()
      for (let i = 0; i < 3; i++) await report(other.url, `pruned away ${i}`, i)
      await pruneEvents(db, { keepDays: 0, keepRows: 1 }, new Date())
      rt.socket.connect()
      last = await maxSeq(db)
      // After a reset the page also reloads the boundaries (an import may be among what it missed).
      await until(
        () => rt!.stream.stats.resets === 1 && connection.state === 'online' && connection.lastSeq >= last && regions.loaded && !regions.loading,
        'reloaded after the reset',
      )
      expect(openInStore()).toEqual(await dbOpenVersions(db))
      expect(rt.stream.stats.duplicates).toBe(0)
    } finally {
      rt.stop()
      rt = undefined
      await s.app.close()
      await other.app.close()
    }
  })
})
