import type { Db, Queryable } from '../db/types.ts'
import { insertReportedCases, type NewCase, type ReportedCase } from '../repos/cases.ts'

/**
 * Group intake: reports that arrive while the database is busy with earlier ones are written together, by one
 * statement and one commit (repos/cases.ts INTAKE_SQL), instead of one statement and one commit each.
 *
 * No report waits for company. A report goes to the database at once when no intake statement is running;
 * otherwise it joins the queue, and when the statement ends, everything queued (up to `maxGroup`) leaves as the next
 * group. So at a trickle every report is written alone and as soon as it comes, exactly as before, and under load
 * the groups grow with the load: PostgreSQL's cost per report (statement start, commit and its WAL flush) is paid once
 * per group. If the running statement is slow (`spareAfterMs`), the queue leaves on a second connection without
 * waiting for it (up to `maxInFlight` statements).
 *
 * Each report keeps an answer of its own: the group statement writes the ones it can and says, per report, why not
 * for the others (inactive category, outside every grid). If the group statement fails as a whole (a constraint, a
 * lost connection), each of its reports is tried again alone, so one bad report never takes the others down with it
 * and each caller gets its own success or error.
 */
export interface IntakeGroupOptions {
  /** Intake statements running at once (each on its own pooled connection). */
  maxInFlight?: number
  /**
   * A statement beyond the first starts only once the oldest running one has taken this long: at the usual few
   * milliseconds a statement, reports wait for it and leave as one group (cheaper for PostgreSQL than two); a
   * statement that stalls (a slow commit, a busy machine) does not hold intake up for longer than this.
   */
  spareAfterMs?: number
  /** Reports in one statement at most. */
  maxGroup?: number
  /**
   * Start a statement only after the current turn of the event loop (setImmediate), so that the reports read in the
   * same turn leave together. For the embedded database: PGlite runs each statement on the server's own thread, so no
   * report arrives WHILE a statement runs — without this every report was written alone (groups of 1.0 at any load).
   * It costs a lone report nothing measurable: the check phase comes right after the poll phase that read it.
   */
  gatherTurn?: boolean
}

export interface IntakeGroupStats {
  statements: number
  reports: number
  /** Group statements that failed as a whole and were retried report by report (each retry counts as a statement). */
  splits: number
  largest: number
}

interface Waiting {
  c: NewCase
  resolve: (r: ReportedCase) => void
  reject: (err: unknown) => void
}

export class IntakeGroups {
  readonly stats: IntakeGroupStats = { statements: 0, reports: 0, splits: 0, largest: 0 }
  private readonly queue: Waiting[] = []
  /** The running statements, each by when it started. */
  private readonly running = new Set<{ startedAt: number }>()
  private spareTimer: NodeJS.Timeout | undefined
  private readonly maxInFlight: number
  private readonly spareAfterMs: number
  private readonly maxGroup: number
  private readonly gatherTurn: boolean
  private gathering = false

  constructor(
    private readonly db: Queryable,
    opts: IntakeGroupOptions = {},
  ) {
    this.maxInFlight = opts.maxInFlight ?? 2
    this.spareAfterMs = opts.spareAfterMs ?? 4
    this.maxGroup = opts.maxGroup ?? 200
    this.gatherTurn = opts.gatherTurn ?? false
  }

  /** Writes one report (in a group if others are waiting); resolves with its own outcome. */
  write(c: NewCase): Promise<ReportedCase> {
    return new Promise((resolve, reject) => {
      this.queue.push({ c, resolve, reject })
      if (!this.gatherTurn) return this.pump()
      if (this.gathering) return
      this.gathering = true
      setImmediate(() => {
        this.gathering = false
        this.pump()
      })
    })
  }

  private pump(): void {
    while (this.running.size < this.maxInFlight && this.queue.length > 0) {
      if (this.running.size > 0) {
        const oldest = Math.min(...[...this.running].map((r) => r.startedAt))
        const wait = oldest + this.spareAfterMs - performance.now()
        if (wait > 0) {
          this.spareTimer ??= setTimeout(() => {
            this.spareTimer = undefined
            this.pump()
          }, Math.ceil(wait))
          return
        }
      }
      const entry = { startedAt: performance.now() }
      this.running.add(entry)
      void this.run(this.queue.splice(0, this.maxGroup)).finally(() => {
        this.running.delete(entry)
        this.pump()
      })
    }
  }

  private async run(group: Waiting[]): Promise<void> {
    this.stats.statements++
    this.stats.reports += group.length
    this.stats.largest = Math.max(this.stats.largest, group.length)
    let answers: ReportedCase[]
    try {
      answers = await insertReportedCases(
        this.db,
        group.map((w) => w.c),
      )
    } catch (err) {
      if (group.length === 1) return group[0].reject(err)
      // The statement wrote nothing (it is its own transaction): each report again, alone, with its own answer.
      this.stats.splits++
      await Promise.all(group.map((w) => this.run([w])))
      return
    }
    group.forEach((w, k) => w.resolve(answers[k]))
  }
}

const groups = new WeakMap<Queryable, IntakeGroups>()

/**
 * The group intake of a database handle (one per handle: every route and the simulator share it). The embedded
 * database runs one statement at a time on this thread: one statement in flight, gathered per event-loop turn.
 */
export function intakeGroupsOf(db: Queryable): IntakeGroups {
  let g = groups.get(db)
  if (!g) {
    const embedded = (db as Partial<Db>).mode === 'embedded'
    groups.set(db, (g = new IntakeGroups(db, embedded ? { maxInFlight: 1, gatherTurn: true } : {})))
  }
  return g
}
