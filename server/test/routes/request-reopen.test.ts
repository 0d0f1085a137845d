import { describe, expect, it } from 'vitest'
import { DB_MODES } from '../../../test/support/db.ts'
import { fieldHarness, pointIn, uploadPhoto } from './field-support.ts'

/** 申请重办: the reporter of a badly rated case asks for it to be done again; the dispatcher decides (reopen). */
describe.each(DB_MODES)('request_reopen (%s)', (mode) => {
  const h = fieldHarness(mode)
  type C = { id: string; version: number; status: string; reopenRequestedAt: string | null }

  const act = async (user: string, c: C, action: string, body: Record<string, unknown> = {}) =>
    h.app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/${action}`, headers: { ...h.as(user), 'if-match': `"${c.version}"` }, payload: body })
  const step = async (user: string, c: C, action: string, body: Record<string, unknown> = {}): Promise<C> => {
    const res = await act(user, c, action, body)
    expect(res.statusCode, `${user} ${action}: ${res.body}`).toBe(200)
    return res.json()
  }
  const offered = async (user: string, c: C) => (await h.app.inject({ url: `/api/cases/${c.id}`, headers: h.as(user) })).json().allowedActions

  /** resident-zhang's street-light case taken round the loop and rated `rating`; resident-li follows it. */
  async function ratedCase(rating: number): Promise<C> {
    const worker = h.user('worker-chengdong')
    const at = await pointIn(h.db, worker.scopeRegionId!)
    const created = await h.app.inject({ method: 'POST', url: '/api/cases', headers: h.as('resident-zhang'), payload: { category: 'public_facilities.street_light', description: '路灯（重办）', ...at } })
    expect(created.statusCode, created.body).toBe(201)
    let c: C = created.json()
    const joined = await h.app.inject({ method: 'POST', url: `/api/cases/${c.id}/supplements`, headers: h.as('resident-li'), payload: at })
    expect(joined.statusCode, joined.body).toBe(201)
    c = joined.json().case
    c = await step('dispatcher-wucheng', c, 'register')
    c = await step('dispatcher-wucheng', c, 'dispatch', { assigneeId: worker.workerId })
    c = await step('worker-chengdong', c, 'accept')
    c = await step('worker-chengdong', c, 'handle', { note: '已修' })
    c = await step('inspector-chengdong', c, 'verify')
    c = await step('dispatcher-wucheng', c, 'close')
    return step('resident-zhang', c, 'rate', { rating })
  }

  it('the reporter asks once, with a reason and a photo: status stays, the case says when, the dispatcher sees it and reopens', async () => {
    let c = await ratedCase(2)
    expect(c.reopenRequestedAt).toBeNull()
    expect(await offered('resident-zhang', c)).toEqual(['request_reopen', 'note'])
    expect(await offered('dispatcher-wucheng', c)).toEqual(['reopen', 'note'])
    expect(await offered('resident-li', c)).toEqual([]) // a follower reads it, the request is the reporter's
    const photo = await uploadPhoto(h.app, h.as('resident-zhang'))
    const res = await act('resident-zhang', c, 'request_reopen', { reason: '灯又灭了', photos: [photo] })
    expect(res.statusCode, res.body).toBe(200)
    const asked = res.json() as C
    expect(asked).toMatchObject({ status: 'rated', version: c.version + 1, reopenRequestedAt: h.clock.now.toISOString(), rating: 2 })
    const detail = (await h.app.inject({ url: `/api/cases/${c.id}`, headers: h.as('dispatcher-wucheng') })).json()
    expect(detail.timeline.at(-1)).toMatchObject({ action: 'request_reopen', actor: 'resident-zhang', note: '灯又灭了', fromStatus: 'rated', toStatus: 'rated', attachments: [`/api/photos/${photo}`], data: { rating: 2 } })
    const { rows } = await h.db.query<{ actors: string[] }>(
      `SELECT actors FROM events WHERE kind = 'case:updated' AND payload->>'action' = 'request_reopen' AND payload->'case'->>'id' = $1`,
      [c.id],
    )
    expect(rows[0].actors).toEqual(expect.arrayContaining(['resident-zhang', 'resident-li']))
    // Once: a second request is refused, and no longer offered.
    const again = await act('resident-zhang', asked, 'request_reopen', { reason: '再催一次' })
    expect(again.statusCode).toBe(409)
    expect(again.json().error).toBe('reopen_already_requested')
    expect(await offered('resident-zhang', asked)).toEqual(['note'])
    // The dispatcher's reopen clears it and records that it was asked for.
    c = await step('dispatcher-wucheng', asked, 'reopen', { reason: '群众申请重办' })
    expect(c).toMatchObject({ status: 'in_progress', reopenRequestedAt: null })
    const after = (await h.app.inject({ url: `/api/cases/${c.id}`, headers: h.as('dispatcher-wucheng') })).json()
    expect(after.timeline.at(-1)).toMatchObject({ action: 'reopen', data: { previousRating: 2, requestedAt: asked.reopenRequestedAt } })
  })

  it('not for a good rating, not by anyone but the reporter, and the reason is required', async () => {
    const good = await ratedCase(4)
    expect(await offered('resident-zhang', good)).toEqual(['note'])
    const res = await act('resident-zhang', good, 'request_reopen', { reason: '还想再修' })
    expect(res.statusCode).toBe(409)
    expect(res.json().error).toBe('reopen_not_allowed')
    const bad = await ratedCase(1)
    const follower = await act('resident-li', bad, 'request_reopen', { reason: '我也不满意' })
    expect(follower.statusCode).toBe(403)
    expect(follower.json().error).toBe('forbidden')
    const staff = await act('dispatcher-wucheng', bad, 'request_reopen', { reason: 'x' })
    expect(staff.statusCode).toBe(403)
    const bare = await act('resident-zhang', bad, 'request_reopen', {})
    expect(bare.statusCode).toBe(400)
    expect(bare.json().field).toBe('reason')
    // Only a rated case: before the rating it is not an action of the status.
    const state = (await h.app.inject({ url: `/api/cases/${bad.id}`, headers: h.as('resident-zhang') })).json()
    expect(state).toMatchObject({ status: 'rated', version: bad.version, reopenRequestedAt: null })
  })
})
