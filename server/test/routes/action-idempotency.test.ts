import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db } from '../../src/db/types.ts'
import { requestHash } from '../../src/services/idempotency.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'

/**
 * Idempotency-Key on POST /api/cases/:id/actions/:action: the phone's offline queue sends each action with a key made
 * on the phone and replays it after a dropped link, not knowing whether the first attempt arrived.
 */
const HERE = { lon: 119.652, lat: 29.083 }

describe.each(DB_MODES)('Idempotency-Key on case actions (%s)', (mode) => {
  let app: AppInstance
  let db: Db
  const clock = { now: new Date('2026-11-18T10:00:00+08:00') }

  beforeAll(async () => {
    db = await testDb(mode)
    app = await buildApp({ db, now: () => clock.now })
    await app.ready()
  })
  afterAll(() => app.close())

  const newCase = async () => {
    const res = await app.inject({ method: 'POST', url: '/api/cases', headers: { 'x-actor': 'resident-idem' }, payload: { category: 'sanitation.garbage', description: '垃圾桶满溢（幂等）', ...HERE } })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as { id: string; version: number }
  }
  const act = (id: string, action: string, payload: Record<string, unknown>, headers: Record<string, string>) =>
    app.inject({ method: 'POST', url: `/api/cases/${id}/actions/${action}`, headers: { 'x-actor': 'staff-idem', ...headers }, payload })
  const timeline = async (id: string) => ((await app.inject(`/api/cases/${id}`)).json().timeline as Array<{ action: string }>).map((e) => e.action)
  const keyRow = async (scope: string, key: string) =>
    (await db.query<{ statusCode: number | null }>('SELECT status_code AS "statusCode" FROM idempotency_keys WHERE scope = $1 AND key = $2', [scope, key])).rows[0]

  it('a replay of an action that succeeded answers its first 200 again (Idempotent-Replayed), not 412, and writes nothing', async () => {
    const c = await newCase()
    const key = randomUUID()
    const first = await act(c.id, 'register', { note: '立案' }, { 'if-match': `"${c.version}"`, 'idempotency-key': key })
    expect(first.statusCode, first.body).toBe(200)
    expect(first.headers['idempotent-replayed']).toBeUndefined()
    expect(first.json()).toMatchObject({ status: 'registered', version: 2 })
    // The link dropped before the answer came: the queue sends the same request again.
    const again = await act(c.id, 'register', { note: '立案' }, { 'if-match': `"${c.version}"`, 'idempotency-key': key })
    expect(again.statusCode).toBe(200)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.headers.etag).toBe('"2"')
    expect(again.json()).toEqual(first.json())
    expect(await timeline(c.id)).toEqual(['report', 'register'])
    // Without the key the same request is what it is: a stale version.
    const plain = await act(c.id, 'register', { note: '立案' }, { 'if-match': `"${c.version}"` })
    expect(plain.statusCode).toBe(412)
  })

  it('the replay still answers the first 200 after the case has moved on', async () => {
    const c = await newCase()
    const key = randomUUID()
    const first = await act(c.id, 'register', {}, { 'if-match': '"1"', 'idempotency-key': key })
    expect(first.statusCode).toBe(200)
    const dispatched = await act(c.id, 'dispatch', { department: 'sanitation' }, { 'if-match': '"2"' })
    expect(dispatched.statusCode, dispatched.body).toBe(200)
    const again = await act(c.id, 'register', {}, { 'if-match': '"1"', 'idempotency-key': key })
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual(first.json())
    expect((await app.inject(`/api/cases/${c.id}`)).json()).toMatchObject({ status: 'dispatched', version: 3 })
  })

  it('the same key with another body, action, case or version → 422 idempotency_key_reused, nothing written', async () => {
    const c = await newCase()
    const other = await newCase()
    const key = randomUUID()
    expect((await act(c.id, 'note', { note: '第一次' }, { 'if-match': '"1"', 'idempotency-key': key })).statusCode).toBe(200)
    const tries = [
      act(c.id, 'note', { note: '另一句' }, { 'if-match': '"2"', 'idempotency-key': key }),
      act(c.id, 'note', { note: '第一次' }, { 'if-match': '"2"', 'idempotency-key': key }),
      act(c.id, 'register', {}, { 'if-match': '"1"', 'idempotency-key': key }),
      act(other.id, 'note', { note: '第一次' }, { 'if-match': '"1"', 'idempotency-key': key }),
    ]
    for (const res of await Promise.all(tries)) {
      expect(res.statusCode, res.body).toBe(422)
      expect(res.json()).toMatchObject({ error: 'idempotency_key_reused', field: 'Idempotency-Key' })
    }
    expect(await timeline(c.id)).toEqual(['report', 'note'])
    expect(await timeline(other.id)).toEqual(['report'])
  })

  it('only successes are stored: a 412 or a 409 leaves no key, and the corrected request may use it', async () => {
    const c = await newCase()
    const key = randomUUID()
    const stale = await act(c.id, 'register', {}, { 'if-match': '"7"', 'idempotency-key': key })
    expect(stale.statusCode).toBe(412)
    expect(await keyRow('staff-idem', key)).toBeUndefined()
    const wrongState = await act(c.id, 'close', {}, { 'if-match': '"1"', 'idempotency-key': key })
    expect(wrongState.statusCode).toBe(409)
    expect(wrongState.json().error).toBe('action_not_allowed')
    expect(await keyRow('staff-idem', key)).toBeUndefined()
    const good = await act(c.id, 'register', {}, { 'if-match': '"1"', 'idempotency-key': key })
    expect(good.statusCode).toBe(200)
    expect(await keyRow('staff-idem', key)).toEqual({ statusCode: 200 })
  })

  it('a retry while the first is still running → 409 idempotency_in_progress', async () => {
    const c = await newCase()
    const key = randomUUID()
    const body = { note: '处理中' }
    await db.query('INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4)', [
      'staff-idem', key, requestHash('POST', `/api/cases/${c.id}/actions/note`, { body, ifMatch: 1 }), clock.now,
    ])
    const res = await act(c.id, 'note', body, { 'if-match': '"1"', 'idempotency-key': key })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ error: 'idempotency_in_progress', field: 'Idempotency-Key' })
    expect(await timeline(c.id)).toEqual(['report'])
  })

  it('keys belong to their caller: another caller with the same key is served on its own', async () => {
    const c = await newCase()
    const key = randomUUID()
    expect((await act(c.id, 'note', { note: '甲' }, { 'if-match': '"1"', 'idempotency-key': key })).statusCode).toBe(200)
    const b = await act(c.id, 'note', { note: '甲' }, { 'if-match': '"1"', 'idempotency-key': key, 'x-actor': 'staff-other' })
    expect(b.statusCode).toBe(412)
    expect(b.headers['idempotent-replayed']).toBeUndefined()
  })

  it('a malformed key is a 400 naming the header, before anything is done', async () => {
    const c = await newCase()
    const res = await act(c.id, 'register', {}, { 'if-match': '"1"', 'idempotency-key': 'two words' })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ error: 'invalid_request', field: 'Idempotency-Key' })
    expect(await timeline(c.id)).toEqual(['report'])
  })
})
