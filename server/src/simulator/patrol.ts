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
 */
import type { WorkerStatus } from '../../../shared/schemas/worker.ts'
import { MAX_POSITIONS_PER_BATCH } from '../../../shared/schemas/worker.ts'
import type { Db, Queryable } from '../db/types.ts'
import { wkbRings } from '../repos/wkb.ts'
import { recordPositions, type PositionInput } from '../services/workers.ts'
import { hash01, prng } from '../../../shared/util/random.ts'

// ---- geometry of one area (planar in degrees; fine at the scale of a grid) -------------------------------------------

const M_PER_DEG_LAT = 110_574
/** Waypoints and paths stay at least this far from every edge, so the database agrees they are inside (ST_Covers). */
const EDGE_MARGIN_M = 1

export class Area {
  /** Edges as flat arrays: x1, y1, x2, y2. */
  private readonly ex1: Float64Array
  private readonly ey1: Float64Array
  private readonly ex2: Float64Array
  private readonly ey2: Float64Array
  readonly minX: number
  readonly minY: number
  readonly maxX: number
  readonly maxY: number
  /** Metres per degree of longitude at the area's latitude. */
  readonly mPerDegLon: number

  constructor(
    readonly id: string,
    rings: Float64Array[],
  ) {
    let n = 0
    for (const r of rings) n += r.length / 2 - 1
    this.ex1 = new Float64Array(n)
    this.ey1 = new Float64Array(n)
    this.ex2 = new Float64Array(n)
    this.ey2 = new Float64Array(n)
    let e = 0
    let minX = Infinity
    let minY = Infinity
    let maxX = -Infinity
    let maxY = -Infinity
    for (const r of rings) {
      for (let i = 2; i < r.length; i += 2, e++) {
        this.ex1[e] = r[i - 2]
        this.ey1[e] = r[i - 1]
        this.ex2[e] = r[i]
        this.ey2[e] = r[i + 1]
        minX = Math.min(minX, r[i])
        maxX = Math.max(maxX, r[i])
        minY = Math.min(minY, r[i + 1])
        maxY = Math.max(maxY, r[i + 1])
      }
    }
    this.minX = minX
    this.minY = minY
    this.maxX = maxX
    this.maxY = maxY
    this.mPerDegLon = 111_320 * Math.cos((((minY + maxY) / 2) * Math.PI) / 180)
  }

  /** Even-odd over every ring: inside a polygon and not in a hole. */
  contains(x: number, y: number): boolean {
    let inside = false
    for (let e = 0; e < this.ex1.length; e++) {
      const y1 = this.ey1[e]
      const y2 = this.ey2[e]
      if (y1 > y !== y2 > y) {
        const xc = this.ex1[e] + ((y - y1) * (this.ex2[e] - this.ex1[e])) / (y2 - y1)
        if (x < xc) inside = !inside
      }
    }
    return inside
  }

  /** Distance in metres between segment p–q and the nearest edge (0 when they cross). */
  private clearance(px: number, py: number, qx: number, qy: number): number {
    // Work in metres around p.
    const kx = this.mPerDegLon
    const ky = M_PER_DEG_LAT
    const ax = 0
    const ay = 0
    const bx = (qx - px) * kx
    const by = (qy - py) * ky
    let best = Infinity
    for (let e = 0; e < this.ex1.length; e++) {
      const cx = (this.ex1[e] - px) * kx
      const cy = (this.ey1[e] - py) * ky
      const dx = (this.ex2[e] - px) * kx
      const dy = (this.ey2[e] - py) * ky
      const d = segmentDistance(ax, ay, bx, by, cx, cy, dx, dy)
      if (d < best) best = d
      if (best === 0) return 0
    }
    return best
  }

  /** A point whose whole straight path from (fromX, fromY) stays inside, clear of the edges; null if none was found. */
  reachablePoint(rng: () => number, fromX: number, fromY: number, tries = 40): [number, number] | null {
    for (let t = 0; t < tries; t++) {
      const p = this.randomPoint(rng)
      if (p && this.clearance(fromX, fromY, p[0], p[1]) > EDGE_MARGIN_M) return p
    }
    return null
  }

