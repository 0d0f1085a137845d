/**
 * The wall's map layers on top of MapView's: deck.gl (heatmap, workers, cameras, street labels) in the overlay of
 * deck-overlay.ts, plus the MapLibre pieces that depend on wall state (case colours and filter, choropleth feature-state, layer visibility).
 *
 * `update(state)` may be called any number of times per frame: the state is kept and applied once on the next
 * animation frame (rAF coalescing). Every deck layer is rebuilt from that state with the same id, so deck diffs them.
 */
import { HeatmapLayer } from '@deck.gl/aggregation-layers'
import type { Layer, PickingInfo } from '@deck.gl/core'
import { IconLayer, ScatterplotLayer, TextLayer } from '@deck.gl/layers'
import type { MapboxOverlay } from '@deck.gl/mapbox'
import type { FilterSpecification, Map as MapLibreMap } from 'maplibre-gl'
import type { Camera } from '../../../shared/schemas/camera.ts'
import type { Case } from '../../../shared/schemas/case.ts'
import type { ChoroplethMetric, WallLayer } from '../stores/wall.ts'
import type { LiveWorker } from '../stores/resources.ts'
import type { DeckIdle } from './deck-idle.ts'
import { createDeckOverlay, type DeckOverlay } from './deck-overlay.ts'
import { LABEL_FONT } from './base-style.ts'
import type { MapLabel } from './geo.ts'
import { DECK_ID, LAYER, SOURCE } from './layer-ids.ts'

import { wallCasePaint } from './layers/cases.ts'

export { ALARM_COLOR, STATUS_COLORS } from './layers/cases.ts'
export const WORKER_COLORS: Record<string, [number, number, number]> = {
  on_duty: [46, 196, 160],
  busy: [240, 228, 66],
  off_duty: [140, 150, 170],
}

export interface WallMapState {
  layers: Record<WallLayer, boolean>
  heatPoints: ReadonlyArray<readonly number[]>
  heatKey: string
  workers: ReadonlyMap<string, LiveWorker>
  workerRevision: number
  cameras: ReadonlyMap<string, Camera>
  cameraRevision: number
  cases: readonly Case[]
  caseRevision: number
  choropleth: ChoroplethMetric
  category: string | null
  street: string | null
  department: string | null
  streetLabels: ReadonlyArray<MapLabel>
  /** Community names: empty below the zoom they are legible at (use-wall-map decides). */
  communityLabels: ReadonlyArray<MapLabel>
  /** Design px → CSS px (theme.css --u): sizes of dots and labels follow the layout. */
  unit: number
}

export interface WallMapHandlers {
  onCamera(c: Camera | null): void
}


/** Two camera glyphs (online, offline) drawn once into a canvas: no image is fetched. */
function cameraAtlas(): { atlas: HTMLCanvasElement; mapping: Record<string, { x: number; y: number; width: number; height: number; mask: boolean }> } {
  const size = 64
  const c = document.createElement('canvas')
  c.width = size * 2
  c.height = size
  const g = c.getContext('2d')!
  const draw = (x0: number, fill: string, stroke: string, crossed: boolean) => {
    g.save()
    g.translate(x0, 0)
    g.fillStyle = '#061021'
    g.strokeStyle = stroke
    g.lineWidth = 5
    g.beginPath()
    g.roundRect(4, 14, 40, 36, 8)
    g.fill()
    g.stroke()
    g.beginPath()
    g.moveTo(46, 26)
    g.lineTo(60, 18)
    g.lineTo(60, 46)
    g.lineTo(46, 38)
    g.closePath()
    g.fillStyle = fill
    g.fill()
    g.beginPath()
    g.arc(24, 32, 9, 0, Math.PI * 2)
    g.fillStyle = fill
    g.fill()
    if (crossed) {
      g.strokeStyle = '#ffffff'
      g.lineWidth = 6
      g.beginPath()
      g.moveTo(6, 6)
      g.lineTo(58, 58)
      g.stroke()
    }
    g.restore()
  }
  draw(0, '#2ec4a0', '#2ec4a0', false)
  draw(size, '#8c96aa', '#8c96aa', true)
  return {
    atlas: c,
    mapping: {
      online: { x: 0, y: 0, width: size, height: size, mask: false },
      offline: { x: size, y: 0, width: size, height: size, mask: false },
    },
  }
}

