import { resolve } from 'node:path'

/** Everything the server reads from the environment, in one place (documented in README.md). */
export interface Config {
  port: number
  host: string
  /** Set → real PostgreSQL + PostGIS through `pg`; unset → embedded PGlite + PostGIS under dataDir. */
  databaseUrl: string | undefined
  dataDir: string
  /** Live demo feed: reports a case every `simulateIntervalMs` at a random point inside a random grid. */
  simulate: boolean
  simulateIntervalMs: number
  /** Built web app served at /. */
  webDist: string
  logLevel: string
}

function intFrom(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`)
  return n
}

function boolFrom(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback
  return !['0', 'false', 'no', 'off'].includes(value.toLowerCase())
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: intFrom('PORT', env.PORT, 8080),
    host: env.HOST || '0.0.0.0',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: resolve(env.DATA_DIR || '.data'),
    simulate: boolFrom(env.SIMULATE, true),
    simulateIntervalMs: intFrom('SIMULATE_INTERVAL_MS', env.SIMULATE_INTERVAL_MS, 4000),
    webDist: resolve(env.WEB_DIST || 'web/dist'),
    logLevel: env.LOG_LEVEL || 'info',
  }
}
