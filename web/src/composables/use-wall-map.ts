/**
 * Wires the wall's stores to the map MapView made: the WallMapController (deck.gl + wall paint), the street and
 * community boundaries, a click on the map selecting a street (the panels follow), framing the wall's area, and the
 * auto-tour (through the streets, one every `tour.periodS`; any manual gesture stops it; the button or
 * `IDLE_RESUME_MS` without a gesture resumes it).
 */
import type { Map as MapLibreMap, MapMouseEvent } from 'maplibre-gl'
import { computed, onBeforeUnmount, watch, type Ref, type ShallowRef } from 'vue'
import type { Camera } from '../../../shared/schemas/camera.ts'
import { useBoundariesStore } from '../stores/boundaries.ts'
import { useCasesStore } from '../stores/cases.ts'
import { useRegionsStore } from '../stores/regions.ts'
import { useResourcesStore } from '../stores/resources.ts'
import { useStatsStore } from '../stores/stats.ts'
import { streetOf, useWallStore } from '../stores/wall.ts'
import { setSourceData } from '../map/create-map.ts'
import { labelsOf } from '../map/geo.ts'
import { LAYER, SOURCE } from '../map/layer-ids.ts'
import { WallMapController } from '../map/wall-layers.ts'
import type { MapLabel } from '../map/geo.ts'
import { useScale } from './use-scale.ts'

export const IDLE_RESUME_MS = 180_000
/** Community (level 3) names from this zoom on. */
export const COMMUNITY_LABEL_MIN_ZOOM = 12.5