export class WallMapController {
  readonly overlay: MapboxOverlay
  /** deck.gl's animation loop, paused while it has nothing to draw (deck-idle.ts). */
  readonly idle: DeckIdle
  private readonly deck: DeckOverlay
  private pending: WallMapState | null = null
  private frame = 0
  private destroyed = false
  private lastChoroKey = ''
  private gridCounts = new Map<string, number>()
  private selectedStreet: string | null = null
  private readonly atlas = cameraAtlas()
  private workerData: LiveWorker[] = []
  private workerRev = -1
  private cameraData: Camera[] = []
  private cameraRev = -1
  private lastCamerasVisible = false
  /** Flushes applied (the bench and tests read it: one per frame at most, whatever the event rate). */
  flushes = 0
  /**
   * Flushes that handed deck new layers. Every `setProps({ layers })` costs deck a frame, so a flush whose deck
   * inputs are all the same as the last one's (a case event, a stats refresh bringing the same heatmap) skips it
   * and leaves a resting deck at rest.
   */
  deckUpdates = 0
  private deckInputs: readonly unknown[] = []
  /** Community names drawn by the last flush (0 below COMMUNITY_LABEL_MIN_ZOOM or with boundaries off). */
  communityLabelCount = 0

  constructor(
    private readonly map: MapLibreMap,
    private readonly handlers: WallMapHandlers,
  ) {
    this.deck = createDeckOverlay(map)
    this.overlay = this.deck.overlay
    this.idle = this.deck.idle
  }

  update(state: WallMapState): void {
    this.pending = state
    if (!this.frame && !this.destroyed) this.frame = requestAnimationFrame(() => this.flush())
  }

  private flush(): void {
    this.frame = 0
    const s = this.pending
    this.pending = null
    if (!s || this.destroyed) return
    this.flushes++
    this.applyMapLibre(s)
    this.lastCamerasVisible = s.layers.cameras
    this.communityLabelCount = s.layers.boundaries ? s.communityLabels.length : 0
    const inputs = [
      s.heatPoints, s.heatKey, s.workerRevision, s.cameraRevision, s.streetLabels, s.communityLabels, s.street, s.unit,
      s.layers.heatmap, s.layers.workers, s.layers.cameras, s.layers.boundaries,
    ]
    if (inputs.length === this.deckInputs.length && inputs.every((v, i) => v === this.deckInputs[i])) return
    this.deckInputs = inputs
    this.deckUpdates++
    this.deck.setLayers(this.deckLayers(s))
  }

  private setVisible(ids: string[], on: boolean): void {
    for (const id of ids) if (this.map.getLayer(id)) this.map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none')
  }

  private applyMapLibre(s: WallMapState): void {
    const m = this.map
    this.setVisible([LAYER.streetOutline, LAYER.communityOutline], s.layers.boundaries)
    this.setVisible([LAYER.microgridFill, LAYER.microgridOutline], s.layers.microgrids)
    this.setVisible([LAYER.gridChoropleth], s.layers.choropleth)
    this.setVisible([LAYER.caseCircle, LAYER.casePulse], s.layers.cases)

    // Cases: colour by status, size by priority, an orange-red ring when overdue or escalated; the cross-filter.
    if (m.getLayer(LAYER.caseCircle)) {
      for (const [prop, value] of Object.entries(wallCasePaint())) m.setPaintProperty(LAYER.caseCircle, prop as 'circle-color', value)
      const filter: unknown[] = ['all']
      if (s.category) filter.push(['==', ['get', 'family'], s.category])
      if (s.street) filter.push(['==', ['get', 'street'], s.street])
      if (s.department) filter.push(['==', ['get', 'department'], s.department])
      m.setFilter(LAYER.caseCircle, filter.length > 1 ? (filter as FilterSpecification) : null)
    }

    // Choropleth: the count per grid as feature-state (no geometry re-sent); only when cases or the metric changed.
    const key = `${s.caseRevision}:${s.choropleth}`
    if (key !== this.lastChoroKey && m.getSource(SOURCE.grids)) {
      this.lastChoroKey = key
      const next = new Map<string, number>()
      for (const c of s.cases) {
        if (s.choropleth === 'overdue' && !c.overdue) continue
        const grid = c.regions.find((r) => r.level === 4)?.id
        if (grid) next.set(grid, (next.get(grid) ?? 0) + 1)
      }
      for (const id of this.gridCounts.keys()) if (!next.has(id)) m.setFeatureState({ source: SOURCE.grids, id }, { n: 0 })
      for (const [id, n] of next) if (this.gridCounts.get(id) !== n) m.setFeatureState({ source: SOURCE.grids, id }, { n })
      this.gridCounts = next
    }

    if (s.street !== this.selectedStreet && m.getSource(SOURCE.streets)) {
      if (this.selectedStreet) m.setFeatureState({ source: SOURCE.streets, id: this.selectedStreet }, { selected: false })
      if (s.street) m.setFeatureState({ source: SOURCE.streets, id: s.street }, { selected: true })
      this.selectedStreet = s.street
    }
  }

