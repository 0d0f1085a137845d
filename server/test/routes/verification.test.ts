import { describe, expect, it } from 'vitest'
import { DB_MODES } from '../../../test/support/db.ts'
import { fieldHarness, pointIn, uploadPhoto } from './field-support.ts'

/** The inspector's evidence: send_back and verify take photos, like handle and note. */
describe.each(DB_MODES)('photos on send_back and verify (%s)', (mode) => {
  const h = fieldHarness(mode)

  /** A street-light case in worker-chengdong's grid, taken to `handled` by that worker. */
  async function handledCase() {
    const worker = h.user('worker-chengdong')
    const point = await pointIn(h.db, worker.scopeRegionId!)
    const created = await h.app.inject({ method: 'POST', url: '/api/cases', headers: h.as('resident-zhang'), payload: { category: 'public_facilities.street_light', description: '路灯不亮（核查）', ...point } })
    expect(created.statusCode, created.body).toBe(201)
    let c = created.json() as { id: string; version: number; status: string }
    const steps: Array<[string, string, Record<string, unknown>]> = [
      ['dispatcher-wucheng', 'register', {}],
      ['dispatcher-wucheng', 'dispatch', { assigneeId: worker.workerId }],
      ['worker-chengdong', 'accept', {}],
      ['worker-chengdong', 'handle', { note: '已更换灯泡' }],
    ]
    for (const [u, action, body] of steps) {
      const res = await h.app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/${action}`, headers: { ...h.as(u), 'if-match': `"${c.version}"` }, payload: body })
      expect(res.statusCode, `${action}: ${res.body}`).toBe(200)
      c = res.json()
    }
    return c
  }
  const act = (c: { id: string; version: number }, user: string, action: string, body: Record<string, unknown>) =>
    h.app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/${action}`, headers: { ...h.as(user), 'if-match': `"${c.version}"` }, payload: body })

  it('an inspector sends back with photos of what is still wrong, then verifies with photos: each on its own timeline row', async () => {
    let c = await handledCase()
    const still = [await uploadPhoto(h.app, h.as('inspector-chengdong')), await uploadPhoto(h.app, h.as('inspector-chengdong'))]
    const back = await act(c, 'inspector-chengdong', 'send_back', { reason: '灯仍不亮', photos: still })
    expect(back.statusCode, back.body).toBe(200)
    c = back.json()
    expect(c.status).toBe('in_progress')
    const rehandled = await act(c, 'worker-chengdong', 'handle', { note: '更换镇流器' })
    expect(rehandled.statusCode).toBe(200)
    c = rehandled.json()
    const ok = await uploadPhoto(h.app, h.as('inspector-chengdong'))
    const verified = await act(c, 'inspector-chengdong', 'verify', { note: '现场已亮', photos: [ok] })
    expect(verified.statusCode, verified.body).toBe(200)
    expect(verified.json().status).toBe('verified')

    const detail = (await h.app.inject({ url: `/api/cases/${c.id}`, headers: h.as('dispatcher-wucheng') })).json()
    const rows = detail.timeline as Array<{ action: string; actor: string; attachments: string[]; note: string }>
    expect(rows.find((e) => e.action === 'send_back')).toMatchObject({ actor: 'inspector-chengdong', note: '灯仍不亮', attachments: still.map((id) => `/api/photos/${id}`) })
    expect(rows.find((e) => e.action === 'verify')).toMatchObject({ actor: 'inspector-chengdong', note: '现场已亮', attachments: [`/api/photos/${ok}`] })
    expect((detail.photos as Array<{ id: string }>).map((p) => p.id)).toEqual(expect.arrayContaining([...still, ok]))
    // The evidence is part of the case: whoever reads the case reads it (the reporter too).
    for (const u of ['resident-zhang', 'dispatcher-wucheng', 'worker-chengdong']) {
      expect((await h.app.inject({ url: `/api/photos/${ok}`, headers: h.as(u) })).statusCode, u).toBe(200)
    }
    expect((await h.app.inject({ url: `/api/photos/${ok}`, headers: h.as('resident-li') })).statusCode).toBe(404)
  })

  it('a photo somebody else uploaded, or one already on another case, is refused by index and nothing changes', async () => {
    const c = await handledCase()
    const theirs = await uploadPhoto(h.app, h.as('leader-chengdong'))
    const refused = await act(c, 'inspector-chengdong', 'verify', { photos: [theirs] })
    expect(refused.statusCode).toBe(422)
    expect(refused.json()).toMatchObject({ error: 'unknown_photo', field: 'photos[0]' })
    const other = await handledCase()
    const used = await uploadPhoto(h.app, h.as('inspector-chengdong'))
    expect((await act(other, 'inspector-chengdong', 'verify', { photos: [used] })).statusCode).toBe(200)
    const again = await act(c, 'inspector-chengdong', 'send_back', { reason: '再看看', photos: [used] })
    expect(again.statusCode).toBe(422)
    expect(again.json()).toMatchObject({ error: 'photo_in_use', field: 'photos[0]' })
    const now = (await h.app.inject({ url: `/api/cases/${c.id}`, headers: h.as('dispatcher-wucheng') })).json()
    expect(now).toMatchObject({ status: 'handled', version: c.version })
    // The schema: at most 6, no repeats, uuids.
    const many = await act(c, 'inspector-chengdong', 'verify', { photos: [used, used] })
    expect(many.statusCode).toBe(400)
    expect(many.json().field).toMatch(/^photos/)
  })

  it('the handler cannot verify their own handling by attaching evidence: 403, the photo stays unattached', async () => {
    const c = await handledCase()
    const mine = await uploadPhoto(h.app, h.as('worker-chengdong'))
    const res = await act(c, 'worker-chengdong', 'verify', { photos: [mine] })
    expect(res.statusCode).toBe(403)
    expect(res.json().error).toBe('forbidden')
    const { rows } = await h.db.query<{ caseId: string | null }>('SELECT case_id AS "caseId" FROM photos WHERE id = $1', [mine])
    expect(rows[0].caseId).toBeNull()
  })
})
