/**
 * The patrol model (simulator/patrol.ts): the walkers and their areas, pure (no database), stepped by time — shifts
 * by the Asia/Shanghai clock, busy spells, walking to reachable points and stopping there.
 */
import type { WorkerStatus } from '../../../shared/schemas/worker.ts'
import { hash01, prng } from '../../../shared/util/random.ts'
import type { PatrolStaffRow } from '../repos/patrol.ts'
import type { PositionInput } from '../services/workers.ts'
import { M_PER_DEG_LAT, type Area } from './patrol-area.ts'

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

export const PATROL_DEFAULTS: Required<PatrolModelOptions> = {
  dayShare: 0.6,
  nightShare: 0.15,
  dayHours: [8, 18],
  speed: [1, 1.5],
  pauseSeconds: [20, 180],
  busyPerHour: 0.4,
  busyMinutes: [5, 20],
  seed: 20261121,
}

/** A person on the staff of a patrolled grid, as read from the database (repos/patrol.ts). */
export type WalkerSource = PatrolStaffRow

/** The walkers and their areas; pure (no database), stepped by time. */
export class PatrolModel {
  readonly walkers: Walker[] = []
  readonly opts: Required<PatrolModelOptions>
  private readonly rng: () => number
  private lastMs: number | null = null
  /** Staff count per grid, for the duty share. */
  private readonly staff = new Map<string, number>()

  constructor(areas: Map<string, Area>, sources: WalkerSource[], opts: PatrolModelOptions = {}) {
    this.opts = { ...PATROL_DEFAULTS, ...opts }
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
