/**
 * The wall's own state (issue #7): which layers show, the heatmap window, the choropleth metric, the cross-filter
 * between panels and map (a category, a street), the auto-tour, the alert banner and the live-feed pulse
 * (events per minute, data freshness). Written by components (user gestures) and realtime/socket.ts (events).
 */
import { defineStore } from 'pinia'
import { computed, reactive, ref, shallowRef } from 'vue'
import type { Case } from '../../../shared/schemas/case.ts'
import type { HeatWindow } from '../../../shared/schemas/stats.ts'

export const WALL_LAYERS = ['boundaries', 'choropleth', 'microgrids', 'heatmap', 'cameras', 'workers', 'cases'] as const
export type WallLayer = (typeof WALL_LAYERS)[number]
export type ChoroplethMetric = 'open' | 'overdue'

export interface WallAlert {
  id: number
  caseId: string
  code: string
  kind: 'urgent' | 'escalated' | 'overdue'
  at: number
}

/** How long an alert stays on the banner. */
export const ALERT_MS = 15_000
/** No frame and no statistics refresh (every 30 s) for this long: the figures are stale. */
export const STALE_MS = 75_000
export const DEFAULT_TOUR_PERIOD_S = 20

/** Region id → its street's id: admin codes nest (district 6 digits, street 9, community 12, grid/micro-grid longer). */
export function streetOf(regionId: string): string | null {
  return regionId.length >= 9 ? regionId.slice(0, 9) : null
}

export const useWallStore = defineStore('wall', () => {
  const layers = reactive<Record<WallLayer, boolean>>({
    boundaries: true,
    choropleth: true,
    microgrids: true,
    heatmap: true,
    cameras: false,
    workers: true,
    cases: true,
  })
  const heatWindow = ref<HeatWindow>('today')
  const choropleth = ref<ChoroplethMetric>('open')

  /**
   * Cross-filter: a category family, a street and/or a department. Panels and map both read and write it: the case
   * layer and the feed apply `matches`, the statistics panels and the heatmap ask the stats API with the same filter
   * (stores/stats.ts; a panel is not narrowed by its own selection).
   */
  const category = ref<string | null>(null)
  const street = ref<string | null>(null)
  const department = ref<string | null>(null)
  /** The area the wall is about (`?region=` or the signed-in user's scope); null: everything the caller sees. */
  const area = ref<string | null>(null)
  /** What the statistics panels are asked for: the selected street, else the area. */
  const statsRegion = computed(() => street.value ?? area.value)

  function toggleLayer(l: WallLayer): void {
    layers[l] = !layers[l]
  }
  function setCategory(c: string | null): void {
    category.value = category.value === c ? null : c
  }
  function setStreet(s: string | null): void {
    street.value = street.value === s ? null : s
  }
  function setDepartment(d: string | null): void {
    department.value = department.value === d ? null : d
  }
  function clearFilters(): void {
    category.value = null
    street.value = null
    department.value = null
  }
  /** Whether a case passes the cross-filter (the feed and the case layer use the same rule). */
  function matches(c: Case): boolean {
    if (category.value && c.category.split('.')[0] !== category.value) return false
    if (street.value && !c.regions.some((r) => r.id === street.value)) return false
    if (department.value && c.department !== department.value) return false
    return true
  }

  // ---- auto-tour
  const tour = reactive({ enabled: true, periodS: DEFAULT_TOUR_PERIOD_S, running: false, streetId: null as string | null, stoppedBy: null as string | null })
  function stopTour(by: string): void {
    if (!tour.running && tour.stoppedBy) return
    tour.running = false
    tour.stoppedBy = by
    tour.streetId = null
  }
  function resumeTour(): void {
    tour.running = true
    tour.stoppedBy = null
  }

  // ---- alerts
  const alerts = shallowRef<WallAlert[]>([])
  const sound = ref(false)
  let alertSeq = 0
  function pushAlert(c: Case, kind: WallAlert['kind']): WallAlert {
    const a: WallAlert = { id: ++alertSeq, caseId: c.id, code: c.code, kind, at: Date.now() }
    alerts.value = [a, ...alerts.value.filter((x) => Date.now() - x.at < ALERT_MS)].slice(0, 5)
    return a
  }
  function dismissAlert(id: number): void {
    alerts.value = alerts.value.filter((a) => a.id !== id)
  }

  // ---- the live link's pulse
  /** Client ms of each event applied in the last minute (a ring trimmed on every note). */
  const eventTimes: number[] = []
  const eventsPerMin = ref(0)
  const lastFrameAt = ref<number | null>(null)
  function noteEvent(now = Date.now()): void {
    eventTimes.push(now)
    trim(now)
  }
  function noteFrame(now = Date.now()): void {
    lastFrameAt.value = now
    trim(now)
  }
  function trim(now: number): void {
    let i = 0
    while (i < eventTimes.length && now - eventTimes[i] > 60_000) i++
    if (i) eventTimes.splice(0, i)
    eventsPerMin.value = eventTimes.length
  }

  return {
    layers, heatWindow, choropleth, category, street, department, area, statsRegion, toggleLayer, setCategory, setStreet, setDepartment, clearFilters, matches,
    tour, stopTour, resumeTour, alerts, sound, pushAlert, dismissAlert, eventsPerMin, lastFrameAt, noteEvent, noteFrame, trim,
  }
})
