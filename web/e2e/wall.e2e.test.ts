import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureWebBuild } from '../../scripts/web-build.ts'
import type { AppInstance } from '../../server/src/app-types.ts'
import { testDb } from '../../test/support/db.ts'
import { postJson, startServer } from '../../test/support/server.ts'
import { ARTIFACTS, HAVE_BROWSER, launchChromium } from './browser.ts'

describe.skipIf(!HAVE_BROWSER)('the command-center page in Chromium', () => {
  let app: AppInstance
  let url: string
  let browser: Browser
  let page: Page
  const foreignRequests: string[] = []
  const pageErrors: string[] = []
  const cspViolations: string[] = []

  beforeAll(async () => {
    await ensureWebBuild((m) => console.log(m.replace('[gridcommand]', '[e2e]')))
    ;({ app, url } = await startServer({ db: await testDb('embedded'), webDist: new URL('../dist', import.meta.url).pathname }))
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1600, height: 900 } })
    page.on('request', (req) => {
      const u = req.url()
      if (!u.startsWith(url) && !u.startsWith('data:') && !u.startsWith('blob:')) foreignRequests.push(u)
    })
    page.on('pageerror', (err) => pageErrors.push(err.message))
    // The server's Content-Security-Policy (helmet) must leave the map whole: any violation Chromium reports fails.
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) cspViolations.push(msg.text())
    })
  })

  afterAll(async () => {
    await browser?.close()
    await app?.close()
  })

  it('loads the grid polygons of the real district onto the map and goes online', async () => {
    // ?tour=0: the auto-tour would move the map, and a test below checks that a data reload does not.
    const doc = await page.goto(`${url}/?tour=0`)
    expect(doc?.headers()['content-security-policy']).toContain("worker-src 'self' blob:")
    await page.waitForSelector('[data-testid="map"][data-map-ready="true"]', { timeout: 60_000 })
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="map"]')?.getAttribute('data-grids-loaded') ?? 0) > 0,
      undefined,
      { timeout: 60_000 },
    )
    const grids = Number(await page.getAttribute('[data-testid="map"]', 'data-grids-loaded'))
    const fc = await (await fetch(`${url}/api/regions?level=4`)).json()
    expect(grids).toBe(fc.features.length)
    await page.waitForSelector('[data-testid="connection"][data-state="online"]', { timeout: 30_000 })
    await page.screenshot({ path: `${ARTIFACTS}wall-loaded.png` })
  })

  it('shows a case POSTed to the API without a reload: counter and list change', async () => {
    const before = Number(await page.textContent('[data-testid="open-count"]'))
    // Every open case of the run's shared database (other suites leave some: more than one page of the list).
    const open = (await (await fetch(`${url}/api/stats/overview`)).json()).open.total
    expect(before).toBe(open)

    const res = await postJson(`${url}/api/cases`, { category: 'safety_hazard', description: '浏览器测试：电梯困人', lon: 119.655, lat: 29.085 })
    expect(res.status).toBe(201)
    const item = page.locator(`[data-testid="case-item"][data-case-id="${res.body.id}"]`)
    await item.waitFor({ timeout: 15_000 })
    await expect.poll(async () => Number(await page.textContent('[data-testid="open-count"]')), { timeout: 15_000 }).toBe(before + 1)
    expect(await item.textContent()).toContain(res.body.code)
    await page.screenshot({ path: `${ARTIFACTS}wall-live-case.png` })
  })

  it('switches the interface to English and back', async () => {
    const title = () => page.textContent('[data-testid="title"]').then((t) => t ?? '')
    const kpi = () => page.textContent('section:has([data-testid="open-count"])').then((t) => t ?? '')
    const zh = await title()
    expect(zh).toMatch(/\p{Script=Han}/u)
    await page.click('[data-testid="lang-switch"]')
    await expect.poll(title).toMatch(/^[\x20-\x7e]*GridCommand[\x20-\x7e]*$/)
    expect(await kpi()).not.toMatch(/\p{Script=Han}/u)
    await page.screenshot({ path: `${ARTIFACTS}wall-en.png` })
    await page.click('[data-testid="lang-switch"]')
    await expect.poll(title).toBe(zh)
  })

  it('reloads the boundaries after an import, without moving the map', async () => {
    const view = () => page.evaluate(() => {
      const m = (window as any).__gridcommand.map
      return { center: m.getCenter().toArray().map((x: number) => x.toFixed(6)), zoom: m.getZoom().toFixed(4) }
    })
    const districts = () => page.evaluate(() => (window as any).__gridcommand.pinia.state.value.regions.districts.features.length as number)
    const before = { view: await view(), districts: await districts() }
    const db = await testDb('embedded')
    try {
      const res = await fetch(`${url}/api/regions/import`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'FeatureCollection',
          features: [{ type: 'Feature', properties: { id: 'TE2E1', name: '测试区', level: 1 },
            geometry: { type: 'Polygon', coordinates: [[[100, 10], [100.1, 10], [100.1, 10.1], [100, 10.1], [100, 10]]] } }],
        }),
      })
      expect(res.status).toBe(200)
      await expect.poll(districts, { timeout: 15_000 }).toBe(before.districts + 1)
      expect(await view()).toEqual(before.view)
    } finally {
      await db.query(`DELETE FROM regions WHERE id = 'TE2E1'`)
    }
  })

  it('fetched nothing from outside our server and threw no page errors', () => {
    expect(foreignRequests).toEqual([])
    expect(pageErrors).toEqual([])
    expect(cspViolations).toEqual([])
  })
})
