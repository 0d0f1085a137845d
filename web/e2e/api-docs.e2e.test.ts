/**
 * The API's documentation page (/api/docs, Swagger UI from @fastify/swagger-ui) in Chromium against the real
 * server: it renders every operation of the document and runs one, under the app's Content-Security-Policy, with
 * every request to another origin refused — the page needs nothing from the internet. Same skip rules as
 * wall.e2e.test.ts.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppInstance } from '../../server/src/app-types.ts'
import { testDb } from '../../test/support/db.ts'
import { startServer } from '../../test/support/server.ts'
import { ARTIFACTS, HAVE_BROWSER, launchChromium } from './browser.ts'

describe.skipIf(!HAVE_BROWSER)('the API documentation page', () => {
  let app: AppInstance
  let url: string
  let browser: Browser
  let page: Page
  const elsewhere: string[] = []
  const pageErrors: string[] = []
  const consoleErrors: string[] = []

  beforeAll(async () => {
    ;({ app, url } = await startServer({ db: await testDb('embedded') }))
    browser = await launchChromium()
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
    await context.route('**/*', (route) => {
      if (new URL(route.request().url()).origin === url) return route.continue()
      elsewhere.push(route.request().url())
      return route.abort()
    })
    page = await context.newPage()
    // CSP violations as the page sees them (a blocked script, style, image or fetch).
    await page.addInitScript(() => {
      const seen: string[] = []
      ;(window as unknown as { cspViolations: string[] }).cspViolations = seen
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`))
    })
    page.on('pageerror', (err) => pageErrors.push(err.message))
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text())
    })
  })

  afterAll(async () => {
    await browser?.close()
    await app?.close()
  })

  it('shows every operation of the document, offline and within the CSP', async () => {
    const doc = (await (await fetch(`${url}/api/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> }
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0)
    expect(operations).toBeGreaterThan(60)
    await page.goto(`${url}/api/docs`)
    await expect.poll(() => page.locator('.opblock').count(), { timeout: 30_000 }).toBe(operations)
    expect(await page.textContent('.info .title')).toContain('GridCommand API')
    await expect(page.locator('button.authorize').count()).resolves.toBe(1)
    await page.screenshot({ path: `${ARTIFACTS}api-docs.png` })
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([])
    expect(elsewhere).toEqual([])
    expect(pageErrors).toEqual([])
    expect(consoleErrors).toEqual([])
  })

  it('runs an operation from the page (Try it out → Execute) and shows the answer', async () => {
    const op = page.locator('.opblock').filter({ has: page.locator('.opblock-summary-path[data-path="/api/health"]') })
    await op.locator('.opblock-summary').click()
    await op.getByRole('button', { name: 'Try it out' }).click()
    await op.getByRole('button', { name: 'Execute' }).click()
    await expect.poll(() => op.locator('.live-responses-table tr.response .response-col_status').first().textContent(), { timeout: 15_000 }).toContain('200')
    expect(await op.locator('.live-responses-table tr.response .microlight').first().textContent()).toContain('"status": "ok"')
    await page.screenshot({ path: `${ARTIFACTS}api-docs-health.png` })
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([])
    expect(elsewhere).toEqual([])
    expect(pageErrors).toEqual([])
  })
})
