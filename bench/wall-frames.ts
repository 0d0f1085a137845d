/**
 * The wall under load, in Chromium (software WebGL here: compare the two pages of one run, not absolute figures).
 *
 *   node --import tsx bench/wall-frames.ts                    # embedded PostGIS in a temp dir; 2 min heap soak
 *   BENCH_MINUTES=60 node --import tsx bench/wall-frames.ts   # the hour-long heap run
 *   BENCH_SECONDS=10 BENCH_WIDTH=1280 BENCH_HEIGHT=720 BENCH_RATE=200 …
 *
 * Both pages get the same data: the demo region's grids and micro-grid tiles (from the server), 100,000 heat points
 * and 3,000 workers (generated in the page), and the same event stream: BENCH_RATE events a second, four in five a
 * `workers:moved` of 20 workers, one in five a case update (a bounded set of 2,000 cases, versions rising).
 *   wall  the real page (`/?tour=0`): every panel, the stores, the wall's layers; data put into its stores, events
 *         applied through the same store actions realtime/socket.ts calls;
 *   bare  bench/wall-bare: MapLibre + one deck.gl overlay with plain layers, no Vue, no panels.
 * Frame times: requestAnimationFrame deltas over BENCH_SECONDS while panning (panBy every frame), and while panning
 * with the events arriving. Heap: the wall page alone under the event stream for BENCH_MINUTES, JS heap after a
 * forced GC sampled every 15 s; the first and last samples and the slope are printed.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'vite'
import { chromium, type Page } from 'playwright-core'
import { migrate } from '../server/src/db/migrate.ts'
import { openDb } from '../server/src/db/open-db.ts'
import { syncReferenceData } from '../server/src/db/reference.ts'
import { seedDemoRegions } from '../server/src/db/seed.ts'
import { ensureWebBuild } from '../scripts/web-build.ts'
import { startServer } from '../test/support/server.ts'
import { CHROMIUM } from '../web/e2e/browser.ts'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const MINUTES = Number(process.env.BENCH_MINUTES ?? 2)
const RATE = Number(process.env.BENCH_RATE ?? 200)
const WIDTH = Number(process.env.BENCH_WIDTH ?? 1280)
const HEIGHT = Number(process.env.BENCH_HEIGHT ?? 720)
const ROOT = new URL('..', import.meta.url).pathname

const tmp = mkdtempSync(join(tmpdir(), 'gc-wall-bench-'))
const log = (...a: unknown[]) => console.error('[bench]', ...a)

/** Installed in both pages: synthetic data and the event pump, calling `sink` (page-specific) for each event. */
const PAGE_LIB = `
window.__bench = (() => {
  let seed = 7
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647)
  const bbox = [119.45, 28.95, 119.9, 29.25]
  const pt = () => [bbox[0] + rnd() * (bbox[2] - bbox[0]), bbox[1] + rnd() * (bbox[3] - bbox[1])]
  const heat = Array.from({ length: 100000 }, pt)
  const workers = Array.from({ length: 3000 }, (_, i) => { const [lon, lat] = pt(); return { id: 'BW' + i, lon, lat } })
  let timer = 0, frames = [], recording = false, panning = 0, dir = 1, n = 0
  function tick(t) {
    if (recording) frames.push(t)
    if (panning) { const m = window.__benchMap(); m.panBy([4 * dir, 2 * dir], { duration: 0 }); if (++n % 240 === 0) dir = -dir }
    requestAnimationFrame(tick)
  }
  requestAnimationFrame(tick)
  return {
    heat, workers,
    startEvents(rate, sink) {
      const perTick = rate / 20
      let k = 0
      timer = setInterval(() => { for (let i = 0; i < perTick; i++, k++) sink(k, rnd) }, 50)
    },
    stopEvents() { clearInterval(timer) },
    async record(ms, pan) {
      frames = []; panning = pan ? 1 : 0; recording = true
      await new Promise((r) => setTimeout(r, ms))
      recording = false; panning = 0
      const d = []
      for (let i = 1; i < frames.length; i++) d.push(frames[i] - frames[i - 1])
      d.sort((a, b) => a - b)
      const q = (p) => d[Math.min(d.length - 1, Math.floor(p * d.length))] ?? NaN
      return { frames: d.length, mean: d.reduce((s, x) => s + x, 0) / Math.max(1, d.length), p50: q(0.5), p95: q(0.95), max: d.at(-1) ?? NaN }
    },
  }
})()`

