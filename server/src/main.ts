import { pruneUnattachedPhotos, UNATTACHED_PHOTO_HOURS } from './services/photos.ts'
import { join } from 'node:path'
import { buildApp } from './app.ts'
import { loadJwtSecret } from './auth/tokens.ts'
import { loadConfig } from './config.ts'
import { migrate } from './db/migrate.ts'
import { openDb } from './db/open-db.ts'
import { createPgDb } from './db/pg-db.ts'
import { syncReferenceData } from './db/reference.ts'
import { seedDemoRegions } from './db/seed.ts'
import { seedDemoUsers } from './db/seed-users.ts'
import { startPlannerStats } from './db/statistics.ts'
import { connectRedis } from './realtime/redis.ts'
import { retentionFromEnv } from './realtime/retention.ts'
import { startScheduler } from './services/escalation.ts'
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
  await syncReferenceData(db)
  const seed = await seedDemoRegions(db)
  if (seed.seeded) {
    if (seed.replacedFoundationSlice) console.log('[gridcommand] replaced the Foundation demo slice (and its simulated cases) with the full demo region')
    const c = seed.counts
    console.log(`[gridcommand] loaded demo region 金华市婺城区+金东区: ${c[1]} districts, ${c[2]} streets/towns, ${c[3]} communities/villages, ${c[4]} grids, ${c[5]} micro-grids, ${seed.workers} staff, ${seed.cameras} cameras`)
  }

  if (config.seedDemoUsers) {
    const users = await seedDemoUsers(db)
    if (users.created.length) console.log(`[gridcommand] created demo users (README "Demo users"; SEED_DEMO_USERS=0 in production): ${users.created.join(', ')}`)
  }
  const auth = { secret: loadJwtSecret({ secret: config.jwtSecret, dataDir: config.dataDir }), mode: config.authMode }
  if (auth.mode === 'dev-header') console.log('[gridcommand] AUTH_MODE=dev-header: callers without a token are served unscoped and X-Actor is trusted (never in production)')

  const realtimeDb = config.databaseUrl ? createPgDb(config.databaseUrl) : undefined
  // Several processes: Redis for the Socket.IO adapter and the sign-in rate limit; events still come from the log.
  const redis = config.redisUrl ? connectRedis(config.redisUrl, config.redisPrefix) : undefined
  if (redis) console.log('[gridcommand] REDIS_URL: Socket.IO Redis Streams adapter and shared sign-in rate limit')
  const app = await buildApp({
    db,
    auth,
    trustProxy: config.trustProxy,
    rateLimit: config.rateLimit,
    demoAccounts: config.seedDemoUsers,
    webDist: config.webDist,
    logger: { level: config.logLevel },
    uploadsDir: join(config.dataDir, 'uploads'),
    // Event log retention: EVENTS_KEEP_DAYS (7), EVENTS_KEEP_ROWS (1,000,000), EVENTS_PRUNE_INTERVAL_S (600).
    // On PostgreSQL the relay reads the log through a pool of its own: delivery never waits behind the writes.
    realtime: { retention: retentionFromEnv(), db: realtimeDb },
    redis,
  })
  await app.listen({ port: config.port, host: config.host })
  const scheduler = startScheduler(db, {
    intervalMs: config.schedulerIntervalMs,
    onError: (err) => app.log.error(err, 'escalation pass failed'),
    onPass: (r) => r.escalated + r.flagged > 0 && app.log.info(`escalation pass: ${r.escalated} escalated, ${r.flagged} overdue at the top level`),
  })
  // Planner statistics where autovacuum does not keep them (the embedded database; PostgreSQL with autovacuum off).
  const plannerStats = await startPlannerStats(db, { onError: (err) => app.log.error(err, 'ANALYZE of grown tables failed') })
  // Photos uploaded but never named by a report are removed after a day (services/photos.ts), hourly.
  const uploadsDir = join(config.dataDir, 'uploads')
  const prunePhotos = () =>
    void pruneUnattachedPhotos(db, uploadsDir, new Date()).then(
      (n) => n > 0 && app.log.info(`removed ${n} photos never attached to a report within ${UNATTACHED_PHOTO_HOURS} h`),
      (err) => app.log.error(err, 'photo pruning failed'),
    )
  prunePhotos()
  const photoJanitor = setInterval(prunePhotos, 3600_000)
  photoJanitor.unref()
  const sim = config.simulate ? startSimulator(db, { rate: config.simRate, log: app.log }) : undefined
  const patrol = config.simulate ? await (await import('./simulator/patrol-env.ts')).startPatrolFromEnv(db, app.log) : undefined
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
  console.log(`[gridcommand] ready in ${((Date.now() - t0) / 1000).toFixed(1)} s at http://${shownHost}:${config.port}${sim ? ' (simulator on: SIMULATE=0 turns it off)' : ''}`)

  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return process.exit(1) // a second Ctrl-C forces it
    closing = true
    console.log(`[gridcommand] ${signal}: shutting down`)
    await sim?.stop()
    await patrol?.stop()
    await scheduler.stop()
    await plannerStats?.stop()
    clearInterval(photoJanitor)
    await app.close()
    await realtimeDb?.close()
    await redis?.client.quit().catch(() => {})
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
