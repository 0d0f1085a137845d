import { chromium } from 'playwright-core'
const url = process.env.URL ?? 'http://127.0.0.1:8091'
const user = process.argv[2] ?? 'worker-chengdong'
const login = await (await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password: 'gridcommand-demo' }) })).json()
const grid = login.user.scopeRegionId ?? '330702001008G01'
const center = (await (await fetch(`${url}/api/regions/${grid}`)).json()).center
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking'] })
const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, geolocation: { longitude: center[0], latitude: center[1] }, permissions: ['geolocation'] })
const page = await ctx.newPage()
page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && console.log('[page]', m.text()))
page.on('pageerror', (e) => console.log('[pageerror]', e.message))
await page.goto(`${url}/m/`)
await page.waitForSelector('[data-testid="signin"]')
await page.screenshot({ path: '/tmp/mshots/signin.png' })
await page.fill('[data-testid="signin-username"]', user)
await page.fill('[data-testid="signin-password"]', 'gridcommand-demo')
await page.click('[data-testid="signin-submit"]')
await page.waitForTimeout(3000)
await page.screenshot({ path: '/tmp/mshots/home.png' })
await page.click('[data-testid="tab-report"]')
await page.waitForTimeout(4000)
await page.screenshot({ path: '/tmp/mshots/report.png', fullPage: true })
await browser.close()
