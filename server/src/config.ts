import { resolve } from 'node:path'

/** Everything the server reads from the environment, in one place (documented in README.md). */
export interface Config {
  port: number
  host: string
  /** Set → real PostgreSQL + PostGIS through `pg`; unset → embedded PGlite + PostGIS under dataDir. */
  databaseUrl: string | undefined
  dataDir: string
  /** Live demo feed (server/src/simulator): cases arrive and run the whole loop. */
  simulate: boolean
  /** Arrival multiplier: 1 ≈ 6 cases a minute at the daytime peak; 100 for load tests. */
  simRate: number
  /** How often the escalation scheduler looks for cases past their limit. */
  schedulerIntervalMs: number
  /** Built web app served at /. */
  webDist: string
  logLevel: string
  /** HS256 key for access tokens (≥ 32 bytes); unset → generated once into ${dataDir}/jwt-secret (mode 0600). */
  jwtSecret: string | undefined
  /**
   * `token` (default): Bearer tokens only; anonymous calls to case, worker, camera and stats data get 401.
   * `dev-header`: callers without a token are served unscoped and may name themselves in X-Actor (a stand-in for
   * local tools, not security). buildApp on its own defaults to dev-header (the test suites); the server process
   * started by main.ts reads this.
   */
  authMode: 'token' | 'dev-header'
  /** Demo users for every role (README "Demo users"), one shared demo password; SEED_DEMO_USERS=0 in production. */
  seedDemoUsers: boolean
  /** Set → Socket.IO Redis Streams adapter + shared sign-in rate limit (several processes); never event delivery. */
  redisUrl: string | undefined
  /** Prefix of this deployment's Redis keys and channels (REDIS_PREFIX, default `gc:`). */
  redisPrefix: string
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (per-address sign-in limits, logs): false
   * (default: the socket's address), true (any), a number of hops, or a list of addresses/CIDRs. Fastify's trustProxy.
   */
  trustProxy: boolean | number | string
  /**
   * The general API rate limit per signed-in user (else per client address): RATE_LIMIT_MAX requests (default 1200)
   * per RATE_LIMIT_WINDOW_S seconds (default 60); RATE_LIMIT_MAX=0 turns it off. Shared through Redis with REDIS_URL.
   */
  rateLimit: { max: number; windowSeconds: number } | false
}

function intFrom(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`)
  return n
}

function positiveFrom(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${value}"`)
  return n
}

function authModeFrom(value: string | undefined): Config['authMode'] {
  if (value === undefined || value === '') return 'token'
  if (value === 'token' || value === 'dev-header') return value
  throw new Error(`AUTH_MODE must be token or dev-header, got "${value}"`)
}

function trustProxyFrom(value: string | undefined): Config['trustProxy'] {
  if (value === undefined || value === '') return false
  const v = value.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(v)) return v === '1' ? 1 : true
  if (['0', 'false', 'no', 'off'].includes(v)) return false
  if (/^\d+$/.test(v)) return Number(v)
  const parts = v.split(',').map((p) => p.trim())
  if (parts.every((p) => /^[0-9a-f:.]+(\/\d{1,3})?$/.test(p) || ['loopback', 'linklocal', 'uniquelocal'].includes(p))) return parts.join(',')
  throw new Error(`TRUST_PROXY must be true, false, a number of hops or a comma-separated list of addresses/CIDRs, got "${value}"`)
}

function rateLimitFrom(env: NodeJS.ProcessEnv): Config['rateLimit'] {
  const max = intFrom('RATE_LIMIT_MAX', env.RATE_LIMIT_MAX, 1200)
  const windowSeconds = intFrom('RATE_LIMIT_WINDOW_S', env.RATE_LIMIT_WINDOW_S, 60)
  if (max === 0) return false
  if (windowSeconds === 0) throw new Error('RATE_LIMIT_WINDOW_S must be at least 1')
  return { max, windowSeconds }
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
    simRate: positiveFrom('SIM_RATE', env.SIM_RATE, 1),
    schedulerIntervalMs: intFrom('SCHEDULER_INTERVAL_MS', env.SCHEDULER_INTERVAL_MS, 15_000),
    webDist: resolve(env.WEB_DIST || 'web/dist'),
    logLevel: env.LOG_LEVEL || 'info',
    jwtSecret: env.JWT_SECRET || undefined,
    authMode: authModeFrom(env.AUTH_MODE),
    seedDemoUsers: boolFrom(env.SEED_DEMO_USERS, true),
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.REDIS_PREFIX || 'gc:',
    trustProxy: trustProxyFrom(env.TRUST_PROXY),
    rateLimit: rateLimitFrom(env),
  }
}
