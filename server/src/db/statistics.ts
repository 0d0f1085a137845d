import type { Db } from './types.ts'

/**
 * Planner statistics where autovacuum does not keep them: the embedded database (PGlite runs no autovacuum) and a
 * PostgreSQL whose autovacuum is off.
 *
 * Why it matters: PostgreSQL plans from what it last learned of a table's size. A table that was empty when it was
 * last analysed (every fresh installation: the cases, their timeline, the event log) is planned as empty — a
 * sequential scan looks free — and a prepared statement keeps that plan (pg-db.ts runs the named ones with
 * generic plans, made once per connection). Seen in bench/push-latency.ts: the intake statement's duplicate check
 * read every stored case by a sequential scan instead of the GIST index, 3 ms per report at 5,000 cases and growing
 * with the table, and intake statements of 30–100 ms were the tail of the report → dashboard latency. An ANALYZE
 * invalidates the plans that depend on the table, so they are made again from its real size.
 *
 * The rule is autovacuum's, on size: a table is analysed when its pages on disk exceed the pages it had at its last
 * ANALYZE by more than `minPages + scale × those pages` (a table never analysed counts as having had none). Size,
 * not the statistics collector's modification counts, because PGlite does not flush those. One table at a time, each
 * in a short transaction of its own under an advisory lock: several server processes never analyse the same table at
 * once.
 */
export interface PlannerStatsOptions {
  /** Time between checks (the first runs at once). Default 10 s. */
  intervalMs?: number
  /** Growth, in pages, that always counts (8 kB pages: a few dozen cases). Default 5. */
  minPages?: number
  /** Growth, as a share of the pages at the last ANALYZE. Default 0.1 (autovacuum's analyze scale factor). */
  scale?: number
  /**
   * Run even where autovacuum is on (PostgreSQL). Default false: there autovacuum does this (and also on rows
   * changed in place, which this rule does not see).
   */
  always?: boolean
  onAnalyze?: (tables: string[]) => void
  onError?: (err: unknown) => void
}

export interface PlannerStatsJob {
  /** One check now; the tables it analysed. */
  runOnce(): Promise<string[]>
  stop(): Promise<void>
}

/** Advisory lock key space of this job: pg_try_advisory_xact_lock(key << 32 | table oid). */
const LOCK_KEY = 0x67637374 // 'gcst'

/** Tables of the current schema that have outgrown their statistics ($1 minPages, $2 scale; $3 one table's oid or null). */
const STALE_SQL = `
  SELECT c.oid::int8::text AS oid, format('%I.%I', n.nspname, c.relname) AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'm') AND n.nspname = current_schema() AND ($3::int8 IS NULL OR c.oid = $3::int8::oid)
     AND pg_relation_size(c.oid) / current_setting('block_size')::int8
         > greatest(c.relpages, 0) + $1::int8 + $2::float8 * greatest(c.relpages, 0)
   ORDER BY c.relname`

export async function staleTables(db: Db, minPages = 5, scale = 0.1): Promise<Array<{ oid: string; name: string }>> {
  const { rows } = await db.query<{ oid: string; name: string }>(STALE_SQL, [minPages, scale, null])
  return rows
}

/**
 * ANALYZEs each stale table (see above); returns the names of those it analysed. A table that fails (dropped
 * meanwhile, say) goes to `onError` and the others are still done; without `onError` the first failure throws.
 */
export async function analyzeStaleTables(db: Db, minPages = 5, scale = 0.1, onError?: (err: unknown) => void): Promise<string[]> {
  const done: string[] = []
  for (const t of await staleTables(db, minPages, scale)) {
    try {
      const analysed = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(($1::int8 << 32) | $2::int8) AS ok', [LOCK_KEY, t.oid])
        if (!rows[0].ok) return false // another process is at it
        // Still stale? (another process may have analysed it between the check and the lock; it may be gone)
        if ((await tx.query(STALE_SQL, [minPages, scale, t.oid])).rows.length === 0) return false
        await tx.query(`ANALYZE ${t.name}`)
        return true
      })
      if (analysed) done.push(t.name)
    } catch (err) {
      if (!onError) throw err
      onError(err)
    }
  }
  return done
}

export async function startPlannerStats(db: Db, opts: PlannerStatsOptions = {}): Promise<PlannerStatsJob | undefined> {
  const { intervalMs = 10_000, minPages = 5, scale = 0.1 } = opts
  const onError = opts.onError ?? ((err: unknown) => console.error('[planner statistics]', err))
  if (db.mode === 'postgres' && !opts.always) {
    const { rows } = await db.query<{ on: boolean }>(`SELECT current_setting('autovacuum') = 'on' AND current_setting('track_counts') = 'on' AS on`)
    if (rows[0].on) return undefined
  }
  let running: Promise<string[]> | undefined
  let stopped = false
  const runOnce = () => {
    running ??= analyzeStaleTables(db, minPages, scale, onError)
      .then((tables) => {
        if (tables.length) opts.onAnalyze?.(tables)
        return tables
      })
      .finally(() => (running = undefined))
    return running
  }
  const tick = () => {
    if (!stopped) runOnce().catch(onError)
  }
  tick()
  const timer = setInterval(tick, intervalMs)
  timer.unref()
  return {
    runOnce,
    async stop() {
      stopped = true
      clearInterval(timer)
      await running?.catch(() => {})
    },
  }
}
