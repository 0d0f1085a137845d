import { describe, expect, it } from 'vitest'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { appendEvent, eventsInScope } from '../../src/repos/events.ts'
import { maxSeq } from '../realtime/support.ts'

/**
 * The replay read (what a socket that resumes is sent) under each kind of scope, in both database modes: the same
 * SQL must read its array parameters the same in PGlite as in PostgreSQL (lquery[] is an extension's type).
 */
describe.each(DB_MODES)('eventsInScope (%s)', (mode) => {
  it('reads by region, by actor, both and neither; empty arrays included', async () => {
    const db = await testDb(mode)
    const from = await maxSeq(db)
    const tag = `t${Date.now().toString(36)}`
    const seqs = await db.transaction(async (tx) => [
      await appendEvent(tx, 'test:scope', `d.${tag}a.g1`, { n: 0 }, ['resident-a']),
      await appendEvent(tx, 'test:scope', `d.${tag}b.g2`, { n: 1 }, ['resident-b']),
      await appendEvent(tx, 'test:scope', null, { n: 2 }),
      await appendEvent(tx, 'test:scope', `d.${tag}b.g3`, { n: 3 }, ['resident-a', 'W1']),
    ])
    const upTo = seqs[3]
    const read = async (scope: Parameters<typeof eventsInScope>[3]) =>
      (await eventsInScope(db, from, upTo, scope, 100)).events.filter((e) => e.kind === 'test:scope').map((e) => (e.payload as { n: number }).n)

    expect(await read(null)).toEqual([0, 1, 2, 3])
    // Events without a region are for everyone.
    expect(await read({ regions: [] })).toEqual([2])
    expect(await read({ regions: [`${tag}a`] })).toEqual([0, 2])
    expect(await read({ regions: [`${tag}b`, `${tag}a`] })).toEqual([0, 1, 2, 3])
    expect(await read({ regions: [], mine: 'resident-a' })).toEqual([0, 2, 3])
    expect(await read({ regions: [`${tag}b`], mine: 'resident-a' })).toEqual([0, 1, 2, 3])
    expect(await read({ regions: ['g2'], mine: 'nobody' })).toEqual([1, 2])
  })
})
