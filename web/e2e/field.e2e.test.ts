/**
 * The field app (/m/) in Chromium with phone emulation (390×844, touch, geolocation set by the test), against the real
 * server in AUTH_MODE=token:
 * - the whole loop done only through pages: a resident reports with a photo, a dispatcher assigns it on /dispatch,
 *   the worker's phone gets it live, accepts it and reports it handled with a photo, an inspector verifies it, the
 *   dispatcher closes it, the resident rates it — and the wall (another page) sees every step;
 * - "me too": a second resident is shown the first report nearby and adds to it instead of reporting again;
 * - offline: three reports and two actions made without network are sent when it returns — exactly three cases and
 *   two actions, in order, each once, even when the answer to one of them is lost on the way back;
 * - a refused offline item is shown with the server's reason and kept until discarded;
 * - the service worker: the app opens with no network, with its map tiles;
 * - a check-in shows on the drill map; screenshots of every screen in Chinese and English (artifacts/e2e/field-*.png).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureWebBuild } from '../../scripts/web-build.ts'
import type { AppInstance } from '../../server/src/app-types.ts'
import { jpeg } from '../../server/test/fixtures/images.ts'
import { testDb } from '../../test/support/db.ts'
import { startServer } from '../../test/support/server.ts'
import { ARTIFACTS, HAVE_BROWSER, launchChromium } from './browser.ts'

const PASSWORD = 'gridcommand-demo'
const REFRESH_KEY = 'gridcommand.refreshToken'
const PHONE = { width: 390, height: 844 }

describe.skipIf(!HAVE_BROWSER)('the field app on phones', () => {
  let app: AppInstance
  let url: string
  let browser: Browser
  const contexts: BrowserContext[] = []
  const pageErrors: string[] = []
  const stamp = `${Date.now() % 1e8}`
  let photo: Buffer
  /** A phone camera's 12-megapixel picture: made smaller on the page, it takes a while. */
  let cameraPhoto: Buffer
  /** The centre of worker-chengdong's grid: every phone stands there unless the test moves it. */
  let here: { lon: number; lat: number }
  let workerId: string
  let gridId: string

  async function api<T = any>(path: string, opts: { method?: string; body?: unknown; as?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: T }> {
    const token = opts.as ? await tokenOf(opts.as) : null
    const res = await fetch(`${url}${path}`, {
      method: opts.method ?? (opts.body ? 'POST' : 'GET'),
      headers: { ...(opts.body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...opts.headers },
      body: opts.body ? JSON.stringify(opts.body) : undefined,
    })
    return { status: res.status, body: (await res.json().catch(() => null)) as T }
  }
  const tokens = new Map<string, string>()
  async function tokenOf(user: string): Promise<string> {
    if (!tokens.has(user)) {
      const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password: PASSWORD }) })
      tokens.set(user, (await res.json()).accessToken)
    }
    return tokens.get(user)!
  }

  function watch(page: Page, who: string): Page {
    page.on('pageerror', (err) => pageErrors.push(`${who}: ${err.message}`))
    page.on('console', (m) => {
      // Offline phases make the socket fail to connect, as they should.
      if (m.type() === 'error' && !m.text().includes('ERR_INTERNET_DISCONNECTED')) console.log(`[${who} ${m.type()}] ${m.text()}`)
    })
    return page
  }

  /**
   * A user's phone (its own storage, IndexedDB and service worker), signed in through the page's own form the first
   * time and kept for the suite's later tests (a phone is one person's device): each call puts it at `at` and on the
   * app's start screen, online.
   */
  const phones = new Map<string, Page>()
  async function phone(user: string, opts: { at?: { lon: number; lat: number } } = {}): Promise<Page> {
    const at = opts.at ?? here
    const kept = phones.get(user)
    if (kept) {
      await kept.context().setOffline(false)
      await kept.context().setGeolocation({ longitude: at.lon, latitude: at.lat, accuracy: 10 })
      await kept.goto(`${url}/m/`)
      await kept.waitForSelector('[data-testid="tabs"]', { timeout: 60_000 }).catch(async (err) => {
        await kept.screenshot({ path: `${ARTIFACTS}field-debug-${user}.png` })
        console.log('DEBUG', kept.url(), await kept.evaluate(() => ({ ls: { ...localStorage }, online: navigator.onLine, html: document.body.innerHTML.slice(0, 500) })))
        throw err
      })
      return kept
    }
    const ctx = await browser.newContext({
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
      geolocation: { longitude: at.lon, latitude: at.lat, accuracy: 10 },
      permissions: ['geolocation'],
      serviceWorkers: 'allow',
      locale: 'zh-CN',
    })
    contexts.push(ctx)
    const page = watch(await ctx.newPage(), user)
    await page.goto(`${url}/m/`)
    await page.waitForSelector('[data-testid="signin"]', { timeout: 60_000 })
    await page.fill('[data-testid="signin-username"]', user)
    await page.fill('[data-testid="signin-password"]', PASSWORD)
    await page.tap('[data-testid="signin-submit"]')
    await page.waitForSelector('[data-testid="tabs"]', { timeout: 30_000 })
    // Offline a phone runs on what its service worker keeps: wait until it holds the app.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 60_000 })
    phones.set(user, page)
    return page
  }

  /** A desk browser (the wall, the dispatch desk) signed in from a refresh token put into its storage; kept too. */
  const desks = new Map<string, Page>()
  async function desk(user: string, path: string, ready: string): Promise<Page> {
    let page = desks.get(user)
    if (!page) {
      const ctx = await browser.newContext({ viewport: { width: 1600, height: 900 } })
      contexts.push(ctx)
      page = watch(await ctx.newPage(), user)
      const login = await (await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password: PASSWORD }) })).json()
      await page.goto(`${url}/api/health`)
      await page.evaluate(([k, v]) => localStorage.setItem(k, v), [REFRESH_KEY, login.refreshToken as string])
      desks.set(user, page)
    }
    await page.goto(`${url}${path}`)
    await page.waitForSelector(ready, { timeout: 90_000 })
    return page
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: `${ARTIFACTS}field-${name}.png` })
  const statusOf = (page: Page) => page.getAttribute('[data-testid="case-view"]', 'data-status')
  /** The case with this description, as the admin sees it (null until it exists). */
  async function caseBy(description: string): Promise<any | null> {
    const list = await api(`/api/cases?status=reported,registered,dispatched,in_progress,handled,verified,closed,rated,merged,rejected&limit=500`, { as: 'admin' })
    return list.body.cases.find((c: { description: string }) => c.description === description) ?? null
  }
  async function timelineOf(id: string): Promise<Array<{ action: string; note: string | null; data: Record<string, unknown>; at: string; attachments: string[] }>> {
    return (await api(`/api/cases/${id}`, { as: 'admin' })).body.timeline
  }
  async function pickCategory(page: Page, search: string, code: string): Promise<void> {
    // The form keeps the category of the last report (the next one is often of the same kind).
    const chosen = await page.$('[data-testid="category-chosen"]')
    if (chosen && (await chosen.getAttribute('data-category')) === code) return
    if (chosen) await page.tap('[data-testid="category-chosen"] button')
    await page.fill('[data-testid="category-search"]', search)
    await page.tap(`[data-testid="category-matches"] button[data-category="${code}"]`)
    await page.waitForSelector(`[data-testid="category-chosen"][data-category="${code}"]`)
  }
  async function addPhoto(page: Page, input: string, name = 'photo.jpg'): Promise<void> {
    const before = Number((await page.getAttribute(input.replace('-input"]', '"]'), 'data-count')) ?? 0)
    await page.setInputFiles(input, { name, mimeType: 'image/jpeg', buffer: photo })
    await expect.poll(async () => Number(await page.getAttribute(input.replace('-input"]', '"]'), 'data-count'))).toBe(before + 1)
  }
  /** Taps send and waits for the report's state; a refusal on the form (no place, no category…) fails at once with its words. */
  async function sendReport(page: Page, state: 'sent' | 'pending'): Promise<void> {
    await page.tap('[data-testid="report-submit"]')
    const seen = await page.waitForSelector(`[data-testid="report-done"][data-state="${state}"], [data-testid="report-error"]`, { timeout: 30_000 })
    if ((await seen.getAttribute('data-testid')) === 'report-error') throw new Error(`the form refused the report: ${await seen.textContent()}`)
  }
  async function report(page: Page, description: string, category: readonly [string, string] = ['垃圾', 'sanitation.garbage'], withPhoto = true): Promise<void> {
    await page.tap('[data-testid="tab-report"]')
    await page.waitForSelector('[data-testid="report-view"]')
    await pickCategory(page, category[0], category[1])
    await page.fill('[data-testid="report-description"]', description)
    if (withPhoto) await addPhoto(page, '[data-testid="report-photos-input"]')
  }

  beforeAll(async () => {
    await ensureWebBuild((m) => console.log(m.replace('[gridcommand]', '[e2e]')))
    ;({ app, url } = await startServer({ db: await testDb('embedded'), webDist: new URL('../dist', import.meta.url).pathname, demoAccounts: true, auth: { mode: 'token' } }))
    browser = await launchChromium()
    photo = await jpeg(640, 480)
    cameraPhoto = await jpeg(4000, 3000)
    const me = (await api('/api/auth/me', { as: 'worker-chengdong' })).body
    workerId = me.workerId
    gridId = me.scopeRegionId
    const [lon, lat] = (await api(`/api/regions/${gridId}`)).body.center as number[]
    here = { lon: Number(lon.toFixed(6)), lat: Number(lat.toFixed(6)) }
  })

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close()
    await app?.close()
  })

  it('the whole loop through pages: resident → dispatcher → worker → inspector → dispatcher → resident, the wall live', async () => {
    const wall = await desk('commander', '/', '[data-testid="map"][data-framed-on="all"]')
    const wallStatus = (id: string) =>
      wall.evaluate((cid) => (window as any).__gridcommand.pinia._s.get('cases').openCases.find((c: { id: string }) => c.id === cid)?.status ?? null, id)

    // The worker goes on duty: the phone's first fix reaches the server at once.
    const worker = await phone('worker-chengdong')
    await worker.waitForSelector('[data-testid="tasks-view"]')
    await worker.waitForSelector('[data-testid="duty"]:not([data-status="unknown"])')
    if ((await worker.getAttribute('[data-testid="duty"]', 'data-status')) !== 'off_duty') {
      await worker.tap('[data-testid="duty-toggle"]')
      await worker.waitForSelector('[data-testid="duty"][data-status="off_duty"]')
    }
    await shot(worker, 'tasks-off-duty-zh')
    await worker.tap('[data-testid="duty-toggle"]')
    await worker.waitForSelector('[data-testid="duty"][data-status="on_duty"]')
    await expect.poll(async () => (await api(`/api/workers/${workerId}`, { as: 'admin' })).body.position, { timeout: 20_000 }).toEqual([here.lon, here.lat])

    // The resident reports with a photo, through the form.
    const resident = await phone('resident-zhang')
    await resident.waitForSelector('[data-testid="mine-view"]')
    const description = `外场闭环测试 ${stamp}`
    await report(resident, description)
    await resident.waitForSelector('[data-testid="report-chain"]:not(:empty)')
    await expect.poll(() => resident.textContent('[data-testid="report-chain"]')).toContain('城东街道')
    await shot(resident, 'report-zh')
    await sendReport(resident, 'sent')
    const created = await caseBy(description)
    expect(created, 'one case for the report').not.toBeNull()
    expect(created.reporter).toBe('resident-zhang')
    expect(created.madeAt).toMatch(/^\d{4}-/)
    expect((await api(`/api/cases/${created.id}`, { as: 'admin' })).body.photos).toHaveLength(1)
    await expect.poll(() => wallStatus(created.id), { timeout: 20_000 }).toBe('reported')

    // The dispatcher assigns it to the worker on the desk.
    const dispatcher = await desk('dispatcher-wucheng', `/dispatch?case=${created.id}`, `[data-testid="case-detail"][data-case-id="${created.id}"]`)
    const assign = dispatcher.locator(`[data-testid="candidate"][data-worker-id="${workerId}"] [data-testid="assign"]`)
    await assign.waitFor({ timeout: 30_000 })
    await assign.click()
    await dispatcher.waitForSelector(`[data-testid="detail-assignee"][data-assignee-id="${workerId}"]`, { timeout: 30_000 })
    await expect.poll(() => wallStatus(created.id), { timeout: 20_000 }).toBe('dispatched')

    // The worker's phone gets it live: a notice, and the task in the list.
    await worker.waitForSelector('[data-testid="notice"][data-kind="assigned"]', { timeout: 30_000 })
    await worker.waitForSelector(`[data-testid="task-list"] [data-case-id="${created.id}"]`)
    expect(await worker.getAttribute(`[data-testid="task-list"] [data-case-id="${created.id}"]`, 'data-mark')).toBe('green')
    await shot(worker, 'task-new-zh')
    await worker.tap(`[data-testid="task-list"] [data-case-id="${created.id}"]`)
    await worker.waitForSelector(`[data-testid="case-view"][data-case-id="${created.id}"]`)
    await worker.waitForSelector('[data-testid="case-distance"]')
    await worker.waitForSelector('[data-testid="field-map"][data-ready]', { timeout: 60_000 })
    await shot(worker, 'case-worker-zh')
    await worker.tap('[data-testid="step-accept"]')
    await expect.poll(() => statusOf(worker), { timeout: 30_000 }).toBe('in_progress')
    await expect.poll(() => wallStatus(created.id), { timeout: 20_000 }).toBe('in_progress')
    await worker.tap('[data-testid="step-handle"]')
    await worker.fill('[data-testid="step-text"]', '已清运，现场已清洁')
    await addPhoto(worker, '[data-testid="step-photos-input"]', 'after.jpg')
    await shot(worker, 'handle-zh')
    await worker.tap('[data-testid="step-submit"]')
    await expect.poll(() => statusOf(worker), { timeout: 30_000 }).toBe('handled')
    await expect.poll(() => wallStatus(created.id), { timeout: 20_000 }).toBe('handled')
    // The handler is not offered verification.
    expect(await worker.$('[data-testid="step-verify"]')).toBeNull()

    // The inspector verifies it, before and after side by side.
    const inspector = await phone('inspector-chengdong')
    await inspector.waitForSelector(`[data-testid="verify-list"] [data-case-id="${created.id}"]`, { timeout: 30_000 })
    await shot(inspector, 'verify-list-zh')
    await inspector.tap(`[data-testid="verify-list"] [data-case-id="${created.id}"]`)
    await inspector.waitForSelector('[data-testid="before-after"]')
    await inspector.waitForSelector('[data-testid="field-map"][data-ready]', { timeout: 60_000 })
    await expect.poll(() => inspector.locator('[data-testid="before-after"] [data-testid="photo"]').count(), { timeout: 20_000 }).toBe(2)
    await shot(inspector, 'verify-zh')
    await inspector.tap('[data-testid="step-verify"]')
    await inspector.fill('[data-testid="step-text"]', '现场核查，已清理干净')
    await inspector.tap('[data-testid="step-submit"]')
    await expect.poll(() => statusOf(inspector), { timeout: 30_000 }).toBe('verified')
    await expect.poll(() => wallStatus(created.id), { timeout: 20_000 }).toBe('verified')

    // The dispatcher closes it.
    await dispatcher.waitForSelector('[data-testid="close-case"]:not([disabled])', { timeout: 30_000 })
    await dispatcher.click('[data-testid="close-case"]')
    await expect.poll(async () => (await api(`/api/cases/${created.id}`, { as: 'admin' })).body.status, { timeout: 20_000 }).toBe('closed')
    // Closed cases leave the wall's open set: it saw the close.
    await expect.poll(() => wallStatus(created.id), { timeout: 20_000 }).toBeNull()

    // The resident rates it from their list.
    await resident.tap('[data-testid="tab-mine"]')
    await resident.waitForSelector(`[data-testid="mine-view"] [data-case-id="${created.id}"][data-status="closed"]`, { timeout: 30_000 })
    await shot(resident, 'mine-zh')
    await resident.tap(`[data-testid="mine-view"] [data-case-id="${created.id}"]`)
    await resident.waitForSelector('[data-testid="timeline"]')
    await resident.waitForSelector('[data-testid="field-map"][data-ready]', { timeout: 60_000 })
    await shot(resident, 'case-resident-zh')
    await resident.tap('[data-testid="step-rate"]')
    await resident.tap('[data-testid="stars"] [data-stars="5"]')
    await resident.fill('[data-testid="step-text"]', '处理很及时，谢谢')
    await shot(resident, 'rate-zh')
    await resident.tap('[data-testid="step-submit"]')
    await expect.poll(() => statusOf(resident), { timeout: 30_000 }).toBe('rated')
    const done = (await api(`/api/cases/${created.id}`, { as: 'admin' })).body
    expect(done.rating).toBe(5)
    expect(done.timeline.map((e: { action: string }) => e.action)).toEqual(['report', 'register', 'dispatch', 'accept', 'handle', 'verify', 'close', 'rate'])

    // "Me too": another resident at the same spot is shown the open case first and adds to it.
    const second = await phone('resident-li')
    const open = `外场重复测试 ${stamp}`
    const first = await phone('resident-zhang')
    await report(first, open, ['井盖', 'public_facilities.manhole'], false)
    await sendReport(first, 'sent')
    const original = await caseBy(open)
    await report(second, '我也看到了，井盖缺失很危险', ['井盖', 'public_facilities.manhole'], true)
    await second.waitForSelector(`[data-testid="duplicates"] [data-case-id="${original.id}"]`, { timeout: 20_000 })
    await shot(second, 'report-duplicate-zh')
    await second.tap(`[data-testid="duplicates"] [data-case-id="${original.id}"] [data-testid="add-to-case"]`)
    await second.waitForSelector('[data-testid="report-done"][data-state="sent"]', { timeout: 30_000 })
    expect(await caseBy('我也看到了，井盖缺失很危险')).toBeNull()
    const supplemented = (await api(`/api/cases/${original.id}`, { as: 'admin' })).body
    expect(supplemented.supporters).toBe(1)
    expect(supplemented.timeline.at(-1)).toMatchObject({ action: 'supplement', note: '我也看到了，井盖缺失很危险' })
    expect(supplemented.timeline.at(-1).attachments).toHaveLength(1)
    // …and finds it under their own reports.
    await second.tap('[data-testid="tab-mine"]')
    await second.waitForSelector(`[data-testid="mine-view"] [data-case-id="${original.id}"]`, { timeout: 30_000 })
  }, 420_000)

  it('offline: three reports and two actions wait on the phone and are sent in order, exactly once, when the network returns', async () => {
    // A case dispatched to the worker beforehand (by API: this test is about the phone).
    const task = (await api('/api/cases', { as: 'admin', body: { category: 'sanitation.garbage', description: `离线任务 ${stamp}`, ...here } })).body
    let v = task.version
    for (const [action, body] of [['register', {}], ['dispatch', { assigneeId: workerId }]] as const) {
      const r = await api(`/api/cases/${task.id}/actions/${action}`, { as: 'admin', body, headers: { 'if-match': `"${v}"` } })
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      v = r.body.version
    }
    const page = await phone('worker-chengdong')
    await page.waitForSelector(`[data-testid="task-list"] [data-case-id="${task.id}"]`, { timeout: 30_000 })
    await page.tap(`[data-testid="task-list"] [data-case-id="${task.id}"]`)
    await page.waitForSelector(`[data-testid="case-view"][data-case-id="${task.id}"]`)

    await page.context().setOffline(true)
    await page.waitForFunction(() => !navigator.onLine)
    // Two steps on the case, the second offered on the first's projected status.
    await page.tap('[data-testid="step-accept"]')
    await page.waitForSelector('[data-testid="case-queued"]')
    await page.tap('[data-testid="step-note"]')
    await page.fill('[data-testid="step-text"]', `离线备注 ${stamp}`)
    await page.tap('[data-testid="step-submit"]')
    // Three reports, one with a photo.
    const descriptions = [1, 2, 3].map((i) => `离线上报 ${stamp} 第${i}件`)
    for (const [i, d] of descriptions.entries()) {
      await report(page, d, ['垃圾', 'sanitation.garbage'], i === 0)
      await sendReport(page, 'pending')
      await page.tap('[data-testid="report-done"] button')
    }
    await page.tap('[data-testid="outbox-badge"]')
    await page.waitForSelector('[data-testid="outbox-view"]')
    expect(await page.locator('[data-testid="outbox-item"][data-state="pending"]').count()).toBe(5)
    expect(await page.textContent('[data-testid="live"]')).toBe('离线')
    await shot(page, 'outbox-offline-zh')
    for (const d of descriptions) expect(await caseBy(d)).toBeNull()

    // The link comes back, but the answer to the second report is lost on the way back: the phone sends it again
    // with the same key and the server answers the first answer again.
    let dropped = 0
    await page.route('**/api/cases', async (route) => {
      const body = route.request().postData() ?? ''
      if (route.request().method() === 'POST' && body.includes(descriptions[1]) && dropped === 0) {
        dropped++
        await route.fetch()
        await route.abort('connectionreset')
        return
      }
      await route.continue()
    })
    const back = Date.now()
    await page.context().setOffline(false)
    await page.waitForSelector('[data-testid="outbox-empty"]', { timeout: 60_000 })
    expect(dropped).toBe(1)

    const made = []
    for (const d of descriptions) {
      const matches = (await api(`/api/cases?status=reported&limit=500`, { as: 'admin' })).body.cases.filter((c: { description: string }) => c.description === d)
      expect(matches, d).toHaveLength(1)
      made.push(matches[0])
    }
    // In the order they were made, each made before the link came back.
    const at = made.map((c) => Date.parse(c.madeAt))
    expect([...at].sort((a, b) => a - b)).toEqual(at)
    expect(Math.max(...at)).toBeLessThan(back)
    expect(Date.parse(made[0].reportedAt)).toBeGreaterThanOrEqual(back - 1000)
    const steps = (await timelineOf(task.id)).filter((e) => ['accept', 'note'].includes(e.action))
    expect(steps.map((e) => e.action)).toEqual(['accept', 'note'])
    expect(steps[1].note).toBe(`离线备注 ${stamp}`)
    expect(Date.parse(String(steps[0].data.madeAt))).toBeLessThan(back)
    await page.unroute('**/api/cases')
  }, 300_000)

  it('refused offline items are shown with the server\'s reason and kept until fixed or discarded', async () => {
    // A point outside every grid (Shanghai): offline the phone cannot know; the server refuses it.
    const page = await phone('worker-chengdong', { at: { lon: 121.47, lat: 31.23 } })
    await page.context().setOffline(true)
    const [fixMe, dropMe] = [`越界上报 ${stamp} 甲`, `越界上报 ${stamp} 乙`]
    for (const d of [fixMe, dropMe]) {
      await report(page, d, ['垃圾', 'sanitation.garbage'], false)
      await page.waitForSelector('[data-testid="report-place"][data-state="fix"]')
      await sendReport(page, 'pending')
      await page.tap('[data-testid="report-done"] button')
    }
    await page.context().setOffline(false)
    await page.tap('[data-testid="outbox-badge"]')
    await expect.poll(() => page.locator('[data-testid="outbox-item"][data-state="refused"]').count(), { timeout: 60_000 }).toBe(2)
    const reason = page.locator('[data-testid="outbox-item"][data-state="refused"] [data-testid="outbox-reason"]').first()
    expect(await reason.getAttribute('data-code')).toBe('outside_grid')
    expect(await reason.textContent()).toBe('该位置不在任何网格内，无法上报')
    await shot(page, 'outbox-refused-zh')
    await page.locator('[data-testid="lang"]').tap()
    await shot(page, 'outbox-refused-en')
    await page.locator('[data-testid="lang"]').tap()
    // Still there after a reload: kept on the phone, not in memory.
    await page.reload()
    await expect.poll(() => page.locator('[data-testid="outbox-item"][data-state="refused"]').count(), { timeout: 30_000 }).toBe(2)
    // One is discarded…
    page.once('dialog', (d) => void d.accept())
    await page.locator('[data-testid="outbox-item"]', { hasText: '乙' }).locator('[data-testid="outbox-discard"]').tap()
    await expect.poll(() => page.locator('[data-testid="outbox-item"]').count()).toBe(1)
    // …the other corrected: the worker walks into the grid, takes the position again and sends it.
    await page.locator('[data-testid="outbox-item"]', { hasText: '甲' }).locator('[data-testid="outbox-fix"]').tap()
    await page.waitForSelector('[data-testid="report-fixing"]')
    expect(await page.inputValue('[data-testid="report-description"]')).toBe(fixMe)
    await page.context().setGeolocation({ longitude: here.lon, latitude: here.lat })
    await page.tap('[data-testid="relocate"]')
    await expect.poll(() => page.textContent('[data-testid="report-chain"]'), { timeout: 20_000 }).toContain('城东街道')
    await sendReport(page, 'sent')
    const fixed = (await api(`/api/cases?status=reported&limit=500`, { as: 'admin' })).body.cases.filter((c: { description: string }) => c.description === fixMe)
    expect(fixed).toHaveLength(1)
    expect(fixed[0].regions.some((r: { id: string }) => r.id === gridId)).toBe(true)
    expect(await caseBy(dropMe)).toBeNull()
  }, 240_000)

  it('handled on the spot, sent back by the inspector with a photo (the worker is told at once), and a resident asks for it to be done again', async () => {
    const worker = await phone('worker-chengdong')
    const description = `当场处置 ${stamp}`
    await report(worker, description, ['垃圾', 'sanitation.garbage'], true)
    await worker.tap('[data-testid="self-handled"]')
    await worker.fill('[data-testid="self-handled-note"]', '已当场清理')
    await shot(worker, 'report-self-handled-zh')
    // Two camera pictures picked back to back and sent at once, while they are still being made smaller: the second
    // pick does not replace the first, and the send waits for both.
    // On a cheap phone's CPU (20× slower) it takes seconds.
    const cdp = await worker.context().newCDPSession(worker)
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 20 })
    for (const name of ['after-1.jpg', 'after-2.jpg']) await worker.setInputFiles('[data-testid="after-photos-input"]', { name, mimeType: 'image/jpeg', buffer: cameraPhoto })
    await sendReport(worker, 'sent')
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 })
    const c = await caseBy(description)
    expect(c).toMatchObject({ status: 'handled', selfHandled: true, assigneeId: workerId })
    const timeline = await timelineOf(c.id)
    expect(timeline.map((e) => e.action)).toEqual(['report', 'register', 'dispatch', 'accept', 'handle'])
    expect(timeline.at(-1)!.attachments).toHaveLength(2)

    const inspector = await phone('inspector-chengdong')
    await inspector.waitForSelector(`[data-testid="verify-list"] [data-case-id="${c.id}"]`, { timeout: 30_000 })
    await inspector.tap(`[data-testid="verify-list"] [data-case-id="${c.id}"]`)
    await inspector.tap('[data-testid="step-send_back"]')
    await inspector.tap('[data-testid="step-submit"]')
    expect(await inspector.textContent('[data-testid="step-error"]')).toBe('请填写内容')
    await inspector.fill('[data-testid="step-text"]', '现场仍有垃圾，请重新清理')
    await addPhoto(inspector, '[data-testid="step-photos-input"]', 'evidence.jpg')
    await inspector.tap('[data-testid="step-submit"]')
    await expect.poll(() => statusOf(inspector), { timeout: 30_000 }).toBe('in_progress')
    const back = (await timelineOf(c.id)).at(-1)!
    expect(back).toMatchObject({ action: 'send_back', note: '现场仍有垃圾，请重新清理' })
    expect((back as unknown as { attachments: string[] }).attachments).toHaveLength(1)
    await worker.waitForSelector(`[data-testid="notice"][data-kind="sent_back"]`, { timeout: 30_000 })
    await shot(worker, 'notice-sent-back-zh')

    // A resident's closed, badly rated case: they ask for it to be done again, and the dispatcher sees it.
    const closed = (await api('/api/cases', { as: 'resident-zhang', body: { category: 'sanitation.garbage', description: `申请重办 ${stamp}`, ...here } })).body
    let v = closed.version
    for (const [user, action, body] of [
      ['admin', 'register', {}], ['admin', 'dispatch', { assigneeId: workerId }], ['worker-chengdong', 'accept', {}],
      ['worker-chengdong', 'handle', { note: '已处理' }], ['inspector-chengdong', 'verify', {}], ['admin', 'close', {}],
    ] as const) {
      const r = await api(`/api/cases/${closed.id}/actions/${action}`, { as: user, body, headers: { 'if-match': `"${v}"` } })
      expect(r.status, `${action}: ${JSON.stringify(r.body)}`).toBe(200)
      v = r.body.version
    }
    const resident = await phone('resident-zhang')
    await resident.goto(`${url}/m/case/${closed.id}`)
    await resident.waitForSelector('[data-testid="step-rate"]', { timeout: 30_000 })
    await resident.tap('[data-testid="step-rate"]')
    await resident.tap('[data-testid="stars"] [data-stars="1"]')
    await resident.tap('[data-testid="step-submit"]')
    await expect.poll(() => statusOf(resident), { timeout: 30_000 }).toBe('rated')
    await resident.waitForSelector('[data-testid="step-request_reopen"]', { timeout: 30_000 })
    await resident.tap('[data-testid="step-request_reopen"]')
    await resident.fill('[data-testid="step-text"]', '垃圾又堆起来了')
    await resident.tap('[data-testid="step-submit"]')
    await expect.poll(async () => (await api(`/api/cases/${closed.id}`, { as: 'admin' })).body.reopenRequestedAt, { timeout: 30_000 }).not.toBeNull()
    await resident.waitForSelector('[data-testid="step-request_reopen"]', { state: 'detached', timeout: 30_000 })
    await shot(resident, 'case-reopen-requested-zh')
    const dispatcher = await desk('dispatcher-wucheng', `/dispatch?case=${closed.id}`, `[data-testid="case-detail"][data-case-id="${closed.id}"]`)
    await dispatcher.waitForSelector('[data-testid="reopen-requested"]')
  }, 300_000)

  it('opens with no network once the service worker has it: the app, the kept list and the map tiles', async () => {
    const page = await phone('worker-chengdong')
    await page.waitForSelector('[data-testid="tasks-view"]')
    // Visit the report screen online so its map tiles are seen (and kept).
    await page.tap('[data-testid="tab-report"]')
    await page.waitForSelector('[data-testid="field-map"][data-ready]', { timeout: 60_000 })
    await page.waitForFunction(() => (window as any).__gridcommand.fieldMap?.areTilesLoaded(), undefined, { timeout: 60_000 })
    const tilesSeen = await page.evaluate(async () => (await (await caches.open('gc-tiles')).keys()).length)
    expect(tilesSeen).toBeGreaterThan(0)

    await page.context().setOffline(true)
    await page.reload()
    await page.waitForSelector('[data-testid="report-view"]', { timeout: 60_000 })
    expect(await page.textContent('[data-testid="live"]')).toBe('离线')
    await page.waitForSelector('[data-testid="field-map"][data-ready]', { timeout: 60_000 })
    await page.waitForFunction(() => (window as any).__gridcommand.fieldMap?.areTilesLoaded(), undefined, { timeout: 60_000 })
    await expect.poll(() => page.evaluate(() => (window as any).__gridcommand.fieldMap.queryRenderedFeatures().length), { timeout: 20_000 }).toBeGreaterThan(0)
    // The tasks as last seen online, from the phone's own store.
    await page.tap('[data-testid="tab-tasks"]')
    await page.waitForSelector('[data-testid="tasks-view"] [data-testid="task-list"] [data-testid="case-card"], [data-testid="tasks-empty"]')
    await shot(page, 'offline-start-zh')
    await page.context().setOffline(false)
  }, 180_000)

  it('a check-in is stored and shows on the drill map of its grid', async () => {
    const page = await phone('worker-chengdong')
    await page.tap('[data-testid="tab-checkin"]')
    await page.waitForSelector('[data-testid="checkin-view"]')
    await page.tap('[data-kind="building"]')
    await page.fill('[data-testid="checkin-address"]', `3 幢 ${stamp}`)
    await page.fill('[data-testid="checkin-note"]', '独居老人走访，一切正常')
    await page.tap('[data-testid="checkin-submit"]')
    await page.waitForSelector('[data-testid="checkin-today"] li')
    await expect.poll(async () => {
      const fc = (await api(`/api/checkins?region=${gridId}`, { as: 'admin' })).body
      return fc.features.filter((f: any) => f.properties.address === `3 幢 ${stamp}`).length
    }, { timeout: 30_000 }).toBe(1)
    await shot(page, 'checkin-zh')
    const drill = await desk('leader-chengdong', `/drill/${gridId}`, `[data-testid="region-panel"][data-region-id="${gridId}"]`)
    await expect.poll(() => drill.evaluate(() => (window as any).__gridcommand.drillMap?.getSource('gc-drill-checkins')?.serialize().data.features.length ?? 0), { timeout: 30_000 }).toBeGreaterThan(0)
    await drill.screenshot({ path: `${ARTIFACTS}field-drill-checkins.png` })
  }, 180_000)

  it('every screen in Chinese and English at 390 px: nothing wider than the phone, touch targets of 44 px or more', async () => {
    const page = await phone('worker-chengdong')
    const screens = ['/tasks', '/report', '/checkin', '/outbox', '/me']
    for (const lang of ['zh', 'en'] as const) {
      for (const path of screens) {
        await page.evaluate((p) => (window as any).__gridcommand.router.push(p), path)
        await page.waitForSelector(`[data-testid="${path.slice(1)}-view"]`)
        await page.waitForTimeout(300) // layout settles (async map)
        const report = await page.evaluate(() => {
          const wide = document.documentElement.scrollWidth
          const small = [...document.querySelectorAll<HTMLElement>('button, a, input, textarea, select, [role="radio"]')]
            .filter((el) => el.offsetParent !== null && !(el as HTMLInputElement).type?.match(/file|checkbox/))
            .map((el) => ({ el, r: el.getBoundingClientRect() }))
            .filter(({ r }) => r.width > 0 && (r.height < 44 || r.width < 44))
            .map(({ el, r }) => `${el.tagName} ${el.textContent?.trim().slice(0, 20)} ${Math.round(r.width)}×${Math.round(r.height)}`)
          return { wide, small }
        })
        expect(report.wide, `${path} ${lang}: wider than the phone`).toBeLessThanOrEqual(PHONE.width)
        expect(report.small, `${path} ${lang}: touch targets under 44 px`).toEqual([])
        await shot(page, `${path.slice(1)}-${lang}`)
      }
      await page.tap('[data-testid="lang"]')
    }
    const signin = await (await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true })).newPage()
    await signin.goto(`${url}/m/`)
    await signin.waitForSelector('[data-testid="signin-demo"]')
    await shot(signin, 'signin-zh')
    await signin.tap('[data-testid="lang"]')
    await shot(signin, 'signin-en')
    await signin.context().close()
  }, 180_000)

  it('threw no page errors', () => {
    expect(pageErrors).toEqual([])
  })
})