/** Stable empties: the controller compares its inputs by reference. */
const NO_POINTS: ReadonlyArray<readonly number[]> = []
const NO_LABELS: ReadonlyArray<MapLabel> = []
export function useWallMap(map: ShallowRef<MapLibreMap | null | undefined> | Ref<MapLibreMap | null | undefined>, ready: Ref<boolean>, onCamera: (c: Camera | null) => void) {
  const wall = useWallStore()
  const stats = useStatsStore()
  const cases = useCasesStore()
  const resources = useResourcesStore()
  const boundaries = useBoundariesStore()
  const regions = useRegionsStore()
  const unit = useScale()
  let controller: WallMapController | null = null
  const stops: Array<() => void> = []
  let tourTimer: ReturnType<typeof setInterval> | undefined
  let idleTimer: ReturnType<typeof setTimeout> | undefined
  let tourIndex = -1
  let tourMoving = false
  let communityLabelsOn = false
  const streetLabels = computed(() => labelsOf(boundaries.streets?.features ?? []))
  const communityLabels = computed(() => labelsOf(boundaries.communities?.features ?? []))

  function push(): void {
    if (!controller) return
    controller.update({
      layers: { ...wall.layers },
      heatPoints: stats.heat?.points ?? NO_POINTS,
      // The points alone decide the heatmap (a sliding window's `from` moves on every refresh, its points rarely).
      heatKey: String(stats.heatRevision),
      workers: resources.workers,
      workerRevision: resources.workerRevision,
      cameras: resources.cameras,
      cameraRevision: resources.cameraRevision,
      cases: cases.openCases,
      caseRevision: cases.revision,
      choropleth: wall.choropleth,
      category: wall.category,
      street: wall.street,
      department: wall.department,
      streetLabels: streetLabels.value,
      communityLabels: communityLabelsOn ? communityLabels.value : NO_LABELS,
      unit: unit.value,
    })
  }

  function fit(m: MapLibreMap, bbox: [number, number, number, number] | null | undefined, animate: boolean): void {
    if (!bbox) return
    const pad = Math.round(60 * unit.value)
    m.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { padding: { top: pad, bottom: pad, left: Math.round(480 * unit.value), right: pad }, animate, duration: 2500, maxZoom: 14 })
  }

  /** Streets the tour visits: those of the wall's area (all when none). */
  function tourStreets(): string[] {
    const area = wall.area ?? regions.scope?.id ?? null
    return [...boundaries.streetInfo.keys()].filter((id) => !area || id.startsWith(area) || area.startsWith(id)).sort()
  }

  function tourStep(): void {
    const m = map.value
    if (!m || !wall.tour.running) return
    const list = tourStreets()
    if (!list.length) return
    tourIndex = (tourIndex + 1) % list.length
    const id = list[tourIndex]
    wall.tour.streetId = id
    tourMoving = true
    fit(m, boundaries.streetInfo.get(id)?.bbox, true)
    m.once('moveend', () => (tourMoving = false))
  }

  function gesture(kind: string): void {
    if (wall.tour.running) wall.stopTour(kind)
    clearTimeout(idleTimer)
    if (wall.tour.enabled) idleTimer = setTimeout(() => wall.resumeTour(), IDLE_RESUME_MS)
  }
  const onDomGesture = (e: Event) => {
    // The resume button itself is not a gesture against the tour.
    if ((e.target as HTMLElement | null)?.closest?.('[data-testid="tour-resume"]')) return
    gesture(e.type)
  }

  stops.push(
    watch(
      ready,
      (isReady) => {
        const m = map.value
        if (!isReady || !m || controller) return
        controller = new WallMapController(m, { onCamera })
        if (window.__gridcommand) Object.assign(window.__gridcommand, { wallMap: controller })
        m.on('click', (e: MapMouseEvent) => {
          if (tourMoving) return
          // A click on a camera opens its card (deck's onClick): it does not also pick the street under it.
          if (controller?.pickCamera(e.point.x, e.point.y)) return
          const hit = m.queryRenderedFeatures(e.point, { layers: [LAYER.gridFill] })[0]
          const id = hit?.properties?.id as string | undefined
          if (id) wall.setStreet(streetOf(id))
        })
        // A map move not started by code (originalEvent set) is a person: stop the tour.
        m.on('movestart', (e: { originalEvent?: Event }) => {
          if (e.originalEvent) gesture('map')
        })
        // Community names only where they are legible (they crowd the map further out): push when crossing.
        m.on('zoomend', () => {
          const show = m.getZoom() >= COMMUNITY_LABEL_MIN_ZOOM
          if (show !== communityLabelsOn) {
            communityLabelsOn = show
            push()
          }
        })
        communityLabelsOn = m.getZoom() >= COMMUNITY_LABEL_MIN_ZOOM
        push()
      },
      { immediate: true },
    ),
    watch([ready, () => boundaries.streets, () => boundaries.communities], ([isReady, s, c]) => {
      const m = map.value
      if (!isReady || !m) return
      if (s) void setSourceData(m, SOURCE.streets, s as unknown as GeoJSON.FeatureCollection)
      if (c) void setSourceData(m, SOURCE.communities, c as unknown as GeoJSON.FeatureCollection)
      push()
    }),
    watch(
      () => [
        wall.layers.boundaries, wall.layers.choropleth, wall.layers.microgrids, wall.layers.heatmap, wall.layers.cameras, wall.layers.workers, wall.layers.cases,
        wall.choropleth, wall.category, wall.street, wall.department, stats.heat, resources.workerRevision, resources.cameraRevision, cases.revision, unit.value,
      ],
      push,
    ),
    // A selected street: frame it. The area (`?region=`): frame it once its bbox is known.
    watch(
      () => wall.street,
      (id) => {
        const m = map.value
        if (m && id) fit(m, boundaries.streetInfo.get(id)?.bbox, true)
      },
    ),
    watch(
      [ready, () => wall.area, () => boundaries.streetInfo],
      ([isReady, area]) => {
        const m = map.value
        if (!isReady || !m || !area) return
        const info = boundaries.streetInfo.get(area)
        if (info) fit(m, info.bbox, false)
      },
      { immediate: true },
    ),
    watch(
      () => [wall.tour.running, wall.tour.periodS] as const,
      ([running, period]) => {
        clearInterval(tourTimer)
        if (running && period > 0) {
          tourStep()
          tourTimer = setInterval(tourStep, period * 1000)
        }
      },
      { immediate: true },
    ),
  )
  for (const type of ['pointerdown', 'wheel', 'keydown', 'touchstart']) window.addEventListener(type, onDomGesture, { capture: true, passive: true })

  onBeforeUnmount(() => {
    stops.forEach((s) => s())
    clearInterval(tourTimer)
    clearTimeout(idleTimer)
    for (const type of ['pointerdown', 'wheel', 'keydown', 'touchstart']) window.removeEventListener(type, onDomGesture, { capture: true })
    controller?.destroy()
    controller = null
  })

  return { push }
}
