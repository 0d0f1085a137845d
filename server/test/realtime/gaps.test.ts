/**
 * seq values are drawn in order but become visible in commit order. The relay must never move past a seq that is
 * still to commit (it would be lost for good), and must move past one that was rolled back (without a timer).
 * Two real connections commit out of order here; the relay under test is a bare one with a recording sink.
 */
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { startServer } from '../../../test/support/server.ts'
import type { Db } from '../../src/db/types.ts'
import { startRelay, type Relay, type RelaySink } from '../../src/realtime/relay.ts'
import { appendEvent, eventsInScope, pruneEvents, type LoggedEvent } from '../../src/repos/events.ts'
import { Dashboard, audit, dbOpenVersions, logSeqs, maxSeq, sleep } from './support.ts'

class Recorder implements RelaySink {
  started: number | null = null
  readonly seqs: number[] = []
  readonly lostRanges: Array<[number, number]> = []
  start(position: number) {
    this.started = position
  }
  deliver(events: LoggedEvent[]) {
    for (const e of events) this.seqs.push(e.seq)
  }
  lost(from: number, through: number) {
    this.lostRanges.push([from, through])
  }
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(5)
  }
}

const INSERT = `INSERT INTO events (kind, region_path, payload) VALUES ('test:gap', NULL, '{}') RETURNING seq`

describe.runIf(DB_MODES.includes('postgres'))('relay and out-of-order commits (postgres)', () => {
  let db: Db
  let relay: Relay
  let rec: Recorder
  const clients: pg.Client[] = []
  const conn = async () => {
    const c = new pg.Client({ connectionString: inject('pgUrl')! })
    await c.connect()
    clients.push(c)
    return c
  }
  const insert = async (c: pg.Client) => Number((await c.query(INSERT)).rows[0].seq)

  beforeAll(async () => {
    db = await testDb('postgres')
  })
  afterEach(async () => {
    await relay?.stop()
    for (const c of clients.splice(0)) await c.end().catch(() => {})
  })

  async function freshRelay(): Promise<void> {
    rec = new Recorder()
    relay = await startRelay(db, rec, { pollMs: 50, onWarn: () => {} })
    await relay.ready()
  }

  it('holds a later seq back until the earlier transaction commits, then delivers both in order', async () => {
    await freshRelay()
    const [c1, c2] = [await conn(), await conn()]
    await c1.query('BEGIN')
    const s1 = await insert(c1)
    await c2.query('BEGIN')
    const s2 = await insert(c2)
    await c2.query('COMMIT') // s2 is visible, s1 is not
    expect(s2).toBeGreaterThan(s1)
    await relay.drain()
    await sleep(300) // many gap retries and polls
    expect(relay.position).toBeLessThan(s1)
    expect(rec.seqs).not.toContain(s2)
    await c1.query('COMMIT')
    await until(() => rec.seqs.includes(s2), 's2')
    expect(rec.seqs.slice(-2)).toEqual([s1, s2])
    expect(relay.stats.seqsSkipped).toBe(0)
  })

  it('moves past a rolled-back seq as soon as every older transaction has ended', async () => {
    await freshRelay()
    const [c1, c2] = [await conn(), await conn()]
    await c1.query('BEGIN')
    const s1 = await insert(c1)
    await c2.query('BEGIN')
    const s2 = await insert(c2)
    await c2.query('COMMIT')
    await relay.drain()
    expect(rec.seqs).not.toContain(s2)
    await c1.query('ROLLBACK')
    await until(() => rec.seqs.includes(s2), 's2 after the rollback')
    expect(rec.seqs).not.toContain(s1)
    expect(relay.stats.seqsSkipped).toBeGreaterThanOrEqual(1)
  })

  it('waits for a long transaction that began before the gap was seen (the documented price), never on a timer', async () => {
    await freshRelay()
    const [long, c1, c2] = [await conn(), await conn(), await conn()]
    await long.query('BEGIN')
    await long.query('SELECT pg_current_xact_id()') // holds an id, writes nothing
    await c1.query('BEGIN')
    const s1 = await insert(c1)
    await c2.query('BEGIN')
    const s2 = await insert(c2)
    await c2.query('COMMIT')
    await c1.query('ROLLBACK')
    await sleep(400)
    expect(rec.seqs).not.toContain(s2) // s1 could still belong to `long` as far as the relay can tell
    await long.query('COMMIT')
    await until(() => rec.seqs.includes(s2), 's2 after the long transaction')
    expect(rec.seqs).not.toContain(s1)
  })

  it('does not start past a seq that is still in flight when the process starts', async () => {
    const [c1, c2] = [await conn(), await conn()]
    await c1.query('BEGIN')
    const s1 = await insert(c1)
    await c2.query('BEGIN')
    const s2 = await insert(c2)
    await c2.query('COMMIT')
    rec = new Recorder()
    relay = await startRelay(db, rec, { pollMs: 50 })
    let ready = false
    void relay.ready().then(() => (ready = true))
    await sleep(300)
    expect(ready).toBe(false) // s1 may still commit: the start position is not known yet
    await c1.query('COMMIT')
    await until(() => ready, 'the relay to start')
    expect(rec.started).toBeGreaterThanOrEqual(s2)
    // Whoever resumes from before s1 gets it from the log.
    const replay = await eventsInScope(db, s1 - 1, relay.position, null, 10)
    expect(replay.events.map((e) => e.seq)).toEqual(expect.arrayContaining([s1, s2]))
  })
})