/** The wall: data into its stores, events through the store actions the socket handlers call. */
async function prepareWall(page: Page): Promise<void> {
  await page.evaluate(PAGE_LIB)
  await page.evaluate(() => {
    const w = window as any
    const pinia = w.__gridcommand.pinia
    const stats = pinia._s.get('stats')
    const resources = pinia._s.get('resources')
    const cases = pinia._s.get('cases')
    const wall = pinia._s.get('wall')
    stats.stop() // no refresh replaces the bench's heat points
    w.__benchMap = () => w.__gridcommand.map
    const b = w.__bench
    stats.heat = { window: 'today', region: null, from: '', to: '', count: b.heat.length, truncated: false, points: b.heat }
    const m = new Map()
    for (const x of b.workers) m.set(x.id, { id: x.id, name: x.id, status: 'on_duty', lon: x.lon, lat: x.lat })
    resources.workers = m
    resources.workerRevision++
    const versions = new Map()
    const grid = pinia.state.value.regions.grids.features[0].properties
    w.__benchSink = (k: number, rnd: () => number) => {
      wall.noteEvent()
      if (k % 5 !== 4) {
        const moves = []
        for (let i = 0; i < 20; i++) {
          const x = b.workers[Math.floor(rnd() * b.workers.length)]
          x.lon += (rnd() - 0.5) * 0.0005
          x.lat += (rnd() - 0.5) * 0.0005
          moves.push([x.id, x.lon, x.lat, Date.now(), 'on_duty', null])
        }
        resources.moveWorkers(moves)
      } else {
        const id = `00000000-0000-4000-8000-${String(k % 2000).padStart(12, '0')}`
        const v = (versions.get(id) ?? 0) + 1
        versions.set(id, v)
        const [lon, lat] = b.heat[k % b.heat.length]
        cases.upsert({
          id, code: `BENCH${k % 2000}`, status: ['reported', 'registered', 'dispatched', 'in_progress'][v % 4], category: 'sanitation.garbage', priority: 'normal',
          source: 'grid_worker', description: 'bench', address: null, lon, lat,
          regions: [{ id: grid.id.slice(0, 6), name: 'd', level: 1 }, { id: grid.id.slice(0, 9), name: 's', level: 2 }, { id: grid.id, name: grid.name, level: 4 }],
          owningLevel: 4, department: null, assigneeId: null, reporter: null, reportedAt: new Date().toISOString(), updatedAt: new Date().toISOString(),
          dueAt: null, timeLeftSeconds: null, overdue: v % 7 === 0, escalations: 0, stages: {}, version: v,
        })
      }
    }
  })
}

async function prepareBare(page: Page): Promise<void> {
  await page.evaluate(PAGE_LIB)
  await page.evaluate(() => {
    const w = window as any
    const b = w.__bench
    w.__benchMap = () => w.__bare.map
    w.__bare.setData({ heat: b.heat, workers: b.workers })
    w.__benchSink = (k: number, rnd: () => number) => {
      if (k % 5 !== 4) {
        const moves: Array<[number, number, number]> = []
        for (let i = 0; i < 20; i++) {
          const j = Math.floor(rnd() * b.workers.length)
          const x = b.workers[j]
          moves.push([j, x.lon + (rnd() - 0.5) * 0.0005, x.lat + (rnd() - 0.5) * 0.0005])
        }
        w.__bare.moveWorkers(moves)
      } else {
        const [lon, lat] = b.heat[k % b.heat.length]
        w.__bare.addCase(lon, lat)
      }
    }
  })
}

interface FrameStats {
  frames: number
  mean: number
  p50: number
  p95: number
  max: number
}

async function measure(page: Page): Promise<{ pan: FrameStats; panEvents: FrameStats }> {
  await page.waitForTimeout(3000)
  const pan = (await page.evaluate((ms) => (window as any).__bench.record(ms, true), SECONDS * 1000)) as FrameStats
  await page.evaluate((rate) => (window as any).__bench.startEvents(rate, (window as any).__benchSink), RATE)
  const panEvents = (await page.evaluate((ms) => (window as any).__bench.record(ms, true), SECONDS * 1000)) as FrameStats
  await page.evaluate(() => (window as any).__bench.stopEvents())
  return { pan, panEvents }
}