  /** A point inside, clear of the edges (rejection sampling in the bounding box). */
  randomPoint(rng: () => number, tries = 200): [number, number] | null {
    for (let t = 0; t < tries; t++) {
      const x = this.minX + rng() * (this.maxX - this.minX)
      const y = this.minY + rng() * (this.maxY - this.minY)
      if (this.contains(x, y) && this.clearance(x, y, x, y) > EDGE_MARGIN_M) return [x, y]
    }
    return null
  }

  /** Whether (x, y) is inside and clear of the edges (a usable start). */
  usable(x: number, y: number): boolean {
    return this.contains(x, y) && this.clearance(x, y, x, y) > EDGE_MARGIN_M
  }
}

function pointSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const vx = bx - ax
  const vy = by - ay
  const len2 = vx * vx + vy * vy
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * vx + (py - ay) * vy) / len2))
  return Math.hypot(px - (ax + t * vx), py - (ay + t * vy))
}

const orient = (ax: number, ay: number, bx: number, by: number, cx: number, cy: number) => (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)

/** Distance between segments a–b and c–d (0 when they cross). */
function segmentDistance(ax: number, ay: number, bx: number, by: number, cx: number, cy: number, dx: number, dy: number): number {
  const o1 = orient(ax, ay, bx, by, cx, cy)
  const o2 = orient(ax, ay, bx, by, dx, dy)
  const o3 = orient(cx, cy, dx, dy, ax, ay)
  const o4 = orient(cx, cy, dx, dy, bx, by)
  if (((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))) return 0
  return Math.min(pointSegment(ax, ay, cx, cy, dx, dy), pointSegment(bx, by, cx, cy, dx, dy), pointSegment(cx, cy, ax, ay, bx, by), pointSegment(dx, dy, ax, ay, bx, by))
}

// ---- the model ---------------------------------------------------------------------------------------------------


export interface Walker {
  id: string
  /** The grid whose staff this person belongs to (their own grid, or a leader's micro-grid's grid). */
  gridId: string
  area: Area
  x: number
  y: number
  /** Where they are walking to; null while they stop. */
  target: [number, number] | null
  speed: number
  pauseUntil: number
  busyUntil: number
  status: WorkerStatus
  /** The status has changed since the last report: the next fix carries it. */
  statusDirty: boolean
  /** Their place in the grid's duty order (0 first on duty). */
  rank: number
}

export interface PatrolModelOptions {
  /** Share of each grid's staff on duty in the day shift (0–1). */
  dayShare?: number
  /** … at night. */
  nightShare?: number
  /** The day shift, hours of the day in Asia/Shanghai: [start, end). */
  dayHours?: [number, number]
  /** Metres per second, uniform in [min, max]. */
  speed?: [number, number]
  /** Stop at each point for [min, max] seconds. */
  pauseSeconds?: [number, number]
  /** How often, per hour on duty, someone goes busy; for how many minutes. */
  busyPerHour?: number
  busyMinutes?: [number, number]
  seed?: number
}

const DEFAULTS: Required<PatrolModelOptions> = {
  dayShare: 0.6,
  nightShare: 0.15,
  dayHours: [8, 18],
  speed: [1, 1.5],
  pauseSeconds: [20, 180],
  busyPerHour: 0.4,
  busyMinutes: [5, 20],
  seed: 20261121,
}

export interface WalkerSource {
  id: string
  gridId: string
  areaId: string
  /** Last known position (or home); null: start anywhere inside the area. */
  lon: number | null
  lat: number | null
}

/** The walkers and their areas; pure (no database), stepped by time. */
export class PatrolModel {
  readonly walkers: Walker[] = []
  readonly opts: Required<PatrolModelOptions>
  private readonly rng: () => number
  private lastMs: number | null = null
  /** Staff count per grid, for the duty share. */
  private readonly staff = new Map<string, number>()