describe.each(DB_MODES)('a relay that fell behind the retention window (%s)', (mode) => {
  it('says what it lost (its live sockets get reset) and goes on from the prune mark', async () => {
    const db = await testDb(mode)
    const rec = new Recorder()
    // No LISTEN, a poll that never comes: it reads only when told to.
    const relay = await startRelay(db, rec, { listen: false, pollMs: 3_600_000 })
    try {
      await relay.ready()
      const from = relay.position
      for (let i = 0; i < 6; i++) await db.transaction((tx) => appendEvent(tx, 'test:behind', null, { i }))
      const { prunedThrough } = await pruneEvents(db, { keepDays: 0, keepRows: 2 }, new Date())
      expect(prunedThrough).toBeGreaterThan(from)
      await relay.drain()
      expect(rec.lostRanges).toEqual([[from, prunedThrough]])
      expect(rec.seqs).toEqual(await logSeqs(db, prunedThrough))
      expect(relay.position).toBe(await maxSeq(db))
    } finally {
      await relay.stop()
    }
  })
})

describe.each(DB_MODES)('many writers at once, some rolling back (%s)', (mode) => {
  let db: Db
  let app: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    db = await testDb(mode)
    app = await startServer({ db, realtime: { retention: false } })
  })
  afterAll(async () => {
    await app.app.close()
  })

  it('delivers every committed event exactly once, in seq order', async () => {
    const d = new Dashboard()
    await d.connect(app.url)
    const from = d.position!
    // 60 transactions, 1–3 events each, finishing in random order; every fifth rolls back.
    await Promise.all(
      Array.from({ length: 60 }, (_, t) =>
        db
          .transaction(async (tx) => {
            const n = 1 + (t % 3)
            for (let i = 0; i < n; i++) await appendEvent(tx, 'test:writers', null, { t, i })
            await sleep(Math.floor(Math.random() * 20))
            if (t % 5 === 4) throw new Error('rolled back on purpose')
          })
          .catch(() => {}),
      ),
    )
    const last = await maxSeq(db)
    await d.reach(last)
    expect(audit(d.applied, await logSeqs(db, from, last))).toEqual({ lost: [], twice: [], outOfOrder: 0 })
    expect(d.openVersions()).toEqual(await dbOpenVersions(db))
    d.disconnect()
  })
})
