import { beforeAll, describe, expect, it } from 'vitest'
import { DB_MODES } from '../../../test/support/db.ts'
import { fieldHarness, pointIn } from './field-support.ts'

/**
 * GET /api/cases/nearby: the open cases near a point, shown on the phone before its user reports the same problem
 * again. The clock is years ahead of every other suite's, so the window holds only this file's cases.
 */
describe.each(DB_MODES)('possible duplicates before sending (%s)', (mode) => {
  const T0 = new Date('2031-06-02T10:00:00+08:00')
  const h = fieldHarness(mode, T0)
  let P: { lon: number; lat: number }
  const ids: Record<'light' | 'dispute' | 'far' | 'rejected' | 'old', string> = {} as never
  const LONG = '路灯不亮，整条人行道一片漆黑，晚上老人出门散步很不安全，已经持续三天了，希望尽快派人来修理一下，谢谢你们的辛苦工作！'.repeat(2)

  const report = async (user: string | null, body: Record<string, unknown>) => {
    const res = await h.app.inject({ method: 'POST', url: '/api/cases', headers: user ? h.as(user) : {}, payload: body })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as { id: string; version: number }
  }
  const east = async (m: number) => pointIn(h.db, h.user('worker-chengdong').scopeRegionId!, m)
  const nearby = async (user: string | null, query: string) => {
    const res = await h.app.inject({ url: `/api/cases/nearby?lon=${P.lon}&lat=${P.lat}${query}`, headers: user ? h.as(user) : {} })
    expect(res.statusCode, res.body).toBe(200)
    return res.json().cases as Array<Record<string, unknown> & { id: string; distanceM: number }>
  }
  const idsOf = (cases: Array<{ id: string }>) => cases.map((c) => c.id)

  beforeAll(async () => {
    P = await east(0)
    // 30 hours before T0: outside the default 24 h, inside 48 h (reported without signing in: the tokens are T0's).
    h.clock.now = new Date(T0.getTime() - 30 * 3_600_000)
    ids.old = (await report(null, { category: 'sanitation.garbage', description: '垃圾桶满溢（旧）', ...(await east(30)) })).id
    h.clock.now = T0
    ids.light = (await report('resident-zhang', { category: 'public_facilities.street_light', description: LONG, address: '人民路12号', ...(await east(10)) })).id
    ids.dispute = (await report('resident-li', { category: 'dispute.neighbour', description: '楼上王某半夜噪音', ...(await east(20)) })).id
    ids.far = (await report('resident-zhang', { category: 'public_facilities.street_light', description: '路灯（远）', ...(await east(120)) })).id
    const rejected = await report('resident-zhang', { category: 'public_facilities.street_light', description: '路灯（已驳回）', ...(await east(5)) })
    ids.rejected = rejected.id
    const res = await h.app.inject({ method: 'POST', url: `/api/cases/${rejected.id}/actions/reject`, headers: { ...h.as('dispatcher-wucheng'), 'if-match': '"1"' }, payload: { reason: '重复' } })
    expect(res.statusCode).toBe(200)
  })

  it('anyone, signed in or not: open cases of public categories within 50 m of the last 24 h, nearest first, nothing personal', async () => {
    const cases = await nearby(null, '')
    expect(idsOf(cases)).toEqual([ids.light])
    const [c] = cases
    expect(Object.keys(c).sort()).toEqual(['category', 'code', 'description', 'distanceM', 'id', 'reportedAt', 'status', 'supporters'])
    expect(c).toMatchObject({ category: 'public_facilities.street_light', status: 'reported', supporters: 0, reportedAt: T0.toISOString() })
    expect(c.description).toBe([...LONG].slice(0, 80).join(''))
    expect(c.distanceM).toBeGreaterThan(8)
    expect(c.distanceM).toBeLessThan(12)
    // A resident who reported none of them sees the same.
    expect(idsOf(await nearby('resident-zhang', ''))).toEqual([ids.light])
  })

  it('radiusM, hours and category widen or narrow it; the order is by distance', async () => {
    expect(idsOf(await nearby(null, '&radiusM=200'))).toEqual([ids.light, ids.far])
    expect(idsOf(await nearby(null, '&radiusM=200&hours=48'))).toEqual([ids.light, ids.old, ids.far])
    expect(idsOf(await nearby(null, '&radiusM=200&hours=48&category=sanitation'))).toEqual([ids.old])
    expect(idsOf(await nearby(null, '&radiusM=200&category=public_facilities.street_light'))).toEqual([ids.light, ids.far])
    const d = (await nearby(null, '&radiusM=200&hours=48')).map((c) => c.distanceM)
    expect(d).toEqual([...d].sort((a, b) => a - b))
  })

  it('a sensitive category only for a caller who may read the case: its staff and its reporter', async () => {
    for (const u of ['dispatcher-wucheng', 'leader-chengdong', 'inspector-chengdong', 'worker-chengdong', 'admin', 'resident-li']) {
      expect(idsOf(await nearby(u, '')), u).toEqual([ids.light, ids.dispute])
    }
    for (const u of ['dispatcher-jindong', 'leader-duohu', 'resident-zhang']) expect(idsOf(await nearby(u, '')), u).toEqual([ids.light])
    expect(idsOf(await nearby(null, '&category=dispute'))).toEqual([])
    expect(idsOf(await nearby('dispatcher-wucheng', '&category=dispute'))).toEqual([ids.dispute])
  })

  it('at most 10', async () => {
    const at = await east(-15)
    for (let i = 0; i < 11; i++) await report('resident-zhang', { category: 'sanitation.corridor', description: `楼道堆物 ${i}`, ...at })
    const cases = await nearby(null, '&radiusM=200&hours=48')
    expect(cases).toHaveLength(10)
  })

  it('refuses what it cannot answer with 400 naming the field', async () => {
    const bad = async (query: string, field: string) => {
      const res = await h.app.inject({ url: `/api/cases/nearby?${query}` })
      expect(res.statusCode, query).toBe(400)
      expect(res.json().field, query).toBe(field)
    }
    await bad(`lat=${P.lat}`, 'lon')
    await bad(`lon=${P.lon}&lat=${P.lat}&radiusM=201`, 'radiusM')
    await bad(`lon=${P.lon}&lat=${P.lat}&radiusM=0`, 'radiusM')
    await bad(`lon=${P.lon}&lat=${P.lat}&hours=169`, 'hours')
    await bad(`lon=${P.lon}&lat=${P.lat}&category=Not-A-Code`, 'category')
    await bad(`lon=200&lat=${P.lat}`, 'lon')
  })
})