async function main(): Promise<void> {
  log('preparing the database (embedded PostGIS) and the builds…')
  const db = await openDb({ dataDir: join(tmp, 'db') } as never)
  await migrate(db)
  await syncReferenceData(db)
  await seedDemoRegions(db)
  await ensureWebBuild((m) => log(m))
  const dist = join(tmp, 'dist')
  cpSync(join(ROOT, 'web/dist'), dist, { recursive: true })
  await build({ root: join(ROOT, 'bench/wall-bare'), base: '/bare/', logLevel: 'warn', build: { outDir: join(dist, 'bare'), emptyOutDir: true } })
  const { app, url } = await startServer({ db, webDist: dist })
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-precise-memory-info', '--js-flags=--expose-gc'],
  })
  try {
    const ctx = await browser.newContext({ viewport: { width: WIDTH, height: HEIGHT } })
    // Same view for both: z12 over the city centre, where the micro-grid tiles draw.
    const view = { center: [119.65, 29.08], zoom: 12 }

    const bare = await ctx.newPage()
    await bare.goto(`${url}/bare/index.html`)
    await bare.waitForFunction(() => (window as any).__bare?.ready, undefined, { timeout: 120_000 })
    await bare.evaluate((v) => (window as any).__bare.map.jumpTo(v), view)
    await prepareBare(bare)
    log('bare page…')
    const bareStats = await measure(bare)
    const bareMicro = await bare.evaluate(() => (window as any).__bare.map.querySourceFeatures('micro', { sourceLayer: 'microgrids' }).length)
    await bare.close()

    const wall = await ctx.newPage()
    await wall.goto(`${url}/?tour=0`)
    await wall.waitForSelector('[data-testid="map"][data-map-ready="true"]', { timeout: 120_000 })
    await wall.waitForFunction(() => (window as any).__gridcommand.pinia.state.value.regions.grids, undefined, { timeout: 60_000 })
    await wall.evaluate((v) => (window as any).__gridcommand.map.jumpTo(v), view)
    await prepareWall(wall)
    log('wall page…')
    const wallStats = await measure(wall)
    const wallMicro = await wall.evaluate(() => (window as any).__gridcommand.map.querySourceFeatures('gc-microgrids', { sourceLayer: 'microgrids' }).length)

    const row = (name: string, s: FrameStats) =>
      `| ${name} | ${s.frames} | ${s.mean.toFixed(1)} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.max.toFixed(0)} |`
    console.log(`\nFrame times (ms), ${WIDTH}×${HEIGHT}, ${SECONDS} s each, SwiftShader; micro-grid features in view: wall ${wallMicro}, bare ${bareMicro}`)
    console.log('| page / load | frames | mean | p50 | p95 | max |\n|---|---|---|---|---|---|')
    console.log(row('bare, panning', bareStats.pan))
    console.log(row('wall, panning', wallStats.pan))
    console.log(row(`bare, panning + ${RATE} events/s`, bareStats.panEvents))
    console.log(row(`wall, panning + ${RATE} events/s`, wallStats.panEvents))
    console.log(`ratio wall/bare (mean frame time): panning ${(wallStats.pan.mean / bareStats.pan.mean).toFixed(2)}, panning + events ${(wallStats.panEvents.mean / bareStats.panEvents.mean).toFixed(2)}`)

    // Heap soak: the wall alone, events only.
    log(`heap soak: ${MINUTES} min at ${RATE} events/s…`)
    const cdp = await ctx.newCDPSession(wall)
    await wall.evaluate((rate) => (window as any).__bench.startEvents(rate, (window as any).__benchSink), RATE)
    const samples: Array<{ t: number; mb: number }> = []
    const t0 = Date.now()
    while (Date.now() - t0 < MINUTES * 60_000) {
      await wall.waitForTimeout(15_000)
      await cdp.send('HeapProfiler.collectGarbage')
      const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }
      samples.push({ t: (Date.now() - t0) / 60_000, mb: usedSize / 1048576 })
      log(`  ${samples.at(-1)!.t.toFixed(1)} min: ${samples.at(-1)!.mb.toFixed(1)} MB`)
    }
    await wall.evaluate(() => (window as any).__bench.stopEvents())
    const flushes = await wall.evaluate(() => (window as any).__gridcommand.wallMap?.flushes ?? 0)
    const n = samples.length
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length
    const ty = samples.map((s) => s.mb)
    /** Least-squares MB per minute over these samples. */
    const slopeOf = (ps: typeof samples) => {
      if (ps.length < 2) return 0
      const mt = mean(ps.map((p) => p.t))
      const mm = mean(ps.map((p) => p.mb))
      return ps.reduce((s, p) => s + (p.t - mt) * (p.mb - mm), 0) / ps.reduce((s, p) => s + (p.t - mt) ** 2, 0)
    }
    const slope = slopeOf(samples)
    const half = Math.max(1, Math.floor(n / 2))
    console.log(`\nJS heap after GC, wall, ${MINUTES} min at ${RATE} events/s (${Math.round(RATE * MINUTES * 60)} events; ${flushes} layer rebuilds):`)
    console.log(`first ${samples[0]?.mb.toFixed(1)} MB, last ${samples.at(-1)?.mb.toFixed(1)} MB, min ${Math.min(...ty).toFixed(1)}, max ${Math.max(...ty).toFixed(1)}; ` +
      `mean of first half ${mean(ty.slice(0, half)).toFixed(1)} MB vs second half ${mean(ty.slice(half)).toFixed(1)} MB; slope ${slope.toFixed(2)} MB/min ` +
      `(second half alone ${slopeOf(samples.slice(half)).toFixed(2)} MB/min)`)
  } finally {
    await browser.close()
    await app.close()
    await (db as { close?: () => Promise<void> }).close?.()
    rmSync(tmp, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
