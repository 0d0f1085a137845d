/**
 * One way to keep a map in step with state: a pure `layers(state)` returns the MapLibre sources and layers (and, for
 * a map with an overlay, its layers) the map should show; the controller diffs that against what it applied last,
 * by id, and adds, updates or removes only what changed. `update(state)` may be called any number of times per
 * frame: the latest state is applied once, on the next animation frame (the wall's rAF coalescing).
 *
 * MapLibre only: deck.gl comes in through the `overlay` argument (map/deck-overlay.ts), so a map without deck layers
 * — the field app's — never pulls deck.gl into its bundle. Keep it that way: no deck.gl import in this file.
 */
import type { GeoJSONSource, GeoJSONSourceSpecification, LayerSpecification, Map as MapLibreMap, SourceSpecification } from 'maplibre-gl'

/** What a map shows for one state. Layers bottom to top; ids stable (map/layer-ids.ts). */
export interface MapLayers<O = never> {
  /**
   * Source id → spec. A GeoJSON source's `data` is compared by reference (a new object → `setData`); any other change
   * to a source's spec makes the source, and the layers on it, anew.
   */
  sources: Readonly<Record<string, SourceSpecification>>
  layers: readonly LayerSpecification[]
  /** Layers handed as they are to the controller's overlay, which diffs them itself (deck.gl does, by id). */
  overlay?: readonly O[]
}

/** Something drawn over the map from its own layers (map/deck-overlay.ts). */
export interface MapOverlay<O> {
  setLayers(layers: readonly O[]): void
  destroy(): void
}

/** The part of MapLibre's Map the diff uses (unit tests hand it a fake). */
export type LayerHost = Pick<
  MapLibreMap,
  'addSource' | 'getSource' | 'removeSource' | 'addLayer' | 'getLayer' | 'removeLayer' | 'moveLayer' | 'setPaintProperty' | 'setLayoutProperty' | 'setFilter' | 'setLayerZoomRange'
>

/** Several factories' output as one, layers in the order given (or sorted by `order`: ids not in it go on top). */
export function combineLayers<O = never>(parts: ReadonlyArray<MapLayers<O>>, order?: readonly string[]): MapLayers<O> {
  const sources: Record<string, SourceSpecification> = {}
  const layers: LayerSpecification[] = []
  const overlay: O[] = []
  for (const p of parts) {
    Object.assign(sources, p.sources)
    layers.push(...p.layers)
    if (p.overlay) overlay.push(...p.overlay)
  }
  if (order) {
    const rank = (l: LayerSpecification) => {
      const i = order.indexOf(l.id)
      return i < 0 ? order.length : i
    }
    layers.sort((a, b) => rank(a) - rank(b))
  }
  return overlay.length ? { sources, layers, overlay } : { sources, layers }
}

const same = (a: unknown, b: unknown): boolean => a === b || JSON.stringify(a) === JSON.stringify(b)

/** A source's spec without a GeoJSON source's data: what, when it changes, needs the source made anew. */
function sourceShape(spec: SourceSpecification): string {
  if (spec.type !== 'geojson') return JSON.stringify(spec)
  const { data: _data, ...rest } = spec
  return JSON.stringify(rest)
}

const sourceOf = (l: LayerSpecification): string | undefined => ('source' in l ? (l.source as string) : undefined)
const sourceLayerOf = (l: LayerSpecification): string | undefined => ('source-layer' in l ? l['source-layer'] : undefined)

/** Whether `next` can be reached from `prev` by setting properties (else the layer is removed and added again). */
function sameKind(prev: LayerSpecification, next: LayerSpecification): boolean {
  return prev.type === next.type && sourceOf(prev) === sourceOf(next) && sourceLayerOf(prev) === sourceLayerOf(next)
}

type Props = Record<string, unknown>

function updateLayer(map: LayerHost, prev: LayerSpecification, next: LayerSpecification): void {
  const id = next.id
  for (const [group, set] of [
    ['paint', (k: string, v: unknown) => map.setPaintProperty(id, k as never, v as never)],
    ['layout', (k: string, v: unknown) => map.setLayoutProperty(id, k as never, v as never)],
  ] as const) {
    const a = ((prev as Props)[group] ?? {}) as Props
    const b = ((next as Props)[group] ?? {}) as Props
    // A property left out goes back to MapLibre's default (undefined).
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (!same(a[k], b[k])) set(k, b[k])
  }
  const fa = 'filter' in prev ? prev.filter : undefined
  const fb = 'filter' in next ? next.filter : undefined
  if (!same(fa, fb)) map.setFilter(id, fb ?? null)
  if (prev.minzoom !== next.minzoom || prev.maxzoom !== next.maxzoom) map.setLayerZoomRange(id, next.minzoom ?? 0, next.maxzoom ?? 24)
}

