import type { LayerSpecification } from 'maplibre-gl'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { EMPTY_FC } from '../lib/geojson.ts'
import { FakeMap } from './fake-map.ts'
import { applyLayers, combineLayers, MapController, type MapLayers, type MapOverlay } from './map-controller.ts'

const points = (n: number): GeoJSON.FeatureCollection => ({
  type: 'FeatureCollection',
  features: Array.from({ length: n }, (_, i) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [i, i] }, properties: {} })),
})
const fill = (id: string, source: string, color = '#000'): LayerSpecification => ({ id, type: 'fill', source, paint: { 'fill-color': color } })
const line = (id: string, source: string): LayerSpecification => ({ id, type: 'line', source, paint: { 'line-width': 1 } })

/** Two sources, three layers: what a small map shows for some state. */
function base(data: GeoJSON.FeatureCollection = EMPTY_FC): MapLayers {
  return {
    sources: { a: { type: 'geojson', data }, b: { type: 'geojson', data: EMPTY_FC, promoteId: 'id' } },
    layers: [fill('a-fill', 'a'), line('a-line', 'a'), fill('b-fill', 'b')],
  }
}

describe('applyLayers', () => {
  it('adds every source and every layer, bottom to top, on a map that has none', () => {
    const map = new FakeMap()
    applyLayers(map.host, null, base())
    expect([...map.sources.keys()]).toEqual(['a', 'b'])
    expect(map.order()).toEqual(['a-fill', 'a-line', 'b-fill'])
  })

  it('does nothing for the same state rebuilt (new spec objects, same data)', () => {
    const map = new FakeMap()
    const first = base()
    applyLayers(map.host, null, first)
    map.calls = []
    applyLayers(map.host, first, base())
    expect(map.calls).toEqual([])
  })

  it('hands new data to its GeoJSON source only', () => {
    const map = new FakeMap()
    const first = base()
    applyLayers(map.host, null, first)
    map.calls = []
    const data = points(3)
    applyLayers(map.host, first, base(data))
    expect(map.calls).toEqual(['setData a'])
    expect(map.sources.get('a')!.data).toBe(data)
  })

  it('sets the paint, layout, filter and zoom range that changed, and unsets what was left out', () => {
    const map = new FakeMap()
    const first = base()
    applyLayers(map.host, null, first)
    map.calls = []
    const next = base()
    next.layers = [
      { id: 'a-fill', type: 'fill', source: 'a', paint: { 'fill-opacity': 0.5 }, layout: { visibility: 'none' }, filter: ['==', ['get', 'k'], 1], minzoom: 12 },
      line('a-line', 'a'),
      fill('b-fill', 'b'),
    ]
    applyLayers(map.host, first, next)
    expect(map.calls.sort()).toEqual(['setFilter a-fill', 'setLayerZoomRange a-fill', 'setLayoutProperty a-fill visibility', 'setPaintProperty a-fill fill-color', 'setPaintProperty a-fill fill-opacity'])
    expect(map.layer('a-fill')).toMatchObject({ paint: { 'fill-opacity': 0.5 }, layout: { visibility: 'none' }, filter: ['==', ['get', 'k'], 1], minzoom: 12 })
    expect(map.layer('a-fill')).not.toHaveProperty(['paint', 'fill-color'])
    map.calls = []
    applyLayers(map.host, next, first)
    expect(map.layer('a-fill')).not.toHaveProperty('filter')
    expect(map.layer('a-fill')).toMatchObject({ paint: { 'fill-color': '#000' }, minzoom: 0, maxzoom: 24 })
  })

  it('removes the layers and sources that went, layers first', () => {
    const map = new FakeMap()
    const first = base()
    applyLayers(map.host, null, first)
    map.calls = []
    applyLayers(map.host, first, { sources: { a: first.sources.a }, layers: [fill('a-fill', 'a')] })
    expect(map.calls).toEqual(['removeLayer a-line', 'removeLayer b-fill', 'removeSource b'])
    expect(map.order()).toEqual(['a-fill'])
  })

  it('puts a new layer in its place among the others', () => {
    const map = new FakeMap()
    const first = base()
    applyLayers(map.host, null, first)
    const next = { ...base(), layers: [fill('a-fill', 'a'), line('a-line', 'a'), line('b-line', 'b'), fill('b-fill', 'b')] }
    applyLayers(map.host, first, next)
    expect(map.order()).toEqual(['a-fill', 'a-line', 'b-line', 'b-fill'])
  })

  it('makes a source anew when its spec changed beyond its data, with the layers on it, in their places', () => {
    const map = new FakeMap()
    const first = base()
    applyLayers(map.host, null, first)
    map.calls = []
    const next = base()
    next.sources = { ...next.sources, a: { type: 'geojson', data: EMPTY_FC, promoteId: 'id' } }
    applyLayers(map.host, first, next)
    expect(map.calls).toEqual(['removeLayer a-fill', 'removeLayer a-line', 'removeSource a', 'addSource a', 'addLayer a-line before b-fill', 'addLayer a-fill before a-line'])
    expect(map.order()).toEqual(['a-fill', 'a-line', 'b-fill'])
    expect(map.sources.get('a')!.spec).toMatchObject({ promoteId: 'id' })
  })

  it('adds a layer again when its type or source changed', () => {
    const map = new FakeMap()
    const first = base()
    applyLayers(map.host, null, first)
    map.calls = []
    const next = { ...base(), layers: [fill('a-fill', 'a'), { id: 'a-line', type: 'circle', source: 'b' } as LayerSpecification, fill('b-fill', 'b')] }
    applyLayers(map.host, first, next)
    expect(map.calls).toEqual(['removeLayer a-line', 'addLayer a-line before b-fill'])
    expect(map.layer('a-line')).toMatchObject({ type: 'circle', source: 'b' })
  })

  it('follows a new order of the same layers', () => {
    const map = new FakeMap()
    const first = base()
    applyLayers(map.host, null, first)
    const next = { ...base(), layers: [fill('b-fill', 'b'), fill('a-fill', 'a'), line('a-line', 'a')] }
    applyLayers(map.host, first, next)
    expect(map.order()).toEqual(['b-fill', 'a-fill', 'a-line'])
  })

  it('keeps the layers below one that MapLibre refuses (an invalid spec) on the map, in order', () => {
    const map = new FakeMap()
    map.invalid.add('a-line')
    applyLayers(map.host, null, base())
    expect(map.order()).toEqual(['a-fill', 'b-fill'])
    expect(map.calls).toContain('addLayer a-fill before b-fill')
  })

  it('takes a source or layer the map already has as it is (installing twice adds nothing)', () => {
    const map = new FakeMap()
    applyLayers(map.host, null, base())
    map.sources.get('a')!.data = points(2)
    map.calls = []
    applyLayers(map.host, null, base())
    expect(map.calls).toEqual([])
    expect((map.sources.get('a')!.data as GeoJSON.FeatureCollection).features).toHaveLength(2)
  })
})

