import { buildApp } from './app.ts'
import { loadConfig } from './config.ts'
import { migrate } from './db/migrate.ts'
import { openDb } from './db/open-db.ts'
import { seedDemoRegions } from './db/seed.ts'
import { startSimulator } from './simulator/simulator.ts'

/** Starts ONE server process: database, migrations, demo data, HTTP + Socket.IO, simulator. */
export async function main(): Promise<void> {
  const config = loadConfig()
  const t0 = Date.now()
  const db = await openDb(config)
  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PostGIS in ${config.dataDir}`
  console.log(`[gridcommand] database: ${where}`)
  const applied = await migrate(db)
  if (applied.length) console.log(`[gridcommand] applied migrations: ${applied.join(', ')}`)
  const seed = await seedDemoRegions(db)
  if (seed.seeded) {
    if (seed.replacedFoundationSlice) console.log('[gridcommand] replaced the Foundation demo slice (and its simulated cases) with the full demo region')
    const c = seed.counts
    console.log(`[gridcommand] loaded demo region 金华市婺城区+金东区: ${c[1]} districts, ${c[2]} streets/towns, ${c[3]} communities/villages, ${c[4]} grids, ${c[5]} micro-grids, ${seed.workers} staff, ${seed.cameras} cameras`)
  }

  const app = await buildApp({ db, webDist: config.webDist, logger: { level: config.logLevel } })
  await app.listen({ port: config.port, host: config.host })
  const sim = config.simulate ? startSimulator(db, config.simulateIntervalMs, app.log) : undefined
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
  console.log(`[gridcommand] ready in ${((Date.now() - t0) / 1000).toFixed(1)} s at http://${shownHost}:${config.port}${sim ? ' (simulator on: SIMULATE=0 turns it off)' : ''}`)

  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return process.exit(1) // a second Ctrl-C forces it
    closing = true
    console.log(`[gridcommand] ${signal}: shutting down`)
    sim?.stop()
    await app.close()
    await db.close()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

main().catch((err) => {
  console.error(`[gridcommand] failed to start: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
