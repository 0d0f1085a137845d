/**
 * The field app's budget:
 * 1. its JavaScript, gzipped: every script the service worker precaches for /m/ (the whole app, MapLibre and its
 *    worker included), grouped by what is in it, and the part the page loads before its first screen (the entry
 *    and its modulepreloads) — against the wall's page measured the same way;
 * 2. the time from navigation to a usable report form (the submit button and the category choices on screen) in
 *    Chromium on a slow mobile profile — Lighthouse's "slow 4G" (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up) with the
 *    CPU slowed 4× — cold (an empty cache) and warm (the service worker holds the app), against the wall page (its
 *    open-case count on screen) cold and warm (the browser's HTTP cache) in the same run, BENCH_ROUNDS rounds (3).
 *
 *   node --import tsx bench/field-budget.ts            # embedded database
 * Prints JSON lines to stdout; progress to stderr.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { buildApp } from '../server/src/app.ts'
import { migrate } from '../server/src/db/migrate.ts'
import { openDb } from '../server/src/db/open-db.ts'
import { syncReferenceData } from '../server/src/db/reference.ts'
import { seedDemoRegions } from '../server/src/db/seed.ts'
import { DEMO_PASSWORD, seedDemoUsers } from '../server/src/db/seed-users.ts'
import { ensureWebBuild } from '../scripts/web-build.ts'
import { CHROMIUM } from '../web/e2e/browser.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const ROOT = new URL('..', import.meta.url).pathname
const DIST = join(ROOT, 'web/dist')
const log = (...a: unknown[]) => console.error('[bench]', ...a)
const out = (o: unknown) => console.log(JSON.stringify(o))

await ensureWebBuild(log)

// ---- 1. bytes ---------------------------------------------------------------------------------------------------
const gz = (file: string) => gzipSync(readFileSync(join(DIST, file)), { level: 9 }).length
const raw = (file: string) => readFileSync(join(DIST, file)).length
const precached = [...readFileSync(join(DIST, 'm/sw.js'), 'utf8').matchAll(/"url":"\/([^"]+)"/g)].map((m) => m[1])
const scripts = precached.filter((f) => /\.m?js$/.test(f))
/** What a chunk holds, by the modules' names in it (the bundler keeps package paths in its comments and names). */
function groupOf(file: string): string {
  const code = readFileSync(join(DIST, file), 'utf8')
  if (file.includes('maplibre-gl-worker')) return 'MapLibre worker'
  if (code.includes('maplibregl') || code.includes('MapLibre GL')) return 'MapLibre (main thread)'
  if (/socket\.io|engine\.io/i.test(code) || code.includes('transports')) return 'Socket.IO client + event stream'
  if (code.includes('__VUE') || code.includes('createApp') || code.includes('pinia')) return 'Vue, Pinia, router, i18n'
  return 'field app'
}
const groups = new Map<string, { raw: number; gz: number; files: string[] }>()
for (const f of scripts) {
  const g = groupOf(f)
  const e = groups.get(g) ?? { raw: 0, gz: 0, files: [] }
  e.raw += raw(f)
  e.gz += gz(f)
  e.files.push(f)
  groups.set(g, e)
}
const firstScreen = (page: string) => {
  const html = readFileSync(join(DIST, page), 'utf8')
  return [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1])
}
const sum = (files: string[], f: (x: string) => number) => files.reduce((s, x) => s + f(x), 0)
const wallFirst = firstScreen('index.html')
out({
  bundle: 'field app /m/',
  jsFiles: scripts.length,
  jsRawKB: +(sum(scripts, raw) / 1024).toFixed(1),
  jsGzipKB: +(sum(scripts, gz) / 1024).toFixed(1),
  firstScreenGzipKB: +(sum(firstScreen('m/index.html'), gz) / 1024).toFixed(1),
  serviceWorkerGzipKB: +(gz('m/sw.js') / 1024).toFixed(1),
  groups: Object.fromEntries([...groups].map(([k, v]) => [k, { gzipKB: +(v.gz / 1024).toFixed(1), rawKB: +(v.raw / 1024).toFixed(1), files: v.files.length }])),
})
out({ bundle: 'wall /', firstScreenGzipKB: +(sum(wallFirst, gz) / 1024).toFixed(1), note: 'entry + modulepreloads of web/index.html (its lazy chunks load after)' })

