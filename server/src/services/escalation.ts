import { ESCALATABLE_STATUSES, TOP_OWNING_LEVEL } from '../../../shared/domain/case-lifecycle.ts'
import type { Db } from '../db/types.ts'
import { CASE_COLUMNS, type CaseRow } from '../repos/cases.ts'
import { applyEffect, escalationEffect } from './cases.ts'
import { pruneKeys } from './idempotency.ts'

/** pg advisory lock key of the escalation scheduler ('GCES' as an int): one process at a time runs a pass. */
export const SCHEDULER_LOCK_KEY = 0x47434553

export interface PassResult {
  /** false when another process held the lock (it is doing this pass). */
  ran: boolean
  escalated: number
  /** Overdue at the top level: flagged once, pushed, nothing left to climb. */
  flagged: number
}

/**
 * One pass of 三级吹哨 by the clock: every case past its limit in a status where the clock runs climbs one level
 * (grid → community → street → district) with a fresh limit; one already at the district is flagged overdue once.
 * Each step is a timeline row and a `case:updated` event. Runs under a transaction-scoped advisory lock, so with
 * several servers exactly one does the work; rows are taken FOR UPDATE SKIP LOCKED so a dispatcher acting on a
 * case at the same moment is never blocked by it (the case is simply picked up by the next pass).
 */
export async function escalateOverdue(db: Db, now: Date, batch = 200): Promise<PassResult> {
  const total: PassResult = { ran: false, escalated: 0, flagged: 0 }
  for (;;) {
    const taken = await db.transaction(async (tx) => {
      const { rows: lock } = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [SCHEDULER_LOCK_KEY])
      if (!lock[0].ok) return null
      const { rows } = await tx.query<CaseRow>(
        `SELECT ${CASE_COLUMNS} FROM cases c
          WHERE c.status = ANY($1::text[]) AND c.due_at < $2
            AND (c.owning_level > $3 OR c.overdue_flagged_at IS NULL)
          ORDER BY c.due_at
          LIMIT $4
          FOR UPDATE OF c SKIP LOCKED`,
        [ESCALATABLE_STATUSES, now, TOP_OWNING_LEVEL, batch],
      )
      const ctx = { actor: 'system', now }
      for (const row of rows) {
        const data = { dueAt: row.dueAt, overdueSeconds: Math.round((now.getTime() - new Date(row.dueAt!).getTime()) / 1000) }
        if (row.owningLevel > TOP_OWNING_LEVEL) {
          const effect = await escalationEffect(tx, row, now)
          await applyEffect(tx, row, 'escalate', { ...effect, data: { trigger: 'overdue', ...data } }, ctx)
          total.escalated++
        } else {
          await applyEffect(tx, row, 'overdue', { set: { overdue_flagged_at: now }, data }, ctx)
          total.flagged++
        }
      }
      return rows.length
    })
    // Another process holds the lock: it is doing this pass.
    if (taken === null) return total
    total.ran = true
    if (taken < batch) return total
  }
}

export interface Scheduler {
  stop(): Promise<void>
  /** Runs a pass now (and waits for it). */
  tick(): Promise<PassResult>
}

/** Runs a pass every `intervalMs` (and prunes idempotency keys about hourly) until stopped. */
export function startScheduler(
  db: Db,
  opts: { intervalMs: number; now?: () => Date; onError?: (err: unknown) => void; onPass?: (r: PassResult) => void },
): Scheduler {
  const now = opts.now ?? (() => new Date())
  let running: Promise<PassResult> | null = null
  let lastPrune = 0
  const tick = async (): Promise<PassResult> => {
    if (running) return running
    running = (async () => {
      try {
        const r = await escalateOverdue(db, now())
        if (Date.now() - lastPrune > 3_600_000) {
          lastPrune = Date.now()
          await pruneKeys(db, now())
        }
        opts.onPass?.(r)
        return r
      } catch (err) {
        opts.onError?.(err)
        return { ran: false, escalated: 0, flagged: 0 }
      } finally {
        running = null
      }
    })()
    return running
  }
  const timer = setInterval(() => void tick(), opts.intervalMs)
  timer.unref()
  return {
    tick,
    async stop() {
      clearInterval(timer)
      await running
    },
  }
}