  constructor(areas: Map<string, Area>, sources: WalkerSource[], opts: PatrolModelOptions = {}) {
    this.opts = { ...DEFAULTS, ...opts }
    this.rng = prng(this.opts.seed)
    const byGrid = new Map<string, WalkerSource[]>()
    for (const s of sources) {
      if (!areas.has(s.areaId)) continue
      let list = byGrid.get(s.gridId)
      if (!list) byGrid.set(s.gridId, (list = []))
      list.push(s)
    }
    for (const [gridId, list] of [...byGrid].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      list.sort((a, b) => hash01(a.id, this.opts.seed) - hash01(b.id, this.opts.seed) || (a.id < b.id ? -1 : 1))
      this.staff.set(gridId, list.length)
      list.forEach((s, rank) => {
        const area = areas.get(s.areaId)!
        let [x, y] = s.lon !== null && s.lat !== null && area.usable(s.lon, s.lat) ? [s.lon, s.lat] : (area.randomPoint(this.rng) ?? [NaN, NaN])
        if (Number.isNaN(x)) return // an area too thin to walk in: this person stays out of the patrol
        const [lo, hi] = this.opts.speed
        this.walkers.push({
          id: s.id, gridId, area, x, y, target: null, speed: lo + this.rng() * (hi - lo), pauseUntil: 0, busyUntil: 0,
          status: 'off_duty', statusDirty: true, rank,
        })
      })
    }
  }

  /** Share of staff on duty at `ms` (Asia/Shanghai shifts). */
  shareAt(ms: number): number {
    const hour = (new Date(ms).getUTCHours() + 8) % 24
    const [start, end] = this.opts.dayHours
    return hour >= start && hour < end ? this.opts.dayShare : this.opts.nightShare
  }

  private onDutyCount(gridId: string, share: number): number {
    const n = this.staff.get(gridId) ?? 0
    if (share <= 0) return 0
    return Math.min(n, Math.max(1, Math.round(share * n)))
  }

  /** Moves everyone to `ms`: shifts, busy spells, walking. A long gap (a stalled process) is not walked through. */
  advance(ms: number): void {
    const dt = this.lastMs === null ? 0 : Math.min(120, Math.max(0, (ms - this.lastMs) / 1000))
    this.lastMs = ms
    const share = this.shareAt(ms)
    const busyChance = 1 - Math.exp(-this.opts.busyPerHour * (dt / 3600))
    for (const w of this.walkers) {
      const onShift = w.rank < this.onDutyCount(w.gridId, share)
      if (!onShift) {
        if (w.status !== 'off_duty') this.setStatus(w, 'off_duty')
        continue
      }
      if (w.status === 'off_duty') {
        this.setStatus(w, 'on_duty')
        w.target = null
        w.pauseUntil = ms
      }
      if (w.status === 'busy') {
        if (ms >= w.busyUntil) this.setStatus(w, 'on_duty')
        else continue // standing still, handling something
      } else if (dt > 0 && this.rng() < busyChance) {
        const [lo, hi] = this.opts.busyMinutes
        w.busyUntil = ms + (lo + this.rng() * (hi - lo)) * 60_000
        this.setStatus(w, 'busy')
        continue
      }
      this.walk(w, ms, dt)
    }
  }

  private setStatus(w: Walker, status: WorkerStatus): void {
    w.status = status
    w.statusDirty = true
  }

  /** Walks towards the target for dt seconds; on arrival, stops for a while. */
  private walk(w: Walker, ms: number, dt: number): void {
    if (w.target === null) {
      if (ms < w.pauseUntil) return
      w.target = w.area.reachablePoint(this.rng, w.x, w.y)
      if (w.target === null) {
        w.pauseUntil = ms + 30_000 // cornered: wait, then try again
        return
      }
    }
    const dist = Math.hypot((w.target[0] - w.x) * w.area.mPerDegLon, (w.target[1] - w.y) * M_PER_DEG_LAT)
    const can = w.speed * dt
    if (can < dist) {
      const f = can / dist
      w.x += (w.target[0] - w.x) * f
      w.y += (w.target[1] - w.y) * f
      return
    }
    w.x = w.target[0]
    w.y = w.target[1]
    w.target = null
    const [lo, hi] = this.opts.pauseSeconds
    w.pauseUntil = ms + (lo + this.rng() * (hi - lo)) * 1000
  }