describe('combineLayers', () => {
  it('merges sources and keeps the layers in the order of the parts', () => {
    const out = combineLayers([base(), { sources: { c: { type: 'geojson', data: EMPTY_FC } }, layers: [line('c-line', 'c')] }])
    expect(Object.keys(out.sources)).toEqual(['a', 'b', 'c'])
    expect(out.layers.map((l) => l.id)).toEqual(['a-fill', 'a-line', 'b-fill', 'c-line'])
    expect(out).not.toHaveProperty('overlay')
  })

  it('sorts by an order when given one (ids not in it on top) and gathers overlay layers', () => {
    const out = combineLayers<string>([base(), { sources: {}, layers: [], overlay: ['labels'] }], ['b-fill', 'a-line', 'a-fill'])
    expect(out.layers.map((l) => l.id)).toEqual(['b-fill', 'a-line', 'a-fill'])
    expect(out.overlay).toEqual(['labels'])
    const loose = combineLayers([base()], ['a-line'])
    expect(loose.layers.map((l) => l.id)).toEqual(['a-line', 'a-fill', 'b-fill'])
  })
})

describe('MapController', () => {
  const frames = new Map<number, () => void>()
  let lastFrame = 0
  beforeEach(() => {
    frames.clear()
    vi.stubGlobal('requestAnimationFrame', (fn: () => void) => (frames.set(++lastFrame, fn), lastFrame))
    vi.stubGlobal('cancelAnimationFrame', (id: number) => frames.delete(id))
  })
  afterEach(() => vi.unstubAllGlobals())
  const runFrames = () => {
    const due = [...frames.values()]
    frames.clear()
    due.forEach((f) => f())
  }

  type State = { n: number }
  const layersOf = (s: State): MapLayers<string> => ({ ...base(points(s.n)), overlay: [`labels-${s.n}`] })

  it('applies the latest of many updates once, on the next frame, layers and overlay together', () => {
    const map = new FakeMap()
    const overlay: MapOverlay<string> & { seen: string[][] } = { seen: [], setLayers: (l) => overlay.seen.push([...l]), destroy: vi.fn() }
    const ctl = new MapController<State, string>(map.host, layersOf, overlay)
    ctl.update({ n: 1 })
    ctl.update({ n: 2 })
    ctl.update({ n: 3 })
    expect(map.sources.size).toBe(0)
    expect(frames.size).toBe(1)
    runFrames()
    expect(ctl.flushes).toBe(1)
    expect((map.sources.get('a')!.data as GeoJSON.FeatureCollection).features).toHaveLength(3)
    expect(overlay.seen).toEqual([['labels-3']])
    map.calls = []
    ctl.update({ n: 4 })
    runFrames()
    expect(map.calls).toEqual(['setData a'])
    expect(overlay.seen).toEqual([['labels-3'], ['labels-4']])
  })

  it('flush() applies at once; after destroy() nothing is applied and the overlay is destroyed', () => {
    const map = new FakeMap()
    const overlay = { setLayers: vi.fn(), destroy: vi.fn() }
    const ctl = new MapController<State, string>(map.host, layersOf, overlay)
    ctl.update({ n: 1 })
    ctl.flush()
    expect(map.order()).toEqual(['a-fill', 'a-line', 'b-fill'])
    ctl.update({ n: 5 })
    ctl.destroy()
    runFrames()
    expect((map.sources.get('a')!.data as GeoJSON.FeatureCollection).features).toHaveLength(1)
    expect(overlay.destroy).toHaveBeenCalledOnce()
  })

  it('refuses overlay layers when it was given no overlay to draw them', () => {
    const ctl = new MapController<State, string>(new FakeMap().host, layersOf)
    ctl.update({ n: 1 })
    expect(() => ctl.flush()).toThrow(/no overlay/)
  })
})
