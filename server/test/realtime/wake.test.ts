import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, type GcApp } from '../../src/app.ts'
import type { Db } from '../../src/db/types.ts'
import { EVENTS_CHANNEL, wakeRelays } from '../../src/repos/events.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Intake wakes the relays with a NOTIFY of its own after the commit (repos/events.ts wakeRelays), not inside the
 * transaction: a report must still be announced on the channel every relay LISTENs to, and a burst of wake-ups must
 * fold into a couple of NOTIFYs rather than one each.
 */
describe.each(DB_MODES)('relay wake-ups (%s)', (mode) => {
  let app: GcApp
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
})