  /** The fix a walker's device reports now (with the status only when it changed since the last report). */
  fix(w: Walker, ms: number): PositionInput {
    const p: PositionInput = { workerId: w.id, lon: w.x, lat: w.y, at: new Date(ms).toISOString(), accuracyM: 5 + Math.round(this.rng() * 10) }
    if (w.statusDirty) {
      p.status = w.status
      w.statusDirty = false
    }
    return p
  }

  /** Fixes of everyone whose device is reporting: on duty or busy, and those who just went off duty (one last fix). */
  report(ms: number): PositionInput[] {
    const out: PositionInput[] = []
    for (const w of this.walkers) if (w.status !== 'off_duty' || w.statusDirty) out.push(this.fix(w, ms))
    return out
  }
}

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
  const seed = sel.seed ?? opts.seed ?? DEFAULTS.seed
  const limit = sel.grids === undefined ? 60 : sel.grids
  const grids = await q.query<{ id: string }>(
    `SELECT g.id FROM regions g
      WHERE g.level = 4 AND g.valid_to IS NULL
        AND ($1::text[] IS NULL OR EXISTS (SELECT 1 FROM regions a WHERE a.id = ANY($1::text[]) AND g.path <@ a.path))
      ORDER BY md5(g.id || $2::text) LIMIT $3`,
    [sel.within ?? null, String(seed), limit === 'all' ? null : limit],
  )
  const gridIds = grids.rows.map((r) => r.id)
  const staff = await q.query<WalkerSource>(
    `SELECT w.id, g.id AS "gridId", r.id AS "areaId",
            ST_X(coalesce(w.position, w.home)) AS lon, ST_Y(coalesce(w.position, w.home)) AS lat
       FROM workers w JOIN regions r ON r.id = w.region_id
       JOIN regions g ON g.id = CASE WHEN r.level = 5 THEN r.parent_id ELSE r.id END
      WHERE g.id = ANY($1::text[])
      ORDER BY w.id`,
    [gridIds],
  )
  const areaIds = [...new Set(staff.rows.map((s) => s.areaId))]
  const geoms = await q.query<{ id: string; wkb: Uint8Array }>('SELECT id, ST_AsBinary(geom) AS wkb FROM regions WHERE id = ANY($1::text[])', [areaIds])
  const areas = new Map(geoms.rows.map((g) => [g.id, new Area(g.id, wkbRings(g.wkb))]))
  const { dayShare, nightShare, dayHours, speed, pauseSeconds, busyPerHour, busyMinutes } = opts
  const picked = Object.fromEntries(Object.entries({ dayShare, nightShare, dayHours, speed, pauseSeconds, busyPerHour, busyMinutes }).filter(([, v]) => v !== undefined))
  return new PatrolModel(areas, staff.rows, { ...picked, seed })
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
    dayShare: numberFrom(env, 'PATROL_DAY_SHARE', DEFAULTS.dayShare, share, 'between 0 and 1'),
    nightShare: numberFrom(env, 'PATROL_NIGHT_SHARE', DEFAULTS.nightShare, share, 'between 0 and 1'),
  }
}

/** The patrol as main.ts starts it (with the simulator): from the environment, undefined when PATROL=0. */
export async function startPatrolFromEnv(db: Db, log: PatrolOptions['log'], env: NodeJS.ProcessEnv = process.env): Promise<Patrol | undefined> {
  const opts = patrolOptionsFromEnv(env)
  return opts ? startPatrol(db, { ...opts, log }) : undefined
}
