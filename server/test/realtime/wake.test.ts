import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db } from '../../src/db/types.ts'
import { EVENTS_CHANNEL, WAKE_EVERY_MS, wakeRelays } from '../../src/repos/events.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Intake wakes the relays with a NOTIFY of its own after the commit (repos/events.ts wakeRelays), not inside the
 * transaction: a report must still be announced on the channel every relay LISTENs to, and a burst of wake-ups must
 * fold into a couple of NOTIFYs rather than one each.
 */
describe.each(DB_MODES)('relay wake-ups (%s)', (mode) => {
  let app: AppInstance
  let db: Db
  const heard: number[] = []
  let unlisten: () => Promise<void>
  beforeAll(async () => {
    db = await testDb(mode)
    app = await buildApp({ db })
    await app.ready()
    unlisten = await db.listen(EVENTS_CHANNEL, () => heard.push(Date.now()))
  })
  afterAll(async () => {
    await unlisten()
    await app.close()
  })

  /** Waits until nothing more arrives for 300 ms; returns how many came since `from`. */
  async function settled(from: number): Promise<number> {
    let n = -1
    while (n !== heard.length - from) {
      n = heard.length - from
      await sleep(300)
    }
    return n
  }

  it('a report is announced on the events channel after its commit', async () => {
    await settled(heard.length)
    const before = heard.length
    const res = await app.inject({ method: 'POST', url: '/api/cases', payload: { category: 'sanitation', description: '唤醒测试', lon: 119.644077, lat: 29.0709078 } })
    expect(res.statusCode, res.body).toBe(201)
    expect(await settled(before)).toBeGreaterThanOrEqual(1)
  })

  it('a burst of 50 wake-ups sends one NOTIFY and at most one more, not 50', async () => {
    await settled(heard.length)
    const before = heard.length
    for (let i = 0; i < 50; i++) wakeRelays(db)
    const n = await settled(before)
    expect(n).toBeGreaterThanOrEqual(1)
    expect(n).toBeLessThanOrEqual(2)
    // And it is ready for the next one.
    wakeRelays(db)
    expect(await settled(before + n)).toBe(1)
  })

  it(`a steady stream of wake-ups sends at most one NOTIFY per ${WAKE_EVERY_MS} ms, and one after the last wake-up`, async () => {
    await settled(heard.length)
    const before = heard.length
    // 300 wake-ups over ~300 ms (one a millisecond, as intake at several hundred reports a second).
    const sentAt: number[] = []
    const t0 = Date.now()
    while (Date.now() - t0 < 300) {
      wakeRelays(db)
      sentAt.push(Date.now())
      await sleep(1)
    }
    const lastWake = Date.now()
    const n = await settled(before)
    const span = lastWake - t0
    expect(n).toBeGreaterThanOrEqual(2)
    expect(n).toBeLessThanOrEqual(Math.ceil(span / WAKE_EVERY_MS) + 2)
    expect(n).toBeLessThan(sentAt.length / 3)
    // The last wake-up is announced: a NOTIFY is heard after it was asked for.
    expect(heard.at(-1)!).toBeGreaterThanOrEqual(lastWake - 1)
  })
})
