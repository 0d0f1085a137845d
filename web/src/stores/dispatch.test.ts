/**
 * The dispatcher's store when the selected case cannot be loaded: fetch is a fake (no server), timers are fake. The
 * browser suite (web/e2e/dispatch.e2e.test.ts) runs the store against the real server.
 */
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { setLocale } from '../i18n.ts'
import { DETAIL_RETRY_MS, useDispatchStore } from './dispatch.ts'

const ID = '00000000-0000-4000-8000-0000000000aa'
const detail = {
  id: ID, code: 'GC20261121000001', status: 'reported', category: 'sanitation.garbage', priority: 'normal', source: 'resident',
  description: '垃圾桶满溢', address: null, lon: 119.65, lat: 29.08, owningLevel: 4, department: 'sanitation', assigneeId: null,
  reporter: null, reportedAt: '2026-11-21T08:00:00.000Z', updatedAt: '2026-11-21T08:00:00.000Z', dueAt: '2026-11-22T08:00:00.000Z',
  timeLeftSeconds: 86400, overdue: false, escalations: 0, version: 1, regions: [], mergedInto: null, rating: null, ratingComment: null,
  stages: {}, timeline: [], allowedActions: ['register'], photos: [],
}

/** `plan` answers the detail requests in turn: 'down' (no connection), a status, or 'ok'. */
function fakeServer(plan: Array<'down' | number | 'ok'>) {
  const calls: string[] = []
  const fetchFake = async (input: RequestInfo | URL): Promise<Response> => {
    const url = String(input)
    if (url.includes('/candidates')) return new Response(JSON.stringify({ workers: [] }), { status: 200, headers: { 'content-type': 'application/json' } })
    calls.push(url)
    const step = plan.shift() ?? 'ok'
    if (step === 'down') throw new TypeError('Failed to fetch')
    if (step !== 'ok') return new Response(JSON.stringify({ error: 'not_found', message: 'no such case' }), { status: step, headers: { 'content-type': 'application/json' } })
    return new Response(JSON.stringify(detail), { status: 200, headers: { 'content-type': 'application/json' } })
  }
  return { calls, fetchFake }
}

describe('dispatch store: the selected case cannot be loaded', () => {
  const realFetch = globalThis.fetch
  beforeEach(() => {
    setActivePinia(createPinia())
    setLocale('zh')
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
  })
  afterEach(() => {
    globalThis.fetch = realFetch
    vi.useRealTimers()
  })

  it('says so in the user\'s language (never the browser\'s raw error), retries, and clears the notice once it loads', async () => {
    const server = fakeServer(['down', 'down', 'ok'])
    globalThis.fetch = server.fetchFake as typeof fetch
    const store = useDispatchStore()
    await store.select(ID)
    expect(store.notice).toEqual({ kind: 'error', text: '事件详情加载失败，2 秒后重试…' })
    expect(store.notice?.text).not.toContain('Failed to fetch')
    await vi.advanceTimersByTimeAsync(DETAIL_RETRY_MS)
    expect(server.calls).toHaveLength(2)
    expect(store.notice?.text).toBe('事件详情加载失败，4 秒后重试…') // twice as long the second time
    await vi.advanceTimersByTimeAsync(2 * DETAIL_RETRY_MS)
    expect(server.calls).toHaveLength(3)
    expect(store.detail?.id).toBe(ID)
    expect(store.notice).toBeNull()
  })

  it('in English after the switch', async () => {
    globalThis.fetch = fakeServer(['down']).fetchFake as typeof fetch
    setLocale('en')
    const store = useDispatchStore()
    await store.select(ID)
    expect(store.notice?.text).toBe('Could not load the case; retrying in 2 s…')
  })

  it('a case that is not there (404) is said so and not retried', async () => {
    const server = fakeServer([404])
    globalThis.fetch = server.fetchFake as typeof fetch
    const store = useDispatchStore()
    await store.select(ID)
    expect(store.notice?.text).toBe('该事件不存在或不在您的管辖范围内')
    await vi.advanceTimersByTimeAsync(10 * DETAIL_RETRY_MS)
    expect(server.calls).toHaveLength(1)
  })

  it('selecting another case stops the retries of the one before and takes its notice down', async () => {
    const server = fakeServer(['down', 'ok'])
    globalThis.fetch = server.fetchFake as typeof fetch
    const store = useDispatchStore()
    await store.select(ID)
    expect(store.notice?.kind).toBe('error')
    await store.select(null)
    expect(store.notice).toBeNull()
    await vi.advanceTimersByTimeAsync(10 * DETAIL_RETRY_MS)
    expect(server.calls).toHaveLength(1)
  })
})
