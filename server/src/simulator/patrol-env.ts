/** The patrol's settings from the environment (PATROL, PATROL_GRIDS, PATROL_REGIONS, PATROL_INTERVAL_S, PATROL_*_SHARE). */
import type { Db } from '../db/types.ts'
import { PATROL_DEFAULTS } from './patrol-model.ts'
import { startPatrol, type Patrol, type PatrolOptions } from './patrol.ts'

function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, check: (n: number) => boolean, what: string): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || !check(n)) throw new Error(`${name} must be ${what}, got "${raw}"`)
  return n
}

/** The patrol options read from the environment; null when PATROL is off. */
export function patrolOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Omit<PatrolOptions, 'log'> | null {
  if (['0', 'false', 'no', 'off'].includes((env.PATROL ?? '').toLowerCase())) return null
  const g = env.PATROL_GRIDS
  const grids = g === undefined || g === '' ? 60 : g === 'all' ? 'all' : numberFrom(env, 'PATROL_GRIDS', 60, (n) => Number.isInteger(n) && n >= 0, "a whole number or 'all'")
  const within = env.PATROL_REGIONS ? env.PATROL_REGIONS.split(',').map((s) => s.trim()).filter(Boolean) : undefined
  const share = (n: number) => n >= 0 && n <= 1
  return {
    grids,
    within,
    reportEveryMs: numberFrom(env, 'PATROL_INTERVAL_S', 10, (n) => n > 0, 'a positive number of seconds') * 1000,
    dayShare: numberFrom(env, 'PATROL_DAY_SHARE', PATROL_DEFAULTS.dayShare, share, 'between 0 and 1'),
    nightShare: numberFrom(env, 'PATROL_NIGHT_SHARE', PATROL_DEFAULTS.nightShare, share, 'between 0 and 1'),
  }
}

/** The patrol as main.ts starts it (with the simulator): from the environment, undefined when PATROL=0. */
export async function startPatrolFromEnv(db: Db, log: PatrolOptions['log'], env: NodeJS.ProcessEnv = process.env): Promise<Patrol | undefined> {
  const opts = patrolOptionsFromEnv(env)
  return opts ? startPatrol(db, { ...opts, log }) : undefined
}