  private deckLayers(s: WallMapState): Layer[] {
    const u = s.unit
    if (s.workerRevision !== this.workerRev) {
      // Same order every time (Map insertion order), so deck's position transition moves each worker smoothly.
      this.workerData = [...s.workers.values()]
      this.workerRev = s.workerRevision
    }
    if (s.cameraRevision !== this.cameraRev) {
      this.cameraData = [...s.cameras.values()]
      this.cameraRev = s.cameraRevision
    }
    return [
      new HeatmapLayer<readonly number[]>({
        id: DECK_ID.heat,
        data: s.heatPoints as (readonly number[])[],
        visible: s.layers.heatmap,
        getPosition: (d) => [d[0], d[1]],
        getWeight: 1,
        radiusPixels: Math.round(30 * u),
        intensity: 1,
        threshold: 0.05,
        opacity: 0.75,
        updateTriggers: { getPosition: s.heatKey },
      }),
      new ScatterplotLayer<LiveWorker>({
        id: DECK_ID.workers,
        data: this.workerData,
        visible: s.layers.workers,
        getPosition: (d) => [d.lon, d.lat],
        getFillColor: (d) => (d.status === 'off_duty' ? [...WORKER_COLORS.off_duty, 110] : [...(WORKER_COLORS[d.status] ?? WORKER_COLORS.off_duty), 255]) as [number, number, number, number],
        stroked: false,
        radiusUnits: 'meters',
        getRadius: (d) => (d.status === 'off_duty' ? 12 : 30),
        radiusMinPixels: 1.2 * u,
        radiusMaxPixels: 7 * u,
        updateTriggers: { getPosition: s.workerRevision, getFillColor: s.workerRevision, getRadius: s.workerRevision },
        // Smooth motion between fixes (≈ every 10 s): glide over 1.5 s instead of jumping.
        transitions: { getPosition: { duration: 1500, type: 'interpolation' } },
      }),
      new IconLayer<Camera>({
        id: DECK_ID.cameras,
        data: this.cameraData,
        visible: s.layers.cameras,
        iconAtlas: this.atlas.atlas as never,
        iconMapping: this.atlas.mapping,
        getIcon: (d) => d.status,
        getPosition: (d) => [d.lon, d.lat],
        getSize: 26 * u,
        sizeUnits: 'pixels',
        pickable: true,
        onClick: (info: PickingInfo<Camera>) => {
          this.handlers.onCamera(info.object ?? null)
          return true
        },
        updateTriggers: { getIcon: s.cameraRevision },
      }),
      new TextLayer<MapLabel>({
        id: DECK_ID.communityLabels,
        data: s.communityLabels as MapLabel[],
        visible: s.layers.boundaries && s.communityLabels.length > 0,
        getPosition: (d) => d.at,
        getText: (d) => d.name,
        getSize: Math.max(14, 13 * u),
        sizeUnits: 'pixels',
        getColor: [160, 200, 225, 230],
        outlineWidth: 3,
        outlineColor: [4, 10, 22, 255],
        fontSettings: { sdf: true },
        characterSet: 'auto',
        fontFamily: LABEL_FONT,
        fontWeight: 400,
      }),
      new TextLayer<MapLabel>({
        id: DECK_ID.streetLabels,
        data: s.streetLabels as MapLabel[],
        visible: s.layers.boundaries,
        getPosition: (d) => d.at,
        getText: (d) => d.name,
        getSize: Math.max(14, 15 * u),
        sizeUnits: 'pixels',
        getColor: (d) => (d.id === s.street ? [255, 255, 255, 255] : [190, 236, 255, 235]),
        outlineWidth: 3,
        outlineColor: [4, 10, 22, 255],
        fontSettings: { sdf: true },
        characterSet: 'auto',
        fontFamily: LABEL_FONT,
        fontWeight: 600,
        updateTriggers: { getColor: s.street },
      }),
    ]
  }

  /** Whether a visible camera icon lies under this map point (CSS px in the map's container). */
  pickCamera(x: number, y: number): boolean {
    if (!this.lastCamerasVisible) return false
    try {
      return !!this.overlay.pickObject({ x, y, radius: 2, layerIds: [DECK_ID.cameras] })
    } catch {
      return false
    }
  }

  destroy(): void {
    this.destroyed = true
    cancelAnimationFrame(this.frame)
    this.deck.destroy()
  }
}
