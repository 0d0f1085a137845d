import type { Db } from '../db/types.ts'
import { pruneEvents, type RetentionPolicy } from '../repos/events.ts'

/**
 * Retention of the event log: a periodic job in every process (one pass at a time across processes, by an advisory
 * lock) deletes events older than `keepDays` or beyond the newest `keepRows`, whichever lets more go. A client that
 * comes back from further away is told to reload a snapshot (`reset`), never silently short of events.
 */
export interface RetentionOptions extends RetentionPolicy {
  /** Time between passes; the first pass runs one interval after start. */
  intervalMs: number
}

export const DEFAULT_RETENTION: RetentionOptions = { keepDays: 7, keepRows: 1_000_000, intervalMs: 10 * 60_000 }

/** EVENTS_KEEP_DAYS, EVENTS_KEEP_ROWS (0: no limit of that kind), EVENTS_PRUNE_INTERVAL_S. */
export function retentionFromEnv(env: NodeJS.ProcessEnv = process.env): RetentionOptions {
  const num = (name: string, fallback: number, min: number): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    const v = Number(raw)
    if (!Number.isFinite(v) || v < min) throw new Error(`${name} must be a number >= ${min}, got ${JSON.stringify(raw)}`)
    return v
  }
  return {
    keepDays: num('EVENTS_KEEP_DAYS', DEFAULT_RETENTION.keepDays, 0),
    keepRows: Math.floor(num('EVENTS_KEEP_ROWS', DEFAULT_RETENTION.keepRows, 0)),
    intervalMs: num('EVENTS_PRUNE_INTERVAL_S', DEFAULT_RETENTION.intervalMs / 1000, 1) * 1000,
  }
}

export interface RetentionJob {
  /** One pass now (tests, admin). */
  runOnce(): Promise<{ deleted: number; prunedThrough: number; skipped: boolean }>
  stop(): Promise<void>
}

export function startRetention(
  db: Db,
  opts: RetentionOptions,
  hooks: { now?: () => Date; onPass?: (r: { deleted: number; prunedThrough: number }) => void; onError?: (err: unknown) => void } = {},
): RetentionJob {
  const now = hooks.now ?? (() => new Date())
  let running: Promise<{ deleted: number; prunedThrough: number; skipped: boolean }> | undefined
  const runOnce = () => {
    running ??= pruneEvents(db, opts, now())
      .then((r) => {
        if (r.deleted > 0) hooks.onPass?.(r)
        return r
      })
      .finally(() => (running = undefined))
    return running
  }
  const timer = setInterval(() => runOnce().catch((err) => (hooks.onError ?? console.error)(err)), opts.intervalMs)
  timer.unref()
  return {
    runOnce,
    async stop() {
      clearInterval(timer)
      await running?.catch(() => {})
    },
  }
}
