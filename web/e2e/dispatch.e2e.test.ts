import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureWebBuild } from '../../scripts/web-build.ts'
import type { AppInstance } from '../../server/src/app-types.ts'
import type { Db } from '../../server/src/db/types.ts'
import { createUser, TEST_PASSWORD } from '../../server/test/auth/support.ts'
import { testDb } from '../../test/support/db.ts'
import { postJson, startServer } from '../../test/support/server.ts'
import { ARTIFACTS, HAVE_BROWSER, launchChromium } from './browser.ts'

/**
 * Issue #8 in Chromium: the drill-down by map clicks and by URL; the dispatcher assigns a case by clicking a worker
 * on the map and a second browser context sees it; two dispatchers act on the same case at once — one succeeds,
 * the other sees the conflict with who changed what. Screenshots of each view go to artifacts/e2e/.
 */
const REFRESH_KEY = 'gridcommand.refreshToken'
const DISTRICT = '330702'

async function signedInContext(browser: Browser, url: string, username: string, password: string): Promise<BrowserContext> {
  const res = await postJson(`${url}/api/auth/login`, { username, password })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  const ctx = await browser.newContext({ viewport: { width: 1600, height: 900 } })
  await ctx.addInitScript(([k, v]) => localStorage.getItem(k) ?? localStorage.setItem(k, v), [REFRESH_KEY, res.body.refreshToken] as const)
  return ctx
}

/** Clicks on the map where the child region `id` is drawn (a pixel whose rendered feature is that region). */
async function clickChildOnMap(page: Page, id: string): Promise<void> {
  await page.waitForFunction(() => !!(window as any).__gridcommand?.drillMap, undefined, { timeout: 60_000 })
  // Until the map has settled (the fly-to ended and the frame is drawn): 'idle', or at once if it already is.
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const m = (window as any).__gridcommand.drillMap
        if (!m.isMoving() && m.areTilesLoaded() && !m._frameRequest) resolve()
        else m.once('idle', () => resolve())
        setTimeout(resolve, 20_000)
      }),
  )
  const at = await page.evaluate((regionId) => {
    const m = (window as any).__gridcommand.drillMap
    const canvas = m.getCanvas() as HTMLCanvasElement
    const w = canvas.clientWidth
    const h = canvas.clientHeight
    const rect = canvas.getBoundingClientRect()
    for (const step of [24, 10, 4]) {
      for (let y = step / 2; y < h; y += step) {
        for (let x = step / 2; x < w; x += step) {
          const f = m.queryRenderedFeatures([x, y], { layers: ['gc-drill-children-fill'] })
          if (f.length && f[0].properties.id === regionId) return { x: rect.left + x, y: rect.top + y }
        }
      }
    }
    return null
  }, id)
  expect(at, `region ${id} drawn on the map`).not.toBeNull()
  await page.mouse.click(at!.x, at!.y)
}