/**
 * Brings the map from `prev` (what was applied last; null: nothing yet) to `next`. A source or layer the map already
 * has but `prev` does not name is taken as it is (installing twice adds nothing). Layers are added top down, each
 * under the one above it, so a layer new in the middle lands in its place.
 */
export function applyLayers(map: LayerHost, prev: MapLayers<unknown> | null, next: MapLayers<unknown>): void {
  const prevSources = prev?.sources ?? {}
  const prevLayers = new Map((prev?.layers ?? []).map((l) => [l.id, l]))
  const nextLayers = new Map(next.layers.map((l) => [l.id, l]))
  const remade = new Set(Object.keys(next.sources).filter((id) => prevSources[id] && sourceShape(prevSources[id]) !== sourceShape(next.sources[id])))

  // Layers that go, or that cannot be updated in place (MapLibre removes no source with layers on it).
  for (const [id, old] of prevLayers) {
    const now = nextLayers.get(id)
    const src = sourceOf(old)
    if ((!now || !sameKind(old, now) || (src !== undefined && remade.has(src))) && map.getLayer(id)) map.removeLayer(id)
  }
  for (const id of Object.keys(prevSources)) if ((!next.sources[id] || remade.has(id)) && map.getSource(id)) map.removeSource(id)
  for (const [id, spec] of Object.entries(next.sources)) {
    const source = map.getSource(id)
    if (!source) map.addSource(id, spec)
    else if (spec.type === 'geojson' && prevSources[id] && (prevSources[id] as GeoJSONSourceSpecification).data !== spec.data) {
      void (source as GeoJSONSource).setData(spec.data as GeoJSON.GeoJSON)
    }
  }

  // Under the nearest layer above that the map has: MapLibre refuses a spec it finds invalid (an 'error' event, no
  // layer), and one refused layer must not keep the layers below it off the map.
  let above: string | undefined
  for (let i = next.layers.length - 1; i >= 0; i--) {
    const spec = next.layers[i]
    const old = prevLayers.get(spec.id)
    if (!map.getLayer(spec.id)) map.addLayer(spec, above)
    else if (old) updateLayer(map, old, spec)
    if (map.getLayer(spec.id)) above = spec.id
  }
  // The layers kept from before, in a new order: move each under the one above it, top down.
  const kept = (layers: readonly LayerSpecification[], other: Map<string, LayerSpecification>) => layers.map((l) => l.id).filter((id) => other.has(id))
  if (prev && !same(kept(prev.layers, nextLayers), kept(next.layers, prevLayers))) {
    const onMap = next.layers.map((l) => l.id).filter((id) => map.getLayer(id))
    for (let i = onMap.length - 2; i >= 0; i--) map.moveLayer(onMap[i], onMap[i + 1])
  }
}

/**
 * Keeps a map showing `layers(state)`. Create it after the map's 'load' event; it owns the sources and layers those
 * factories name (and destroys the overlay with itself).
 */
export class MapController<S, O = never> {
  private pending: { state: S } | null = null
  private applied: MapLayers<O> | null = null
  private frame = 0
  private destroyed = false
  /** States applied so far (tests and benchmarks read it: at most one per frame). */
  flushes = 0

  constructor(
    private readonly map: LayerHost,
    private readonly layers: (state: S) => MapLayers<O>,
    private readonly overlay?: MapOverlay<O>,
  ) {}

  /** Queues the latest state; the map gets it on the next animation frame. */
  update(state: S): void {
    this.pending = { state }
    if (!this.frame && !this.destroyed) this.frame = requestAnimationFrame(() => this.flush())
  }

  /** Applies the queued state now (the first state, so the layers exist once the map reports ready). */
  flush(): void {
    cancelAnimationFrame(this.frame)
    this.frame = 0
    const p = this.pending
    this.pending = null
    if (!p || this.destroyed) return
    const next = this.layers(p.state)
    if (next.overlay?.length && !this.overlay) throw new Error('these map layers include overlay layers, but the controller was given no overlay')
    applyLayers(this.map, this.applied, next)
    this.overlay?.setLayers(next.overlay ?? [])
    this.applied = next
    this.flushes++
  }

  destroy(): void {
    this.destroyed = true
    cancelAnimationFrame(this.frame)
    this.overlay?.destroy()
  }
}
