/**
 * The figures of the wall's panels, all from the stats API (never counted in the page, so every number on the wall
 * is the server's): overview (today, open, overdue, 30-day completion, category mix), the 30-day loop by day
 * (trend, on-time rate, satisfaction), 24 hours, street and department rankings, and the heatmap points.
 * Refreshed on a timer and, coalesced, shortly after live case events.
 *
 * The wall's cross-filter narrows them (every stats route takes region, category and department), except where a
 * panel is the filter's own source: the category ring is not narrowed by the category (it shows the selected slice
 * among the others), the department ranking not by the department, the street ranking not by the street (it ranks
 * every street of the area).
 */
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { Heat, HeatWindow, Hourly, LoopStats, Overview, Ranking } from '../../../shared/schemas/stats.ts'
import { fetchHeat, fetchHourly, fetchLoopByDay, fetchOverview, fetchRanking, type StatsFilter } from '../api/wall.ts'

/** A refresh at most this long after a case event (a burst of events makes one refresh). */
export const EVENT_REFRESH_MS = 1200
export const PERIODIC_REFRESH_MS = 30_000

interface StatsScope {
  region: string | null
  area: string | null
  category: string | null
  department: string | null
  heatWindow: HeatWindow
}

function samePoints(a: ReadonlyArray<readonly number[]>, b: ReadonlyArray<readonly number[]>): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i][0] !== b[i][0] || a[i][1] !== b[i][1]) return false
  return true
}

export const useStatsStore = defineStore('stats', () => {
  const overview = shallowRef<Overview | null>(null)
  /** The overview without the category filter: the category ring's data (the same object when none is set). */
  const categoryMix = shallowRef<Overview | null>(null)
  const loop = shallowRef<LoopStats | null>(null)
  const hourly = shallowRef<Hourly | null>(null)
  const streets = shallowRef<Ranking | null>(null)
  const departments = shallowRef<Ranking | null>(null)
  const heat = shallowRef<Heat | null>(null)
  /**
   * Bumped only when the heatmap's points changed: a refresh that brings the same points keeps the same array, so
   * the wall's map has nothing to redraw (a heatmap re-aggregates on the GPU whenever its data change).
   */
  const heatRevision = ref(0)
  const error = ref<string | null>(null)
  /** Client ms of the last successful refresh, and how many ran (tests and the status line read them). */
  const refreshedAt = ref<number | null>(null)
  const refreshes = ref(0)

  /**
   * What the figures are about. `area`: the street ranking is the area's (all streets), not the selected street's,
   * so the red/black list stays whole; `region`: the selected street, else the area.
   */
  const scope: StatsScope = { region: null, area: null, category: null, department: null, heatWindow: 'today' }
  let token = 0
  let running: Promise<void> | null = null
  let again = false

  async function refreshNow(): Promise<void> {
    const my = ++token
    const { region, area, category, department, heatWindow } = scope
    const f: StatsFilter = { region, category, department }
    try {
      const [o, mix, l, h, s, d, ht] = await Promise.all([
        fetchOverview(f),
        category ? fetchOverview({ ...f, category: null }) : null,
        fetchLoopByDay(f),
        fetchHourly(f),
        fetchRanking('street', { ...f, region: area }),
        fetchRanking('department', { ...f, department: null }),
        fetchHeat(heatWindow, f),
      ])
      if (my !== token) return
      overview.value = o
      categoryMix.value = mix ?? o
      loop.value = l
      hourly.value = h
      streets.value = s
      departments.value = d
      const before = heat.value
      if (before && samePoints(before.points, ht.points)) ht.points = before.points
      else heatRevision.value++
      heat.value = ht
      error.value = null
      refreshedAt.value = Date.now()
      refreshes.value++
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err)
      throw err
    }
  }

  /** One refresh at a time; a call while one runs queues exactly one more. */
  function refresh(): Promise<void> {
    if (running) {
      again = true
      return running
    }
    running = refreshNow().finally(() => {
      running = null
      if (again) {
        again = false
        void refresh().catch(() => {})
      }
    })
    return running
  }

  let eventTimer: ReturnType<typeof setTimeout> | undefined
  /** A case changed somewhere: refresh soon (coalesced). */
  function noteChange(): void {
    if (eventTimer) return
    eventTimer = setTimeout(() => {
      eventTimer = undefined
      void refresh().catch(() => {})
    }, EVENT_REFRESH_MS)
  }

  function setScope(next: Partial<StatsScope>): void {
    let changed = false
    for (const key of Object.keys(next) as Array<keyof StatsScope>) {
      const v = next[key]
      if (v === undefined || v === scope[key]) continue
      ;(scope as Record<keyof StatsScope, unknown>)[key] = v
      changed = true
    }
    if (changed) void refresh().catch(() => {})
  }

  let periodic: ReturnType<typeof setInterval> | undefined
  function start(): void {
    if (periodic) return
    void refresh().catch(() => {})
    periodic = setInterval(() => void refresh().catch(() => {}), PERIODIC_REFRESH_MS)
  }
  function stop(): void {
    clearInterval(periodic)
    clearTimeout(eventTimer)
    periodic = undefined
    eventTimer = undefined
  }

  return { overview, categoryMix, loop, hourly, streets, departments, heat, heatRevision, error, refreshedAt, refreshes, refresh, noteChange, setScope, start, stop }
})