describe.skipIf(!HAVE_BROWSER)('drill-down and dispatch in Chromium (issue #8)', () => {
  let app: AppInstance
  let url: string
  let db: Db
  let browser: Browser
  const contexts: BrowserContext[] = []
  const pageErrors: string[] = []
  let chain: string[] = []
  let caseId = ''
  let workers: string[] = []
  let second = ''
  let spot = { lon: 0, lat: 0 }

  beforeAll(async () => {
    await ensureWebBuild((m) => console.log(m.replace('[gridcommand]', '[e2e]')))
    db = await testDb('embedded')
    ;({ app, url } = await startServer({ db, webDist: new URL('../dist', import.meta.url).pathname }))
    browser = await launchChromium()
    // A micro-grid of 婺城区 and its chain (district → … → micro-grid).
    const { rows } = await db.query<{ path: string }>(
      `SELECT path::text AS path FROM regions WHERE level = 5 AND path <@ $1::ltree AND valid_to IS NULL ORDER BY id OFFSET 7 LIMIT 1`,
      [DISTRICT],
    )
    chain = rows[0].path.split('.')
    // A case at a camera in a grid of 婺城区 with at least three workers, registered; three workers moved next to it.
    const found = await db.query<{ lon: number; lat: number; workers: string[] }>(
      `SELECT ST_X(c.location) AS lon, ST_Y(c.location) AS lat,
              (SELECT array_agg(w.id ORDER BY w.id) FROM workers w WHERE w.region_id = g.id) AS workers
         FROM cameras c JOIN regions g ON nlevel(c.region_path) >= 4 AND g.id = ltree2text(subpath(c.region_path, 3, 1))
        WHERE c.region_path <@ $1::ltree AND (SELECT count(*) FROM workers w WHERE w.region_id = g.id) >= 3
        ORDER BY c.id OFFSET 11 LIMIT 1`,
      [DISTRICT],
    )
    const s = found.rows[0]
    workers = s.workers.slice(0, 3)
    spot = { lon: s.lon, lat: s.lat }
    const created = await postJson(`${url}/api/cases`, { category: 'public_facilities.street_light', description: '浏览器调度测试：路灯', lon: s.lon, lat: s.lat })
    expect(created.status).toBe(201)
    caseId = created.body.id
    // A second open case in the district, so the queue has somewhere to move to.
    expect((await postJson(`${url}/api/cases`, { category: 'sanitation', description: '浏览器调度测试：垃圾', lon: s.lon, lat: s.lat })).status).toBe(201)
    const reg = await app.inject({ method: 'POST', url: `/api/cases/${caseId}/actions/register`, headers: { 'x-actor': 'e2e-setup', 'if-match': '"1"' }, payload: {} })
    expect(reg.statusCode, reg.body).toBe(200)
    const moved = await app.inject({
      method: 'POST',
      url: '/api/workers/positions',
      payload: { positions: workers.map((id, i) => ({ workerId: id, lon: s.lon + 0.0006 * (i - 1), lat: s.lat + 0.0004 * (i % 2 ? -1 : 1), status: 'on_duty' })) },
    })
    expect(moved.statusCode, moved.body).toBe(200)
    second = await createUser(db, 'dispatcher', { scope: DISTRICT, prefix: 'e2e' })
  })

  afterAll(async () => {
    for (const c of contexts) await c.close()
    await browser?.close()
    await app?.close()
    expect(pageErrors).toEqual([])
  })

  async function open(username: string, password: string, path: string): Promise<Page> {
    const ctx = await signedInContext(browser, url, username, password)
    contexts.push(ctx)
    const page = await ctx.newPage()
    page.on('pageerror', (err) => pageErrors.push(err.message))
    await page.goto(`${url}${path}`)
    return page
  }

  it('drills from the district to a micro-grid by clicking the map; the URL follows; breadcrumbs lead back', async () => {
    const page = await open('dispatcher-wucheng', 'gridcommand-demo', '/drill')
    // Opens on the signed-in user's jurisdiction.
    await page.waitForURL(`**/drill/${DISTRICT}`, { timeout: 30_000 })
    await page.waitForSelector(`[data-testid="region-panel"][data-region-id="${DISTRICT}"]`, { timeout: 60_000 })
    await page.waitForSelector('[data-testid="drill-map"][data-map-ready="true"]', { timeout: 60_000 })
    await page.screenshot({ path: `${ARTIFACTS}drill-1-district.png` })
    for (const [i, id] of chain.slice(1).entries()) {
      await page.waitForSelector(`[data-testid="drill-map"][data-region-id="${chain[i]}"][data-framed-on="${chain[i]}"]`, { timeout: 30_000 })
      await clickChildOnMap(page, id)
      await page.waitForSelector(`[data-testid="region-panel"][data-region-id="${id}"]`, { timeout: 60_000 })
      expect(new URL(page.url()).pathname).toBe(`/drill/${id}`)
      await page.waitForSelector(`[data-testid="drill-map"][data-framed-on="${id}"]`, { timeout: 30_000 })
      await page.screenshot({ path: `${ARTIFACTS}drill-${i + 2}-level${i + 2}.png` })
    }
    // The micro-grid: its profile, the star score (staff of the jurisdiction), the breadcrumbs of the whole chain.
    expect(await page.locator('[data-testid="crumb"]').count()).toBe(chain.length + 1)
    await page.waitForSelector('[data-testid="star-score"]')
    // Back to the street by its breadcrumb.
    await page.click(`[data-testid="crumb"][data-region-id="${chain[1]}"]`)
    await page.waitForSelector(`[data-testid="region-panel"][data-region-id="${chain[1]}"]`, { timeout: 60_000 })
    expect(new URL(page.url()).pathname).toBe(`/drill/${chain[1]}`)
  }, 150_000)

  it('opens a micro-grid and a tab straight from the URL (shareable, reloadable)', async () => {
    const micro = chain[chain.length - 1]
    const page = await open('dispatcher-wucheng', 'gridcommand-demo', `/drill/${micro}?view=cases`)
    await page.waitForSelector('[data-testid="drill-cases"]', { state: 'attached', timeout: 60_000 })
    await page.waitForSelector('[data-testid="drill-map"][data-map-ready="true"]', { timeout: 60_000 })
    await page.waitForSelector(`[data-testid="drill-map"][data-framed-on="${micro}"]`, { timeout: 60_000 })
    expect(await page.getAttribute('[data-testid="tab-cases"]', 'aria-selected')).toBe('true')
    expect(await page.locator('[data-testid="crumb"]').count()).toBe(chain.length + 1)
    await page.click('[data-testid="tab-profile"]')
    await page.waitForSelector(`[data-testid="region-panel"][data-region-id="${micro}"]`)
    await page.reload()
    await page.waitForSelector(`[data-testid="region-panel"][data-region-id="${micro}"]`, { timeout: 60_000 })
    await page.waitForSelector(`[data-testid="drill-map"][data-framed-on="${micro}"]`, { timeout: 60_000 })
    await page.screenshot({ path: `${ARTIFACTS}drill-url-microgrid.png` })
    // The English switch: the same page in English (region names are data and stay as they are).
    await page.click('[data-testid="lang-switch"]')
    await expect.poll(() => page.textContent('[data-testid="tab-profile"]'), { timeout: 10_000 }).toBe('Profile')
    expect(await page.getAttribute('html', 'lang')).toBe('en')
    await page.screenshot({ path: `${ARTIFACTS}drill-url-microgrid-en.png` })
  }, 150_000)

  it('assigns the case by clicking a worker on the map; a second browser sees the change', async () => {
    const a = await open('dispatcher-wucheng', 'gridcommand-demo', `/dispatch?case=${caseId}`)
    const b = await open(second, TEST_PASSWORD, `/dispatch?case=${caseId}`)
    for (const p of [a, b]) {
      await p.waitForSelector(`[data-testid="case-detail"][data-case-id="${caseId}"]`, { timeout: 60_000 })
      await p.waitForSelector('[data-testid="dispatch-map"][data-map-ready="true"]', { timeout: 60_000 })
      await p.waitForSelector(`[data-testid="map-worker"][data-worker-id="${workers[1]}"]`, { timeout: 30_000 })
      await p.waitForSelector(`[data-testid="queue-item"][data-case-id="${caseId}"]`, { timeout: 30_000 })
    }
    // A candidate moves meanwhile (workers:moved): their marker follows on the map at once, and is no longer stale.
    const here = (await app.inject(`/api/cases/${caseId}`)).json()
    const to = { lon: here.lon - 0.0011, lat: here.lat + 0.0007 }
    const moved = await app.inject({ method: 'POST', url: '/api/workers/positions', payload: { positions: [{ workerId: workers[0], ...to, status: 'on_duty' }] } })
    expect(moved.statusCode, moved.body).toBe(200)
    await a.waitForSelector(`[data-testid="map-worker"][data-worker-id="${workers[0]}"][data-live="true"]`, { timeout: 30_000 })
    const shown = await a.evaluate((id) => {
      const m = (window as any).__gridcommand.dispatchMap
      const el = document.querySelector(`[data-testid="map-worker"][data-worker-id="${id}"]`) as HTMLElement
      const r = el.getBoundingClientRect()
      const c = m.getCanvas().getBoundingClientRect()
      return m.unproject([r.left + r.width / 2 - c.left, r.top + r.height / 2 - c.top]).toArray() as [number, number]
    }, workers[0])
    // Where the marker's centre is on the map: within a few metres (half a marker) of the new fix.
    expect(Math.abs(shown[0] - to.lon)).toBeLessThan(0.0003)
    expect(Math.abs(shown[1] - to.lat)).toBeLessThan(0.0003)
    await a.screenshot({ path: `${ARTIFACTS}dispatch-a-before.png` })
    await a.click(`[data-testid="map-worker"][data-worker-id="${workers[1]}"]`)
    await a.waitForSelector(`[data-testid="detail-assignee"][data-assignee-id="${workers[1]}"]`, { timeout: 30_000 })
    // The other dispatcher's screen follows over Socket.IO, without a reload.
    await b.waitForSelector(`[data-testid="detail-assignee"][data-assignee-id="${workers[1]}"]`, { timeout: 30_000 })
    await b.waitForSelector(`[data-testid="queue-item"][data-case-id="${caseId}"][data-version="3"]`, { timeout: 30_000 })
    await a.screenshot({ path: `${ARTIFACTS}dispatch-a-assigned.png` })
    await b.screenshot({ path: `${ARTIFACTS}dispatch-b-sees-it.png` })
    // The second dispatcher reads English: the same screen, switched.
    await b.click('[data-testid="lang-switch"]')
    await expect.poll(() => b.textContent('[data-testid="queue-count"]'), { timeout: 10_000 }).toMatch(/^\d+ cases$/)
    // The longer English title, beside the nav at 1600 px with a user signed in: clear of the links (cut short with
    // an ellipsis when there is no room, the whole title its tooltip), never under them.
    const header = await b.evaluate(() => {
      const title = document.querySelector('[data-testid="title"]') as HTMLElement
      const nav = document.querySelector('[data-testid="nav"]') as HTMLElement
      return { text: title.textContent, tooltip: title.title, titleRight: title.getBoundingClientRect().right, navLeft: nav.getBoundingClientRect().left }
    })
    expect(header.titleRight).toBeLessThanOrEqual(header.navLeft)
    expect(header.tooltip).toBe(header.text)
    await b.screenshot({ path: `${ARTIFACTS}dispatch-b-en.png` })
    const now = (await app.inject(`/api/cases/${caseId}`)).json()
    expect(now).toMatchObject({ status: 'dispatched', assigneeId: workers[1], version: 3 })
  }, 150_000)

  it('two dispatchers reassign the same case at once: one succeeds, the other sees who changed what', async () => {
    const [a, b] = contexts.slice(-2).map((c) => c.pages()[0])
    for (const p of [a, b]) await p.waitForSelector(`[data-testid="case-detail"][data-case-id="${caseId}"][data-version="3"]`, { timeout: 30_000 })
    // B still shows version 3 when A's change lands: B's page is kept from re-reading the case (its detail GETs
    // are held back), as when both press within the same second. A gives the case to worker 0, then B to worker 2.
    await b.route(`**/api/cases/${caseId}`, (route) => route.abort())
    await a.click(`[data-testid="candidate"][data-worker-id="${workers[0]}"] [data-testid="assign"]`)
    await expect.poll(async () => (await app.inject(`/api/cases/${caseId}`)).json().version, { timeout: 30_000 }).toBe(4)
    expect(await b.getAttribute('[data-testid="case-detail"]', 'data-version')).toBe('3')
    await b.click(`[data-testid="candidate"][data-worker-id="${workers[2]}"] [data-testid="assign"]`)
    await b.waitForSelector('[data-testid="conflict-dialog"]', { timeout: 30_000 })
    await b.unroute(`**/api/cases/${caseId}`)
    const [loser, winnerName, winnerWorker] = [b, 'dispatcher-wucheng', workers[0]]
    expect(await a.locator('[data-testid="conflict-dialog"]').count()).toBe(0)
    const change = loser.locator('[data-testid="conflict-change"]').first()
    expect(await change.getAttribute('data-actor')).toBe(winnerName)
    expect(await change.getAttribute('data-action')).toBe('reassign')
    await loser.screenshot({ path: `${ARTIFACTS}dispatch-conflict.png` })
    const now = (await app.inject(`/api/cases/${caseId}`)).json()
    expect(now).toMatchObject({ version: 4, assigneeId: winnerWorker })
    // The loser drops their action: nothing more is written; their screen shows the winner's assignment.
    await loser.click('[data-testid="conflict-cancel"]')
    await loser.waitForSelector(`[data-testid="detail-assignee"][data-assignee-id="${winnerWorker}"]`, { timeout: 30_000 })
    expect((await app.inject(`/api/cases/${caseId}`)).json().version).toBe(4)
  }, 150_000)

  it('moves through the queue and escalates with the keyboard alone', async () => {
    const a = contexts[contexts.length - 2].pages()[0]
    await a.click('[data-testid="queue-count"]') // focus on the page, not a control
    await a.waitForSelector(`[data-testid="case-detail"][data-case-id="${caseId}"][data-version="4"]`, { timeout: 30_000 })
    const order = await a.locator('[data-testid="queue-item"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-case-id')))
    expect(order.length).toBeGreaterThanOrEqual(2)
    const [away, back] = order.indexOf(caseId) < order.length - 1 ? ['j', 'k'] : ['k', 'j']
    await a.keyboard.press(away)
    await expect.poll(() => a.getAttribute('[data-testid="case-detail"]', 'data-case-id'), { timeout: 30_000 }).not.toBe(caseId)
    await a.keyboard.press(back)
    await a.waitForSelector(`[data-testid="case-detail"][data-case-id="${caseId}"][data-version="4"]`, { timeout: 30_000 })
    await a.keyboard.press('e')
    await a.waitForSelector(`[data-testid="case-detail"][data-case-id="${caseId}"][data-version="5"]`, { timeout: 30_000 })
    expect((await app.inject(`/api/cases/${caseId}`)).json()).toMatchObject({ version: 5, owningLevel: 3, escalations: 1 })
    await a.screenshot({ path: `${ARTIFACTS}dispatch-keyboard-escalated.png` })
  }, 150_000)

  /** A new case at the spot, registered (ready to dispatch): its id. */
  async function registeredCase(description: string): Promise<string> {
    const res = await postJson(`${url}/api/cases`, { category: 'sanitation', description, lon: spot.lon + 0.0002, lat: spot.lat - 0.0001 })
    expect(res.status).toBe(201)
    const reg = await app.inject({ method: 'POST', url: `/api/cases/${res.body.id}/actions/register`, headers: { 'x-actor': 'e2e-setup', 'if-match': '"1"' }, payload: {} })
    expect(reg.statusCode, reg.body).toBe(200)
    return res.body.id
  }

  it('drags a case onto a worker on the map to assign it; bulk-dispatches two ticked cases to one worker', async () => {
    const dragged = await registeredCase('浏览器调度测试：拖拽派单')
    const a = await open('dispatcher-wucheng', 'gridcommand-demo', `/dispatch?case=${dragged}`)
    await a.waitForSelector(`[data-testid="case-detail"][data-case-id="${dragged}"]`, { timeout: 60_000 })
    await a.waitForSelector('[data-testid="dispatch-map"][data-map-ready="true"]', { timeout: 60_000 })
    const target = `[data-testid="map-worker"][data-worker-id="${workers[2]}"]`
    await a.waitForSelector(target, { timeout: 30_000 })
    await a.waitForFunction(() => !(window as any).__gridcommand.dispatchMap.isMoving(), undefined, { timeout: 30_000 })
    const centre = async (sel: string) => {
      const b = (await a.locator(sel).boundingBox())!
      return { x: b.x + b.width / 2, y: b.y + b.height / 2 }
    }
    const from = await centre(`[data-testid="map-case-pin"][data-case-id="${dragged}"]`)
    const to = await centre(target)
    await a.mouse.move(from.x, from.y)
    await a.mouse.down()
    for (let i = 1; i <= 12; i++) await a.mouse.move(from.x + ((to.x - from.x) * i) / 12, from.y + ((to.y - from.y) * i) / 12)
    await a.mouse.up()
    await a.waitForSelector(`[data-testid="detail-assignee"][data-assignee-id="${workers[2]}"]`, { timeout: 30_000 })
    expect((await app.inject(`/api/cases/${dragged}`)).json()).toMatchObject({ status: 'dispatched', assigneeId: workers[2] })

    // Bulk: tick two more cases in the queue, give both to one worker from the candidates list.
    const bulk = [await registeredCase('浏览器调度测试：批量一'), await registeredCase('浏览器调度测试：批量二')]
    for (const id of bulk) {
      await a.waitForSelector(`[data-testid="queue-item"][data-case-id="${id}"]`, { timeout: 30_000 })
      await a.click(`[data-testid="queue-item"][data-case-id="${id}"] [data-testid="queue-check"]`)
    }
    await a.waitForSelector('[data-testid="bulk-count"]')
    await a.click(`[data-testid="candidate"][data-worker-id="${workers[0]}"] [data-testid="bulk-assign"]`)
    for (const id of bulk) {
      await expect.poll(async () => (await app.inject(`/api/cases/${id}`)).json().assigneeId, { timeout: 30_000 }).toBe(workers[0])
      await a.waitForSelector(`[data-testid="queue-item"][data-case-id="${id}"][data-version="3"]`, { timeout: 30_000 })
    }
    await a.screenshot({ path: `${ARTIFACTS}dispatch-bulk.png` })
  }, 180_000)

  it('narrows the queue with its filters and clear brings every case back', async () => {
    const page = await open('dispatcher-wucheng', 'gridcommand-demo', '/dispatch')
    await page.waitForSelector('[data-testid="queue-item"]', { timeout: 60_000 })
    const items = page.locator('[data-testid="queue-item"]')
    const all = await items.count()
    const prios = () => page.locator('[data-testid="queue-item"] .queue__prio').evaluateAll((els) => els.map((e) => e.className))
    // Each filter is a select with "all" first, then its values (six of them, one block each).
    for (const key of ['status', 'category', 'priority', 'overdue', 'region', 'source']) {
      const sel = page.locator(`[data-testid="filter-${key}"]`)
      expect(await sel.locator('option').first().getAttribute('value'), key).toBe('')
      expect(await sel.locator('option').count(), key).toBeGreaterThan(1)
    }
    const first = (await prios())[0].match(/queue__prio--(\w+)/)![1]
    await page.selectOption('[data-testid="filter-priority"]', first)
    await expect.poll(async () => (await prios()).every((c) => c.includes(`queue__prio--${first}`)), { timeout: 15_000 }).toBe(true)
    await page.selectOption('[data-testid="filter-overdue"]', 'no')
    await expect.poll(() => page.locator('[data-testid="queue-item"].queue__item--overdue').count(), { timeout: 15_000 }).toBe(0)
    expect((await prios()).every((c) => c.includes(`queue__prio--${first}`))).toBe(true)
    await page.click('.queue__clear')
    await expect.poll(() => items.count(), { timeout: 15_000 }).toBe(all)
    expect(await page.inputValue('[data-testid="filter-priority"]')).toBe('')
  }, 120_000)
})