// ---- 2. time to a usable screen -------------------------------------------------------------------------------
const dataDir = mkdtempSync(join(tmpdir(), 'gc-field-budget-'))
const db = await openDb({ databaseUrl: undefined, dataDir })
await migrate(db)
await syncReferenceData(db)
await seedDemoRegions(db)
await seedDemoUsers(db)
const app = await buildApp({ db, webDist: DIST, auth: { mode: 'token' }, demoAccounts: true })
await app.listen({ port: 0, host: '127.0.0.1' })
const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking'],
})

async function refreshToken(user: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password: DEMO_PASSWORD }) })
  return (await res.json()).refreshToken
}

/** A context signed in as `user` (refresh token in storage, put there before throttling starts). */
async function signedIn(user: string, phone: boolean): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext(phone ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, geolocation: { longitude: 119.65, latitude: 29.08 }, permissions: ['geolocation'] } : { viewport: { width: 1920, height: 1080 } })
  const page = await ctx.newPage()
  await page.goto(`${url}/api/health`)
  await page.evaluate(([k, v]) => localStorage.setItem(k, v), ['gridcommand.refreshToken', await refreshToken(user)])
  return { ctx, page }
}

async function throttle(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 })
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 })
}

/** ms from navigation start to `ready` on screen. */
async function timeTo(page: Page, path: string, ready: string): Promise<number> {
  await page.goto(`${url}${path}`, { waitUntil: 'commit' })
  await page.waitForSelector(ready, { timeout: 180_000 })
  return page.evaluate(() => performance.now())
}

const FORM = '[data-testid="report-submit"]:visible >> nth=0'
const FORM_READY = `[data-testid="report-view"] [data-family]`
const WALL_READY = '[data-testid="open-count"]'
const rows: Array<Record<string, number>> = []
for (let round = 1; round <= ROUNDS; round++) {
  const load = loadavg()[0]
  const field = await signedIn('resident-zhang', true)
  await throttle(field.page)
  const fieldCold = await timeTo(field.page, '/m/report', FORM_READY)
  await field.page.waitForSelector(FORM)
  await field.page.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, { timeout: 180_000 })
  // The worker caches every precached file before it takes over; give it the time it needs on this link.
  await field.page.evaluate(() => navigator.serviceWorker.ready)
  const fieldWarm = await timeTo(field.page, '/m/report', FORM_READY)
  await field.ctx.close()

  const wall = await signedIn('commander', false)
  await throttle(wall.page)
  const wallCold = await timeTo(wall.page, '/', WALL_READY)
  const wallWarm = await timeTo(wall.page, '/', WALL_READY)
  await wall.ctx.close()
  const row = { round, fieldColdMs: Math.round(fieldCold), fieldWarmMs: Math.round(fieldWarm), wallColdMs: Math.round(wallCold), wallWarmMs: Math.round(wallWarm), loadavg1: +load.toFixed(2) }
  rows.push(row)
  out(row)
  log(row)
}
const median = (k: string) => {
  const v = rows.map((r) => r[k]).sort((a, b) => a - b)
  return v[Math.floor(v.length / 2)]
}
out({ median: { fieldColdMs: median('fieldColdMs'), fieldWarmMs: median('fieldWarmMs'), wallColdMs: median('wallColdMs'), wallWarmMs: median('wallWarmMs') }, profile: 'slow 4G (150 ms, 1.6 Mbit/s, 750 kbit/s), CPU 4x' })

await browser.close()
await app.close()
await db.close()
rmSync(dataDir, { recursive: true, force: true })
