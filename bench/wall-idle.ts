/**
 * What a still wall costs in Chromium: CPU of all Chromium's processes (from /proc: the page's renderer, the GPU
 * process, the browser), and the page's main-thread busy time and script time (DevTools protocol,
 * Performance.getMetrics), per second of the real wall page (`/?tour=0`, every panel, the demo region, no events).
 *   paused   as shipped: deck.gl's frame loop rests while it has nothing to draw (web/src/map/deck-idle.ts);
 *   running  the same page after `wallMap.idle.destroy()` with the loop awake: deck.gl's loop asks for a frame 60 times
 *            a second, as before deck-idle.ts (the baseline, same page, same run).
 * Phases alternate (paused, running, paused, running), BENCH_SECONDS each (10). Software WebGL here (SwiftShader):
 * compare the two rows of one run.
 *
 *   node --import tsx bench/wall-idle.ts
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { buildApp } from '../server/src/app.ts'
import { migrate } from '../server/src/db/migrate.ts'
import { openDb } from '../server/src/db/open-db.ts'
import { syncReferenceData } from '../server/src/db/reference.ts'
import { seedDemoRegions } from '../server/src/db/seed.ts'
import { ensureWebBuild } from '../scripts/web-build.ts'
import { CHROMIUM } from '../web/e2e/browser.ts'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ROOT = new URL('..', import.meta.url).pathname
const dataDir = mkdtempSync(join(tmpdir(), 'gc-wall-idle-'))
const log = (...a: unknown[]) => console.error('[bench]', ...a)

await ensureWebBuild(log)
const db = await openDb({ databaseUrl: undefined, dataDir })
await migrate(db)
await syncReferenceData(db)
await seedDemoRegions(db)
const app = await buildApp({ db, webDist: join(ROOT, 'web/dist') })
await app.listen({ port: 0, host: '127.0.0.1' })
const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'] })
const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } })
const cdp = await page.context().newCDPSession(page)
await cdp.send('Performance.enable')
await page.goto(`${url}/?tour=0`)
await page.waitForSelector('[data-testid="map"][data-map-ready="true"]', { timeout: 120_000 })
await page.waitForSelector('[data-testid="connection"][data-state="online"]', { timeout: 60_000 })
// Let the first loads and the map's own first frames settle.
await page.waitForFunction(() => (window as any).__gridcommand.wallMap?.idle.paused === true, undefined, { timeout: 60_000 })
await page.waitForTimeout(3000)

async function metrics(): Promise<Record<string, number>> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> }
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]))
}
/** CPU seconds (user + system) of every Chromium process (renderer, GPU process with SwiftShader, browser…). */
function chromiumCpuSeconds(): number {
  let sum = 0
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      if (!stat.includes('(chromium)')) continue
      const f = stat.split(') ')[1].split(' ')
      sum += (Number(f[11]) + Number(f[12])) / 100
    } catch {
      // gone meanwhile
    }
  }
  return sum
}
async function phase(): Promise<{ busy: number; script: number; draws: number; chromium: number }> {
  const draws0 = await page.evaluate(() => (window as any).__gridcommand.wallMap.idle.draws as number)
  const a = await metrics()
  const c0 = chromiumCpuSeconds()
  await page.waitForTimeout(SECONDS * 1000)
  const b = await metrics()
  const c1 = chromiumCpuSeconds()
  const draws1 = await page.evaluate(() => (window as any).__gridcommand.wallMap.idle.draws as number)
  const span = b.Timestamp - a.Timestamp
  return { busy: (b.TaskDuration - a.TaskDuration) / span, script: (b.ScriptDuration - a.ScriptDuration) / span, draws: (draws1 - draws0) / span, chromium: (c1 - c0) / span }
}
/** Runs deck's loop without pausing it (the helper gone, the loop started). */
const keepRunning = () => page.evaluate(() => {
  const idle = (window as any).__gridcommand.wallMap.idle
  idle.wake()
  idle.destroy()
})

const rows: Record<string, unknown> = {}
const show = (p: { busy: number; script: number; draws: number; chromium: number }) => ({
  'Chromium, all processes, % of a core': (p.chromium * 100).toFixed(1),
  'page main thread busy, % of a core': (p.busy * 100).toFixed(1),
  'script, % of a core': (p.script * 100).toFixed(1),
  'deck draws/s': p.draws.toFixed(1),
})
rows['paused (as shipped) #1'] = show(await phase())
await keepRunning()
await page.waitForTimeout(1000)
rows['running (before) #1'] = show(await phase())
// Back to the shipped behaviour: a fresh page.
await page.reload()
await page.waitForSelector('[data-testid="map"][data-map-ready="true"]', { timeout: 120_000 })
await page.waitForFunction(() => (window as any).__gridcommand.wallMap?.idle.paused === true, undefined, { timeout: 60_000 })
await page.waitForTimeout(3000)
rows['paused (as shipped) #2'] = show(await phase())
await keepRunning()
await page.waitForTimeout(1000)
rows['running (before) #2'] = show(await phase())
console.log(`still wall page, 1920×1080, Chromium ${browser.version()} (SwiftShader), ${SECONDS} s a phase`)
console.table(rows)

await browser.close()
await app.close()
await db.close()
rmSync(dataDir, { recursive: true, force: true })
