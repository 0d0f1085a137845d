import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import { createPgDb } from '../../src/db/pg-db.ts'
import type { Db } from '../../src/db/types.ts'
import { pruneKeys, requestHash } from '../../src/services/idempotency.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import * as img from '../fixtures/images.ts'

const HERE = { lon: 119.652, lat: 29.083 }
const BODY = { category: 'sanitation.garbage', description: '垃圾桶满溢', ...HERE }

async function caseCount(db: Db): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cases')
  return rows[0].n
}

describe.each(DB_MODES)('intake (%s)', (mode) => {
  let app: AppInstance
  let db: Db
  const clock = { now: new Date('2026-11-18T10:00:00+08:00') }
  let n = 0
  const freshKey = () => `key-${mode}-${Date.now()}-${n++}`
  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/api/cases', headers: { 'x-actor': 'worker-1', ...headers }, payload: payload as object })

  beforeAll(async () => {
    db = await testDb(mode)
    app = await buildApp({ db, now: () => clock.now })
    await app.ready()
  })
  afterAll(() => app.close())

  describe('Idempotency-Key', () => {
    it('same key and body → the first response again, one case written', async () => {
      const key = freshKey()
      const before = await caseCount(db)
      const first = await post(BODY, { 'idempotency-key': key })
      expect(first.statusCode).toBe(201)
      expect(first.headers['idempotent-replayed']).toBeUndefined()
      const again = await post(BODY, { 'idempotency-key': key })
      expect(again.statusCode).toBe(201)
      expect(again.headers['idempotent-replayed']).toBe('true')
      expect(again.json()).toEqual(first.json())
      expect(await caseCount(db)).toBe(before + 1)
    })

    it('same body with the keys in another order is the same request', async () => {
      const key = freshKey()
      const first = await post(BODY, { 'idempotency-key': key })
      const reordered = Object.fromEntries(Object.entries(BODY).reverse())
      const again = await post(reordered, { 'idempotency-key': key })
      expect(again.statusCode).toBe(201)
      expect(again.json().id).toBe(first.json().id)
    })

    it('same key, different body → 422, nothing written', async () => {
      const key = freshKey()
      await post(BODY, { 'idempotency-key': key })
      const before = await caseCount(db)
      const res = await post({ ...BODY, description: '另一件事' }, { 'idempotency-key': key })
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({ error: 'idempotency_key_reused', field: 'Idempotency-Key' })
      expect(await caseCount(db)).toBe(before)
    })

    it('keys are scoped to the caller: another caller may use the same key', async () => {
      const key = freshKey()
      const a = await post(BODY, { 'idempotency-key': key, 'x-actor': 'worker-a' })
      const b = await post(BODY, { 'idempotency-key': key, 'x-actor': 'worker-b' })
      expect(a.statusCode).toBe(201)
      expect(b.statusCode).toBe(201)
      expect(b.json().id).not.toBe(a.json().id)
    })

    it('a retry while the first is still being processed → 409', async () => {
      const key = freshKey()
      // The state a running request leaves behind: its claim without a stored response.
      await db.query(`INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ('worker-1', $1, $2, $3)`, [
        key,
        requestHash('POST', '/api/cases', BODY),
        clock.now,
      ])
      const res = await post(BODY, { 'idempotency-key': key })
      expect(res.statusCode).toBe(409)
      expect(res.json()).toMatchObject({ error: 'idempotency_in_progress' })
    })

    it.runIf(mode === 'postgres')('a real concurrent retry while the first holds its transaction open → 409, then the replay', async () => {
      const key = freshKey()
      const blocker = createPgDb(inject('pgUrl')!)
      try {
        let first: Promise<any> | undefined
        await blocker.transaction(async (tx) => {
          // Block the first request inside its transaction (it reads the category table first).
          await tx.query('LOCK TABLE categories IN ACCESS EXCLUSIVE MODE')
          first = post(BODY, { 'idempotency-key': key })
          // Wait until its claim is committed (the claim is its own short transaction, before the work).
          for (let i = 0; i < 100; i++) {
            const { rows } = await db.query('SELECT 1 FROM idempotency_keys WHERE scope = $1 AND key = $2', ['worker-1', key])
            if (rows.length) break
            await new Promise((r) => setTimeout(r, 20))
          }
          const retry = await post(BODY, { 'idempotency-key': key })
          expect(retry.statusCode).toBe(409)
        })
        const done = await first!
        expect(done.statusCode).toBe(201)
        const replay = await post(BODY, { 'idempotency-key': key })
        expect(replay.json().id).toBe(done.json().id)
      } finally {
        await blocker.close()
      }
    })

    it('a failed request leaves no key: the corrected retry with the same key succeeds', async () => {
      const key = freshKey()
      const bad = await post({ ...BODY, lon: 121.47, lat: 31.23 }, { 'idempotency-key': key })
      expect(bad.statusCode).toBe(422)
      const good = await post(BODY, { 'idempotency-key': key })
      expect(good.statusCode).toBe(201)
    })

    it('an abandoned claim (its process died) is taken over after a minute', async () => {
      const key = freshKey()
      const hash = requestHash('POST', '/api/cases', BODY)
      await db.query(`INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ('worker-1', $1, $2, $3)`, [
        key,
        hash,
        new Date(clock.now.getTime() - 5 * 60_000),
      ])
      const res = await post(BODY, { 'idempotency-key': key })
      expect(res.statusCode).toBe(201)
    })

    it('keeps keys at least 24 h and prunes them after 48 h', async () => {
      const key = freshKey()
      const first = await post(BODY, { 'idempotency-key': key })
      await pruneKeys(db, new Date(clock.now.getTime() + 25 * 3600_000))
      const later = await post(BODY, { 'idempotency-key': key })
      expect(later.json().id).toBe(first.json().id)
      await pruneKeys(db, new Date(clock.now.getTime() + 49 * 3600_000))
      const { rows } = await db.query('SELECT 1 FROM idempotency_keys WHERE key = $1', [key])
      expect(rows).toHaveLength(0)
    })

    it('refuses a malformed key with 400 naming the header and the rule', async () => {
      // A space needs the quotes of a structured-field string; so do quotes and backslashes, escaped.
      for (const bad of ['has space', '"unterminated', '"a"junk', '""', '"\\x"', '"é"', `"${'k'.repeat(256)}"`, 'a\\b']) {
        const res = await post(BODY, { 'idempotency-key': bad })
        expect(res.statusCode, bad).toBe(400)
        expect(res.json().field).toBe('Idempotency-Key')
        expect(res.json().message).toContain('structured-field string')
      }
    })

    it('takes the draft\'s form, a structured-field string: spaces and escapes inside the quotes, parameters after it', async () => {
      const key = `${freshKey()} with "spaces" and \\`
      const sf = `"${key.replace(/[\\"]/g, (c) => `\\${c}`)}"`
      const first = await post(BODY, { 'idempotency-key': sf })
      expect(first.statusCode, first.body).toBe(201)
      const again = await post(BODY, { 'idempotency-key': `${sf};client=field-app` })
      expect(again.headers['idempotent-replayed']).toBe('true')
      expect(again.json().id).toBe(first.json().id)
      const { rows } = await db.query('SELECT 1 FROM idempotency_keys WHERE key = $1', [key])
      expect(rows).toHaveLength(1)
    })

    it('a bare key and the same key quoted are one key', async () => {
      const key = freshKey()
      const first = await post(BODY, { 'idempotency-key': key })
      const quoted = await post(BODY, { 'idempotency-key': `"${key}"` })
      expect(quoted.headers['idempotent-replayed']).toBe('true')
      expect(quoted.json().id).toBe(first.json().id)
    })
  })

  describe('photos on a case', () => {
    const upload = async (n: number): Promise<string[]> => {
      const one = await img.jpeg()
      const res = await app.inject({
        method: 'POST',
        url: '/api/photos',
        ...img.multipart(Array.from({ length: n }, (_, i) => ({ name: 'photos', filename: `p${i}.jpg`, data: one }))),
      })
      expect(res.statusCode, res.body).toBe(201)
      return res.json().photos.map((p: any) => p.id)
    }

    it('attaches uploaded photos at intake and on handling; they show in the detail and the timeline', async () => {
      const ids = await upload(3)
      const c = (await post({ ...BODY, photos: ids.slice(0, 2) })).json()
      let detail = (await app.inject(`/api/cases/${c.id}`)).json()
      // Photos stored in one upload share a timestamp: the detail lists them as a set, the timeline in the order sent.
      expect(detail.photos.map((p: any) => p.id).sort()).toEqual(ids.slice(0, 2).sort())
      expect(detail.timeline[0].attachments).toEqual(ids.slice(0, 2).map((id) => `/api/photos/${id}`))
      const served = await app.inject(detail.photos[0].url)
      expect(served.statusCode).toBe(200)
      expect(served.headers['x-content-type-options']).toBe('nosniff')

      const note = await app.inject({
        method: 'POST',
        url: `/api/cases/${c.id}/actions/note`,
        headers: { 'x-actor': 'worker-1', 'if-match': '"1"' },
        payload: { note: '现场照片', photos: [ids[2]] },
      })
      expect(note.statusCode, note.body).toBe(200)
      detail = (await app.inject(`/api/cases/${c.id}`)).json()
      expect(detail.photos).toHaveLength(3)
      expect(detail.timeline.at(-1)).toMatchObject({ action: 'note', attachments: [`/api/photos/${ids[2]}`] })
    })

    it('refuses a photo of another case or an unknown one, writing nothing', async () => {
      const [id] = await upload(1)
      const first = await post({ ...BODY, photos: [id] })
      expect(first.statusCode).toBe(201)
      const before = await caseCount(db)
      const taken = await post({ ...BODY, photos: [id] })
      expect(taken.statusCode).toBe(422)
      expect(taken.json()).toMatchObject({ error: 'photo_in_use', field: 'photos[0]' })
      const unknown = await post({ ...BODY, photos: ['00000000-0000-4000-8000-000000000001'] })
      expect(unknown.statusCode).toBe(422)
      expect(unknown.json().field).toBe('photos[0]')
      expect(await caseCount(db)).toBe(before)
    })

    it('attaches a photo uploaded under a name only for that caller: anyone else is told there is no such photo', async () => {
      const form = img.multipart([{ name: 'photos', filename: 'mine.jpg', data: await img.jpeg() }])
      const up = await app.inject({ method: 'POST', url: '/api/photos', payload: form.payload, headers: { ...form.headers, 'x-actor': 'uploader-a' } })
      expect(up.statusCode, up.body).toBe(201)
      const [id] = up.json().photos.map((p: { id: string }) => p.id)
      const before = await caseCount(db)
      const other = await post({ ...BODY, photos: [id] }, { 'x-actor': 'somebody-else' })
      expect(other.statusCode).toBe(422)
      expect(other.json()).toMatchObject({ error: 'unknown_photo', field: 'photos[0]' })
      expect(await caseCount(db)).toBe(before)
      const own = await post({ ...BODY, photos: [id] }, { 'x-actor': 'uploader-a' })
      expect(own.statusCode, own.body).toBe(201)
    })
  })

  it('keeps case codes unique past the millionth case (at least six digits, never cut)', async () => {
    await db.query(`SELECT setval('case_code_seq', greatest(999998, (SELECT last_value FROM case_code_seq)))`)
    const codes = []
    for (let i = 0; i < 3; i++) codes.push((await post(BODY)).json().code)
    expect(new Set(codes).size).toBe(3)
    for (const c of codes) expect(c).toMatch(/^GC\d{8}\d{6,}$/)
    expect(codes.some((c) => c.length > 16)).toBe(true)
  })

  it('the 201 answer and the case:created event are the case as the database holds it, field for field', async () => {
    // Intake builds the case from the values it writes instead of reading it back: this checks they agree.
    for (const body of [BODY, { ...BODY, priority: 'urgent', address: '集贤路 12 号', source: 'hotline' }]) {
      const res = await post(body)
      expect(res.statusCode, res.body).toBe(201)
      const { possibleDuplicates, ...created } = res.json()
      expect(Array.isArray(possibleDuplicates)).toBe(true)
      const detail = (await app.inject({ method: 'GET', url: `/api/cases/${created.id}`, headers: { 'x-actor': 'worker-1' } })).json()
      const { timeline, allowedActions, photos, ...stored } = detail
      expect(allowedActions).toContain('register')
      expect(photos).toEqual([])
      expect(created).toEqual(stored)
      expect(timeline).toHaveLength(1)
      expect(timeline[0]).toMatchObject({ action: 'report', toStatus: 'reported', actor: 'worker-1', toLevel: created.owningLevel })
      const { rows } = await db.query<{ payload: { case: unknown }; regionPath: string }>(
        `SELECT payload, region_path::text AS "regionPath" FROM events WHERE kind = 'case:created' AND payload->'case'->>'id' = $1`,
        [created.id],
      )
      expect(rows).toHaveLength(1)
      expect(rows[0].payload.case).toEqual(stored)
      expect(rows[0].regionPath.split('.').at(-1)).toBe(created.regions.at(-1).id)
    }
  })

  describe('possible duplicates and merge', () => {
    it('returns open same-category cases within 50 m of the last 24 h, and merges one', async () => {
      clock.now = new Date('2026-11-18T11:00:00+08:00')
      const p = { lon: 119.6412, lat: 29.0921 }
      const first = (await post({ ...BODY, category: 'traffic_parking.illegal_parking', ...p })).json()
      // 30 m north: a duplicate; 120 m east: not; other category: not.
      const near = { lon: p.lon, lat: p.lat + 30 / 111_320 }
      await post({ ...BODY, category: 'traffic_parking.illegal_parking', lon: p.lon + 120 / 97_300, lat: p.lat })
      await post({ ...BODY, category: 'sanitation.garbage', ...near })
      const second = (await post({ ...BODY, category: 'traffic_parking.illegal_parking', ...near })).json()
      expect(second.possibleDuplicates.map((d: any) => d.id)).toEqual([first.id])
      expect(second.possibleDuplicates[0].distanceM).toBeGreaterThan(25)
      expect(second.possibleDuplicates[0].distanceM).toBeLessThan(35)

      clock.now = new Date('2026-11-19T12:00:00+08:00') // 25 h later: out of the window
      const third = (await post({ ...BODY, category: 'traffic_parking.illegal_parking', ...near })).json()
      expect(third.possibleDuplicates.map((d: any) => d.id)).not.toContain(first.id)

      const merged = await app.inject({
        method: 'POST',
        url: `/api/cases/${second.id}/actions/merge`,
        headers: { 'x-actor': 'dispatcher-1', 'if-match': '"1"' },
        payload: { into: first.id, note: '同一辆车' },
      })
      expect(merged.statusCode).toBe(200)
      expect(merged.json()).toMatchObject({ status: 'merged', mergedInto: first.id })
      const target = (await app.inject(`/api/cases/${first.id}`)).json()
      expect(target.timeline.at(-1)).toMatchObject({ action: 'duplicate_merged', data: { duplicateId: second.id } })
    })
  })

  describe('GET /api/cases filters', () => {
    // A window nobody else uses: 2026-03-02 (Monday) 08:00–18:00 Shanghai.
    const T = (h: number) => new Date(Date.UTC(2026, 2, 2, h - 8, 0, 0))
    let ids: Record<string, string> = {}
    beforeAll(async () => {
      const make = async (key: string, hour: number, body: Record<string, unknown>) => {
        clock.now = T(hour)
        const res = await post({ ...BODY, ...body })
        expect(res.statusCode, res.body).toBe(201)
        ids[key] = res.json().id
      }
      ids = {}
      await make('lightUrgent', 9, { category: 'public_facilities.street_light', priority: 'urgent' })
      await make('roadHotline', 10, { category: 'public_facilities.road', source: 'hotline' })
      await make('dispute', 11, { category: 'dispute.neighbour', lon: 119.70, lat: 29.12 })
      await make('disputeFamily', 12, { category: 'dispute' })
      clock.now = T(13)
      const c = (await app.inject(`/api/cases/${ids.disputeFamily}`)).json()
      const rej = await app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/reject`, headers: { 'x-actor': 's', 'if-match': '"1"' }, payload: { reason: '重复' } })
      expect(rej.statusCode).toBe(200)
    })
    const list = async (q: string) => {
      const res = await app.inject(`/api/cases?from=${T(8).toISOString()}&to=${T(18).toISOString()}&${q}`)
      expect(res.statusCode, res.body).toBe(200)
      return res.json()
    }
    const idsOf = (r: any) => new Set(r.cases.map((c: any) => c.id))

    it('status: open by default, a list, or all the finals', async () => {
      expect(idsOf(await list(''))).toEqual(new Set([ids.lightUrgent, ids.roadHotline, ids.dispute]))
      expect(idsOf(await list('status=rejected'))).toEqual(new Set([ids.disputeFamily]))
      expect(idsOf(await list('status=open,rejected')).size).toBe(4)
    })
    it('category: a family matches its children', async () => {
      expect(idsOf(await list('category=public_facilities'))).toEqual(new Set([ids.lightUrgent, ids.roadHotline]))
      expect(idsOf(await list('category=dispute&status=open,rejected'))).toEqual(new Set([ids.dispute, ids.disputeFamily]))
      expect(idsOf(await list('category=public_facilities.road'))).toEqual(new Set([ids.roadHotline]))
    })
    it('priority, source, overdue', async () => {
      expect(idsOf(await list('priority=urgent'))).toEqual(new Set([ids.lightUrgent]))
      expect(idsOf(await list('source=hotline'))).toEqual(new Set([ids.roadHotline]))
      clock.now = T(12) // the urgent light (2 h from 09:00) is overdue; the others are not
      expect(idsOf(await list('overdue=true'))).toEqual(new Set([ids.lightUrgent]))
      expect(idsOf(await list('overdue=false'))).toEqual(new Set([ids.roadHotline, ids.dispute]))
    })
    it('region at any level, and bbox', async () => {
      const c = (await app.inject(`/api/cases/${ids.dispute}`)).json()
      for (const r of c.regions) {
        const got = idsOf(await list(`region=${r.id}`))
        expect(got.has(ids.dispute), `level ${r.level}`).toBe(true)
      }
      const otherGrid = (await app.inject(`/api/cases/${ids.lightUrgent}`)).json().regions[3].id
      expect(idsOf(await list(`region=${otherGrid}`)).has(ids.dispute)).toBe(false)
      expect(idsOf(await list('bbox=119.69,29.11,119.71,29.13'))).toEqual(new Set([ids.dispute]))
    })
    it('time window and paging, newest first', async () => {
      const all = await list('status=open,rejected&limit=2')
      expect(all.cases.map((c: any) => c.id)).toEqual([ids.disputeFamily, ids.dispute])
      expect(all.nextOffset).toBe(2)
      const page2 = await list('status=open,rejected&limit=2&offset=2')
      expect(page2.cases.map((c: any) => c.id)).toEqual([ids.roadHotline, ids.lightUrgent])
      expect(page2.nextOffset).toBeNull()
      const narrow = await app.inject(`/api/cases?from=${T(10).toISOString()}&to=${T(11).toISOString()}`)
      expect(idsOf(narrow.json())).toEqual(new Set([ids.roadHotline]))
    })
    it.each([
      ['status=maybe', 'status'],
      ['priority=soon', 'priority'],
      ['overdue=perhaps', 'overdue'],
      ['from=yesterday', 'from'],
      ['bbox=1,2,3', 'bbox'],
      ['limit=0', 'limit'],
      ['colour=red', 'colour'],
    ])('refuses %s with 400 naming the field', async (q, field) => {
      const res = await app.inject(`/api/cases?${q}`)
      expect(res.statusCode).toBe(400)
      expect(res.json().field).toBe(field)
    })
  })
})
