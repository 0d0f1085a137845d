import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db } from '../../src/db/types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'

/**
 * `madeAt`: when the user made a report or an action on the phone. An item that waited in the field app's offline
 * queue keeps its own time; the server records it beside its own, and every limit keeps running from the server's.
 */
const HERE = { lon: 119.652, lat: 29.083 }
const BODY = { category: 'sanitation.garbage', description: '垃圾桶满溢（离线）', ...HERE }
const MIN = 60_000
const DAY = 86_400_000

describe.each(DB_MODES)('madeAt (%s)', (mode) => {
  let app: AppInstance
  let db: Db
  const clock = { now: new Date('2026-11-18T10:00:00+08:00') }
  const ago = (ms: number) => new Date(clock.now.getTime() - ms).toISOString()

  beforeAll(async () => {
    db = await testDb(mode)
    app = await buildApp({ db, now: () => clock.now })
    await app.ready()
  })
  afterAll(() => app.close())

  const report = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/cases', headers: { 'x-actor': 'worker-offline' }, payload })

  it('a report made offline keeps its time as madeAt; reportedAt and the limit are the server’s', async () => {
    const made = ago(3 * 3_600_000)
    const offline = await report({ ...BODY, madeAt: made })
    expect(offline.statusCode, offline.body).toBe(201)
    const online = await report(BODY)
    expect(online.statusCode).toBe(201)
    const [a, b] = [offline.json(), online.json()]
    expect(a.madeAt).toBe(made)
    expect(b.madeAt).toBeNull()
    expect(a.reportedAt).toBe(clock.now.toISOString())
    expect(a.dueAt).toBe(b.dueAt)
    const stored = (await app.inject(`/api/cases/${a.id}`)).json()
    expect(stored).toMatchObject({ madeAt: made, reportedAt: clock.now.toISOString(), dueAt: a.dueAt })
    const { rows } = await db.query<{ madeAt: Date }>('SELECT made_at AS "madeAt" FROM cases WHERE id = $1', [a.id])
    expect(new Date(rows[0].madeAt).toISOString()).toBe(made)
    // A time with an offset is the same instant.
    const zoned = await report({ ...BODY, madeAt: '2026-11-18T09:30:00+08:00' })
    expect(zoned.json().madeAt).toBe('2026-11-18T01:30:00.000Z')
  })

  it('an action carries madeAt in its timeline entry (data.madeAt); without one there is none', async () => {
    const c = (await report(BODY)).json()
    const made = ago(20 * MIN)
    const res = await app.inject({
      method: 'POST',
      url: `/api/cases/${c.id}/actions/register`,
      headers: { 'x-actor': 'staff-1', 'if-match': '"1"' },
      payload: { note: '立案', madeAt: made },
    })
    expect(res.statusCode, res.body).toBe(200)
    const noted = await app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/note`, headers: { 'x-actor': 'staff-1', 'if-match': '"2"' }, payload: { note: '在线' } })
    expect(noted.statusCode).toBe(200)
    const timeline = (await app.inject(`/api/cases/${c.id}`)).json().timeline as Array<{ action: string; at: string; data: Record<string, unknown> }>
    expect(timeline[1]).toMatchObject({ action: 'register', at: clock.now.toISOString(), data: { madeAt: made } })
    expect(timeline[2].data).not.toHaveProperty('madeAt')
    // Every action body takes it: the body schemas share it.
    for (const [action, body] of [['reject', { reason: 'x' }], ['rate', { rating: 5 }], ['merge', { into: c.id }]] as const) {
      const r = await app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/${action}`, headers: { 'x-actor': 'staff-1' }, payload: { ...body, madeAt: made } })
      expect(r.statusCode, `${action}: ${r.body}`).not.toBe(400)
    }
  })

  it('refuses a madeAt more than 5 minutes ahead of the server or more than 7 days behind it: 400 naming madeAt, nothing written', async () => {
    const { rows: before } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cases')
    for (const madeAt of [ago(-6 * MIN), ago(7 * DAY + MIN), '2020-01-01T00:00:00Z']) {
      const res = await report({ ...BODY, madeAt })
      expect(res.statusCode, madeAt).toBe(400)
      expect(res.json()).toMatchObject({ error: 'invalid_request', field: 'madeAt' })
      expect(res.json().message).toMatch(/madeAt/)
    }
    const { rows: after } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cases')
    expect(after[0].n).toBe(before[0].n)
    // Just inside either bound is taken.
    for (const madeAt of [ago(-4 * MIN), ago(7 * DAY - MIN)]) expect((await report({ ...BODY, madeAt })).statusCode, madeAt).toBe(201)
    // Not a date-time at all: the schema's 400, naming the field too.
    const garbled = await report({ ...BODY, madeAt: 'yesterday' })
    expect(garbled.statusCode).toBe(400)
    expect(garbled.json().field).toBe('madeAt')
    // The same bounds on an action, which then changes nothing.
    const c = (await report(BODY)).json()
    const late = await app.inject({
      method: 'POST',
      url: `/api/cases/${c.id}/actions/register`,
      headers: { 'x-actor': 'staff-1', 'if-match': '"1"' },
      payload: { madeAt: ago(8 * DAY) },
    })
    expect(late.statusCode).toBe(400)
    expect(late.json()).toMatchObject({ error: 'invalid_request', field: 'madeAt' })
    expect((await app.inject(`/api/cases/${c.id}`)).json()).toMatchObject({ status: 'reported', version: 1 })
  })
})
