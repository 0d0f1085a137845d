/**
 * Simulated patrols (巡查): grid staff on duty walk their own grid — a micro-grid leader their micro-grid — and
 * their devices report a fix every few seconds, batched through the same service as real devices
 * (services/workers.ts recordPositions: tagged, stored, pushed).
 *
 * How they move: from where they are to a random point of their area that they can reach in a straight line
 * without leaving it (so the whole path stays inside, however concave the area), at 1–1.5 m/s; there they stop for a
 * while (a household visit), then pick the next point. Shifts follow the clock (Asia/Shanghai): in the day shift a
 * share of each grid's staff is on duty (60 % by default), at night fewer; on duty, some go busy for a few minutes
 * (handling something on the spot, standing still) and come back. Who is on duty is a fixed order per grid (from a
 * hash of the worker id), so a restart puts the same people back on patrol.
 *
 * The status goes with a fix only when the patrol changes it (shift start or end, busy and back), so a status set
 * by hand (POST /api/workers/:id/status) stands until the patrol's next change for that worker.
 *
 * Scale: `grids` picks a subset for the demo (PATROL_GRIDS, default 60 spread over the region) or 'all'; the
 * benchmark drives the same model (PatrolModel) from outside the server.
 *
 * Here: loading the model from the database and running it on a timer. The areas' geometry is in patrol-area.ts,
 * the model in patrol-model.ts, the settings from the environment in patrol-env.ts.
 */
import { MAX_POSITIONS_PER_BATCH } from '../../../shared/schemas/worker.ts'
import type { Db, Queryable } from '../db/types.ts'
import { patrolGrids, patrolStaff, regionWkb } from '../repos/patrol.ts'
import { wkbRings } from '../repos/wkb.ts'
import { recordPositions, type PositionInput } from '../services/workers.ts'
import { Area } from './patrol-area.ts'
import { PATROL_DEFAULTS, PatrolModel, type PatrolModelOptions } from './patrol-model.ts'

// ---- loading from the database -----------------------------------------------------------------------------------

export interface PatrolSelection {
  /** How many grids (spread over the region, the same ones every start), or 'all'. */
  grids?: number | 'all'
  /** Only grids at or under these regions (any level). */
  within?: string[]
  seed?: number
}

/** The grids to patrol, their staff and the areas they walk (a grid, or a leader's micro-grid). */
export async function loadPatrolModel(q: Queryable, sel: PatrolSelection = {}, opts: PatrolModelOptions = {}): Promise<PatrolModel> {
  const seed = sel.seed ?? opts.seed ?? PATROL_DEFAULTS.seed
  const limit = sel.grids === undefined ? 60 : sel.grids
  const gridIds = await patrolGrids(q, sel.within ?? null, seed, limit === 'all' ? null : limit)
  const staff = await patrolStaff(q, gridIds)
  const areaIds = [...new Set(staff.map((s) => s.areaId))]
  const areas = new Map((await regionWkb(q, areaIds)).map((g) => [g.id, new Area(g.id, wkbRings(g.wkb))]))
  const { dayShare, nightShare, dayHours, speed, pauseSeconds, busyPerHour, busyMinutes } = opts
  const picked = Object.fromEntries(Object.entries({ dayShare, nightShare, dayHours, speed, pauseSeconds, busyPerHour, busyMinutes }).filter(([, v]) => v !== undefined))
  return new PatrolModel(areas, staff, { ...picked, seed })
}

// ---- the running patrol ------------------------------------------------------------------------------------------

export interface PatrolOptions extends PatrolModelOptions, PatrolSelection {
  /** Each device reports every this many ms (default 10 s). */
  reportEveryMs?: number
  now?: () => Date
  /** No timer: the caller drives tick() (tests). */
  manual?: boolean
  log: { error: (o: unknown, msg?: string) => void; info?: (o: unknown, msg?: string) => void }
  /** Where the fixes go (default: recordPositions on `db`, in batches of at most 5,000). */
  submit?: (positions: PositionInput[], now: Date) => Promise<void>
}

export interface PatrolTick {
  reported: number
  onDuty: number
  busy: number
  offDuty: number
}

export interface Patrol {
  readonly model: PatrolModel
  /** Advances everyone to now() and submits their fixes. */
  tick(): Promise<PatrolTick>
  stop(): Promise<void>
}

export async function startPatrol(db: Db, opts: PatrolOptions): Promise<Patrol> {
  const now = opts.now ?? (() => new Date())
  const model = await loadPatrolModel(db, opts, opts)
  const submit =
    opts.submit ??
    (async (positions: PositionInput[], at: Date) => {
      for (let i = 0; i < positions.length; i += MAX_POSITIONS_PER_BATCH) {
        await recordPositions(db, positions.slice(i, i + MAX_POSITIONS_PER_BATCH), { now: at })
      }
    })
  let stopped = false

  async function tick(): Promise<PatrolTick> {
    const at = now()
    const ms = at.getTime()
    model.advance(ms)
    const fixes = model.report(ms)
    // Grouped by grid (hence by street): fewer streets per batch, fewer events.
    fixes.sort((a, b) => (a.workerId < b.workerId ? -1 : 1))
    if (fixes.length) await submit(fixes, at)
    const count = { onDuty: 0, busy: 0, offDuty: 0 }
    for (const w of model.walkers) count[w.status === 'on_duty' ? 'onDuty' : w.status === 'busy' ? 'busy' : 'offDuty']++
    return { reported: fixes.length, ...count }
  }

  let ticking: Promise<unknown> | undefined
  const timer = opts.manual
    ? undefined
    : setInterval(() => {
        if (ticking || stopped) return
        ticking = tick()
          .catch((err) => opts.log.error(err, 'patrol tick failed'))
          .finally(() => (ticking = undefined))
      }, opts.reportEveryMs ?? 10_000)
  timer?.unref()
  opts.log.info?.(`patrol: ${model.walkers.length} staff of ${new Set(model.walkers.map((w) => w.gridId)).size} grids, a fix every ${(opts.reportEveryMs ?? 10_000) / 1000} s on duty`)

  return {
    model,
    tick,
    async stop() {
      stopped = true
      clearInterval(timer)
      await ticking
    },
  }
}
