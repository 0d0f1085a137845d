/**
 * Signing in through the page, in Chromium against the real server (issue #6): a leader signs in, the header shows
 * their jurisdiction, the map frames it and the case list is their scope's; a reload keeps the session; signing out
 * ends it. Errors: wrong password (401) and too many attempts (429, with the wait). Same set-up and skip rules as
 * wall.e2e.test.ts.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureWebBuild } from '../../scripts/web-build.ts'
import type { AppInstance } from '../../server/src/app-types.ts'
import { testDb } from '../../test/support/db.ts'
import { postJson, startServer } from '../../test/support/server.ts'
import { ARTIFACTS, HAVE_BROWSER, launchChromium } from './browser.ts'

const PASSWORD = 'gridcommand-demo'
const LEADER = 'leader-chengdong'
const REFRESH_KEY = 'gridcommand.refreshToken'

describe.skipIf(!HAVE_BROWSER)('signing in on the command-center page', () => {
  let app: AppInstance
  let url: string
  let browser: Browser
  let page: Page
  const pageErrors: string[] = []
  /** Authorization headers the page sent to /api/cases, in order (null: none). */
  const caseAuth: Array<string | null> = []

  const text = (sel: string) => page.textContent(sel).then((t) => (t ?? '').trim())
  const openCount = () => text('[data-testid="open-count"]').then(Number)
  const storedRefresh = () => page.evaluate((k) => localStorage.getItem(k), REFRESH_KEY)
  async function openCasesAs(token: string | null, base = url): Promise<number> {
    const res = await fetch(`${base}/api/cases?status=open&limit=20000`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
    expect(res.status).toBe(200)
    return (await res.json()).cases.length
  }

  beforeAll(async () => {
    await ensureWebBuild((m) => console.log(m.replace('[gridcommand]', '[e2e]')))
    ;({ app, url } = await startServer({ db: await testDb('embedded'), webDist: new URL('../dist', import.meta.url).pathname, demoAccounts: true }))
    browser = await launchChromium()
    // A context of its own (not browser.newPage's): the sign-out test opens a second tab in it.
    page = await (await browser.newContext({ viewport: { width: 1600, height: 900 } })).newPage()
    page.on('pageerror', (err) => pageErrors.push(err.message))
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') console.log(`[page ${msg.type()}] ${msg.text()}`)
    })
    page.on('request', (req) => {
      if (new URL(req.url()).pathname === '/api/cases') caseAuth.push(req.headers()['authorization'] ?? null)
    })
    // A case inside the leader's street and one outside it (多湖街道, another district).
    for (const region of ['330702001', '330703001']) {
      const [lon, lat] = (await (await fetch(`${url}/api/regions/${region}`)).json()).center as number[]
      const res = await postJson(`${url}/api/cases`, { category: 'safety_hazard', description: `登录测试 ${region}`, lon, lat })
      expect(res.status).toBe(201)
    }
  })

  afterAll(async () => {
    await browser?.close()
    await app?.close()
  })

  it('opens anonymously (dev-header) with a sign-in button', async () => {
    await page.goto(url)
    await page.waitForSelector('[data-testid="map"][data-framed-on="all"]', { timeout: 60_000 })
    await page.waitForSelector('[data-testid="connection"][data-state="online"]', { timeout: 30_000 })
    expect(await text('[data-testid="sign-in"]')).toBe('登录')
    await expect.poll(openCount, { timeout: 15_000 }).toBe(await openCasesAs(null))
    expect(caseAuth.every((a) => a === null)).toBe(true)
  })

  it('says so when the password is wrong, and when there were too many attempts (with the wait)', async () => {
    await page.click('[data-testid="sign-in"]')
    await page.waitForSelector('[data-testid="signin-page"]')
    await page.fill('[data-testid="signin-username"]', LEADER)
    await page.fill('[data-testid="signin-password"]', 'wrong-password')
    await page.click('[data-testid="signin-submit"]')
    await expect.poll(() => text('[data-testid="signin-error"]')).toBe('用户名或密码错误')

    // An account nobody has: 10 failures lock it for 15 minutes (the limit is per account name as typed).
    const nobody = `nobody-e2e-${Date.now()}`
    for (let i = 0; i < 10; i++) expect((await postJson(`${url}/api/auth/login`, { username: nobody, password: 'x' })).status).toBe(401)
    await page.fill('[data-testid="signin-username"]', nobody)
    await page.fill('[data-testid="signin-password"]', 'x')
    await page.click('[data-testid="signin-submit"]')
    await expect.poll(() => text('[data-testid="signin-error"]')).toMatch(/^尝试次数过多，请 1[45] 分钟后再试$/)
    await page.click('[data-testid="signin-lang"]')
    await expect.poll(() => text('[data-testid="signin-error"]')).toMatch(/^Too many attempts: try again in 1[45] min$/)
    await page.screenshot({ path: `${ARTIFACTS}signin-throttled-en.png` })
    await page.click('[data-testid="signin-lang"]')
  })

  it('signs a leader in through the page: header, map and cases are their jurisdiction', async () => {
    // The demo list (from GET /api/auth/demo) fills the form.
    await page.waitForSelector(`[data-testid="signin-demo"] button[data-username="${LEADER}"]`)
    await page.click(`[data-testid="signin-demo"] button[data-username="${LEADER}"]`)
    expect(await page.inputValue('[data-testid="signin-username"]')).toBe(LEADER)
    await page.screenshot({ path: `${ARTIFACTS}signin-page.png` })
    await page.click('[data-testid="signin-submit"]')
    await page.waitForSelector('[data-testid="signin-page"]', { state: 'detached' })

    expect(await text('[data-testid="session-scope"]')).toBe('城东街道')
    expect(await text('[data-testid="session-name"]')).toBe('城东街道负责人')
    expect(await text('[data-testid="session-role"]')).toBe('负责人')
    await page.waitForSelector('[data-testid="map"][data-framed-on="330702001"]', { timeout: 15_000 })
    // The map shows the street (its bbox inside the map's view) and fills it: not the whole city. Polled: the map
    // flies there.
    const bbox = (await (await fetch(`${url}/api/regions/330702001`)).json()).bbox as number[]
    const view = () => page.evaluate(() => {
      const m = (window as any).__gridcommand.map
      return { moving: m.isMoving() as boolean, bounds: m.getBounds().toArray() as number[][] }
    })
    await expect.poll(async () => (await view()).moving, { timeout: 15_000 }).toBe(false)
    const { bounds } = await view()
    expect(bounds[0][0]).toBeLessThanOrEqual(bbox[0])
    expect(bounds[0][1]).toBeLessThanOrEqual(bbox[1])
    expect(bounds[1][0]).toBeGreaterThanOrEqual(bbox[2])
    expect(bounds[1][1]).toBeGreaterThanOrEqual(bbox[3])
    expect(bounds[1][0] - bounds[0][0]).toBeLessThan((bbox[2] - bbox[0]) * 4)
    // Its boundary is outlined.
    await expect.poll(() => page.evaluate(() => {
      const fc = (window as any).__gridcommand.map.getSource('gc-scope')?.serialize().data
      return fc?.features?.map((f: any) => f.properties.id) ?? []
    }), { timeout: 15_000 }).toEqual(['330702001'])

    // Case lists come scoped by the server: the page's count is the leader's, and the page sent its token.
    const login = await postJson(`${url}/api/auth/login`, { username: LEADER, password: PASSWORD })
    const scoped = await openCasesAs(login.body.accessToken)
    expect(scoped).toBeGreaterThan(0)
    expect(scoped).toBeLessThan(await openCasesAs(null))
    await expect.poll(openCount, { timeout: 15_000 }).toBe(scoped)
    expect(caseAuth.at(-1)).toMatch(/^Bearer ey/)
    await page.waitForSelector('[data-testid="connection"][data-state="online"]', { timeout: 30_000 })
    expect(await storedRefresh()).toMatch(/^rt_/)
    await page.screenshot({ path: `${ARTIFACTS}signin-leader-wall.png` })
  })

  it('is still signed in after a reload (the refresh token rotated)', async () => {
    const before = await storedRefresh()
    await page.reload()
    await page.waitForSelector('[data-testid="session-scope"]', { timeout: 30_000 })
    expect(await text('[data-testid="session-scope"]')).toBe('城东街道')
    await page.waitForSelector('[data-testid="map"][data-framed-on="330702001"]', { timeout: 60_000 })
    const after = await storedRefresh()
    expect(after).toMatch(/^rt_/)
    expect(after).not.toBe(before)
    await page.waitForSelector('[data-testid="connection"][data-state="online"]', { timeout: 30_000 })
    const login = await postJson(`${url}/api/auth/login`, { username: LEADER, password: PASSWORD })
    await expect.poll(openCount, { timeout: 15_000 }).toBe(await openCasesAs(login.body.accessToken))
    // A reload is the whole wall page again: more than the 30 s default on a busy 2-core machine (timed out once).
  }, 120_000)

  // Waits of 60 s: the second tab and the sign-in go through the whole wall page, slow under software WebGL on a busy
  // 2-core CI machine (a 15 s wait timed out there once).
  it('signs out: the session ends on the server, the page is the anonymous wall again', async () => {
    const token = await storedRefresh()
    // A second tab of the same browser shares the session; signing out in one signs out both.
    const other = await page.context().newPage()
    other.on('pageerror', (err) => pageErrors.push(err.message))
    await other.goto(url)
    await other.waitForSelector('[data-testid="session-scope"]', { timeout: 30_000 })
    await page.click('[data-testid="sign-out"]')
    await other.waitForSelector('[data-testid="sign-in"]', { timeout: 60_000 })
    expect(await other.$('[data-testid="session-user"]')).toBeNull()
    await page.waitForSelector('[data-testid="sign-in"]')
    expect(await page.$('[data-testid="session-user"]')).toBeNull()
    expect(await storedRefresh()).toBeNull()
    // The refresh token no longer works.
    expect((await postJson(`${url}/api/auth/refresh`, { refreshToken: token })).status).toBe(401)
    await page.waitForSelector('[data-testid="map"][data-framed-on="all"]', { timeout: 60_000 })
    await expect.poll(openCount, { timeout: 60_000 }).toBe(await openCasesAs(null))
    await page.reload()
    await page.waitForSelector('[data-testid="sign-in"]', { timeout: 30_000 })

    // Signing in in one tab signs in the other, anonymous one too.
    await other.click('[data-testid="sign-in"]')
    await other.fill('[data-testid="signin-username"]', LEADER)
    await other.fill('[data-testid="signin-password"]', PASSWORD)
    await other.click('[data-testid="signin-submit"]')
    await other.waitForSelector('[data-testid="session-scope"]', { timeout: 60_000 })
    await page.waitForSelector('[data-testid="session-scope"]', { timeout: 60_000 })
    expect(await text('[data-testid="session-scope"]')).toBe('城东街道')
    await other.click('[data-testid="sign-out"]')
    await page.waitForSelector('[data-testid="sign-in"]', { timeout: 60_000 })
    await other.close()
  }, 240_000)

  it('with AUTH_MODE=token the page asks for a sign-in and cannot be used without one', async () => {
    // The first server's wall is done with: off the page, so its map stops drawing (software WebGL costs a core).
    await page.goto('about:blank')
    const strict = await startServer({ db: await testDb('embedded'), webDist: new URL('../dist', import.meta.url).pathname, auth: { mode: 'token' } })
    const p = await browser.newPage({ viewport: { width: 1600, height: 900 } })
    p.on('pageerror', (err) => pageErrors.push(err.message))
    try {
      await p.goto(strict.url)
      await p.waitForSelector('[data-testid="signin-page"]', { timeout: 60_000 })
      expect(await p.$('[data-testid="signin-cancel"]')).toBeNull()
      // Not a demo server: no demo accounts offered (GET /api/auth/demo → 404).
      expect(await p.$('[data-testid="signin-demo"]')).toBeNull()
      await p.keyboard.press('Escape')
      expect(await p.$('[data-testid="signin-page"]')).not.toBeNull()
      await p.fill('[data-testid="signin-username"]', LEADER)
      await p.fill('[data-testid="signin-password"]', PASSWORD)
      await p.click('[data-testid="signin-submit"]')
      await p.waitForSelector('[data-testid="signin-page"]', { state: 'detached' })
      expect(await p.textContent('[data-testid="session-scope"]')).toBe('城东街道')
      const login = await postJson(`${strict.url}/api/auth/login`, { username: LEADER, password: PASSWORD })
      const scoped = await openCasesAs(login.body.accessToken, strict.url)
      await expect.poll(async () => Number(await p.textContent('[data-testid="open-count"]')), { timeout: 20_000 }).toBe(scoped)
    } finally {
      await p.close()
      await strict.app.close()
    }
    // A second server and a cold page on a shared 2-core CI machine: more than the 30 s default.
  }, 180_000)

  it('a direct load of every view after signing in is signed from its first request (AUTH_MODE=token)', async () => {
    await page.goto('about:blank')
    const strict = await startServer({ db: await testDb('embedded'), webDist: new URL('../dist', import.meta.url).pathname, auth: { mode: 'token' } })
    const ctx = await browser.newContext({ viewport: { width: 1600, height: 900 } })
    const p = await ctx.newPage()
    p.on('pageerror', (err) => pageErrors.push(err.message))
    // Every API request but sign-in's own must carry the token: one sent before the session was restored is anonymous.
    const unsigned: string[] = []
    p.on('request', (req) => {
      const u = new URL(req.url())
      if (u.pathname.startsWith('/api/') && !u.pathname.startsWith('/api/auth/') && !req.headers()['authorization']) unsigned.push(`${req.method()} ${u.pathname}${u.search}`)
    })
    try {
      const login = await postJson(`${strict.url}/api/auth/login`, { username: 'commander', password: PASSWORD })
      expect(login.status).toBe(200)
      const open = await (await fetch(`${strict.url}/api/cases?status=open&limit=1`, { headers: { authorization: `Bearer ${login.body.accessToken}` } })).json()
      const caseId = open.cases[0].id as string
      // Signed in as this browser would be after a sign-in: the refresh token in storage, then a link opened directly.
      await p.goto(`${strict.url}/api/health`)
      await p.evaluate(([k, v]) => localStorage.setItem(k, v), [REFRESH_KEY, login.body.refreshToken as string])
      unsigned.length = 0 // that navigation itself
      const views: Array<[string, string]> = [
        ['/drill/330702001', '[data-testid="region-panel"][data-region-id="330702001"]'],
        ['/drill/330702001?view=cases', '[data-testid="drill-view"]'],
        ['/dispatch', '[data-testid="dispatch-view"]'],
        [`/dispatch?case=${caseId}`, `[data-testid="case-detail"][data-case-id="${caseId}"]`],
        ['/', '[data-testid="map"][data-framed-on="all"]'],
      ]
      for (const [path, ready] of views) {
        await p.goto(`${strict.url}${path}`)
        await p.waitForSelector(ready, { timeout: 60_000 })
        await p.waitForSelector('[data-testid="session-name"]', { timeout: 30_000 })
        expect(await p.textContent('[data-testid="session-name"]'), path).toBe('指挥中心值班长')
        expect(await p.$('[data-testid="signin-page"]'), `${path}: no sign-in page over it`).toBeNull()
        if (path === '/drill/330702001') {
          // The commander sees the street's performance, not "for staff of this jurisdiction only".
          await p.waitForSelector('[data-testid="star-score"]', { timeout: 30_000 })
          expect(await p.$('[data-testid="restricted"]')).toBeNull()
          await p.screenshot({ path: `${ARTIFACTS}signin-drill-direct.png` })
        }
        expect(unsigned, `${path}: requests sent without the session`).toEqual([])
      }
    } finally {
      await ctx.close()
      await strict.app.close()
    }
  }, 240_000)

  it('threw no page errors', () => {
    expect(pageErrors).toEqual([])
  })
})
