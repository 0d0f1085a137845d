import { chromium } from 'playwright-core'
const url = 'http://127.0.0.1:8091'
for (let i = 0; i < 60; i++) { try { if ((await fetch(`${url}/api/health`)).ok) break } catch {} ; await new Promise((r) => setTimeout(r, 1000)) }
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking'] })
const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, serviceWorkers: 'allow' })
ctx.on('serviceworker', (w) => console.log('[sw] created', w.url()))
const page = await ctx.newPage()
page.on('console', (m) => console.log('[page]', m.type(), m.text()))
await page.goto(`${url}/m/`)
for (let i = 0; i < 10; i++) {
  await page.waitForTimeout(2000)
  console.log(await page.evaluate(async () => { const r = await navigator.serviceWorker.getRegistration('/m/'); return JSON.stringify({ ctl: !!navigator.serviceWorker.controller, active: r?.active?.state, installing: r?.installing?.state, waiting: r?.waiting?.state, scope: r?.scope }) }))
}
await browser.close()
