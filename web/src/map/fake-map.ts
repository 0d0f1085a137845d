/**
 * For unit tests: the part of MapLibre's Map that MapController uses (LayerHost), in memory, with MapLibre's rules
 * that matter to a diff — no duplicate ids, no layer without its source, no source removed under a layer, `beforeId`
 * must exist — and a log of every call.
 */
import type { LayerSpecification, SourceSpecification } from 'maplibre-gl'
import type { LayerHost } from './map-controller.ts'

interface FakeSource {
  spec: SourceSpecification
  data: unknown
  setData(data: unknown): void
}

export class FakeMap {
  readonly sources = new Map<string, FakeSource>()
  /** Bottom to top, as MapLibre keeps them (copies: the diff must not rely on the specs it passed). */
  readonly layers: LayerSpecification[] = []
  calls: string[] = []
  /** Layer ids whose spec MapLibre would find invalid: addLayer adds nothing (MapLibre fires 'error' and returns). */
  readonly invalid = new Set<string>()

  get host(): LayerHost {
    return this as unknown as LayerHost
  }

  /** Layer ids bottom to top. */
  order(): string[] {
    return this.layers.map((l) => l.id)
  }

  layer(id: string): LayerSpecification {
    const l = this.layers.find((x) => x.id === id)
    if (!l) throw new Error(`no layer ${id}`)
    return l
  }

  addSource(id: string, spec: SourceSpecification): void {
    if (this.sources.has(id)) throw new Error(`source ${id} exists`)
    const source: FakeSource = {
      spec,
      data: 'data' in spec ? spec.data : undefined,
      setData: (data) => {
        this.calls.push(`setData ${id}`)
        source.data = data
      },
    }
    this.sources.set(id, source)
    this.calls.push(`addSource ${id}`)
  }

  getSource(id: string): FakeSource | undefined {
    return this.sources.get(id)
  }

  removeSource(id: string): void {
    const user = this.layers.find((l) => 'source' in l && l.source === id)
    if (user) throw new Error(`source ${id} is used by layer ${user.id}`)
    this.sources.delete(id)
    this.calls.push(`removeSource ${id}`)
  }

  addLayer(spec: LayerSpecification, beforeId?: string): void {
    if (this.layers.some((l) => l.id === spec.id)) throw new Error(`layer ${spec.id} exists`)
    if ('source' in spec && typeof spec.source === 'string' && !this.sources.has(spec.source)) throw new Error(`layer ${spec.id}: no source ${spec.source}`)
    if (this.invalid.has(spec.id)) {
      this.calls.push(`addLayer ${spec.id} refused`)
      return
    }
    const copy = structuredClone(spec)
    if (beforeId === undefined) this.layers.push(copy)
    else {
      const i = this.layers.findIndex((l) => l.id === beforeId)
      if (i < 0) throw new Error(`no layer ${beforeId} to add ${spec.id} before`)
      this.layers.splice(i, 0, copy)
    }
    this.calls.push(`addLayer ${spec.id}${beforeId ? ` before ${beforeId}` : ''}`)
  }

  getLayer(id: string): LayerSpecification | undefined {
    return this.layers.find((l) => l.id === id)
  }

  removeLayer(id: string): void {
    const i = this.layers.findIndex((l) => l.id === id)
    if (i < 0) throw new Error(`no layer ${id}`)
    this.layers.splice(i, 1)
    this.calls.push(`removeLayer ${id}`)
  }

  moveLayer(id: string, beforeId?: string): void {
    const l = this.layer(id)
    this.layers.splice(this.layers.indexOf(l), 1)
    const i = beforeId === undefined ? this.layers.length : this.layers.findIndex((x) => x.id === beforeId)
    if (i < 0) throw new Error(`no layer ${beforeId} to move ${id} before`)
    this.layers.splice(i, 0, l)
    this.calls.push(`moveLayer ${id}${beforeId ? ` before ${beforeId}` : ''}`)
  }

  setPaintProperty(id: string, key: string, value: unknown): void {
    const l = this.layer(id) as { paint?: Record<string, unknown> }
    l.paint = { ...l.paint, [key]: value }
    if (value === undefined) delete l.paint[key]
    this.calls.push(`setPaintProperty ${id} ${key}`)
  }

  setLayoutProperty(id: string, key: string, value: unknown): void {
    const l = this.layer(id) as { layout?: Record<string, unknown> }
    l.layout = { ...l.layout, [key]: value }
    if (value === undefined) delete l.layout[key]
    this.calls.push(`setLayoutProperty ${id} ${key}`)
  }

  setFilter(id: string, filter: unknown): void {
    const l = this.layer(id) as { filter?: unknown }
    if (filter == null) delete l.filter
    else l.filter = filter
    this.calls.push(`setFilter ${id}`)
  }

  setLayerZoomRange(id: string, min: number, max: number): void {
    Object.assign(this.layer(id), { minzoom: min, maxzoom: max })
    this.calls.push(`setLayerZoomRange ${id}`)
  }
}
