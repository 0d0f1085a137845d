import { TextLayer } from '@deck.gl/layers'
import { describe, expect, it } from 'vitest'
import type { RegionFeatureCollection } from '../../../../shared/schemas/region.ts'
import { FakeMap } from '../fake-map.ts'
import type { MapLabel } from '../geo.ts'
import { DRILL_CHECKINS, DRILL_DECK_ID, DRILL_LAYER, DRILL_LAYER_ORDER, DRILL_SOURCE } from '../layer-ids.ts'
import { applyLayers } from '../map-controller.ts'
import { drillLabelsLayer } from './drill-labels.ts'
import { drillMapLayers } from './drill-map.ts'
import { DRILL_PALETTE, drillChildFeatures } from './drill-regions.ts'

/** Unit squares side by side: region `id` at x = i. */
function regions(ids: string[], level = 3): RegionFeatureCollection {
  return {
    type: 'FeatureCollection',
    features: ids.map((id, i) => ({
      type: 'Feature',
      id,
      properties: { id, name: `区域${id}`, level, parentId: 'p' },
      geometry: { type: 'Polygon', coordinates: [[[i, 0], [i + 1, 0], [i + 1, 1], [i, 1], [i, 0]]] },
    })),
  }
}
const dataOf = (out: ReturnType<typeof drillMapLayers>, id: string) => (out.sources[id] as { data: GeoJSON.FeatureCollection }).data
const labelsOf = (out: ReturnType<typeof drillMapLayers>) => {
  const layer = out.overlay![0] as TextLayer<MapLabel>
  return { id: layer.id, data: layer.props.data as MapLabel[] }
}

describe('drill-down map layers', () => {
  it('siblings without the current region, the current region on its own, its children coloured in turn', () => {
    const out = drillMapLayers({ currentId: 's2', siblings: regions(['s1', 's2', 's3'], 2), children: regions(['c1', 'c2'], 3) })
    expect(dataOf(out, DRILL_SOURCE.siblings).features.map((f) => f.properties!.id)).toEqual(['s1', 's3'])
    expect(dataOf(out, DRILL_SOURCE.current).features.map((f) => f.properties!.id)).toEqual(['s2'])
    expect(dataOf(out, DRILL_SOURCE.children).features.map((f) => [f.properties!.id, f.properties!.color])).toEqual([
      ['c1', DRILL_PALETTE[0]],
      ['c2', DRILL_PALETTE[1]],
    ])
    for (const id of Object.values(DRILL_SOURCE)) expect(out.sources[id]).toMatchObject({ type: 'geojson', promoteId: 'id' })
  })

  it('the palette repeats after its last colour', () => {
    const many = drillChildFeatures(regions(Array.from({ length: DRILL_PALETTE.length + 2 }, (_, i) => `c${i}`)).features)
    expect(many.map((f) => (f.properties as { color?: string }).color).slice(-2)).toEqual([DRILL_PALETTE[0], DRILL_PALETTE[1]])
  })

  it('layers in DRILL_LAYER_ORDER: siblings, the current fill under the children, its outline on top', () => {
    const out = drillMapLayers({ currentId: null, siblings: regions([]), children: regions(['c1']) })
    expect(out.layers.map((l) => l.id)).toEqual([...DRILL_LAYER_ORDER])
    // The check-ins' dots above everything; of the regions, the current outline on top.
    expect(out.layers.at(-1)).toMatchObject({ id: DRILL_CHECKINS.layer })
    expect(out.layers.at(-2)).toMatchObject({ id: DRILL_LAYER.currentLine, source: DRILL_SOURCE.current })
    expect(out.layers.find((l) => l.id === DRILL_LAYER.childrenFill)?.paint).toMatchObject({ 'fill-color': ['get', 'color'] })
  })

  it('names the children, or at a region without children (a micro-grid) the region itself', () => {
    const withKids = drillMapLayers({ currentId: 's1', siblings: regions(['s1', 's2'], 4), children: regions(['c1', 'c2'], 5) })
    expect(labelsOf(withKids).id).toBe(DRILL_DECK_ID.labels)
    expect(labelsOf(withKids).data.map((l) => [l.id, l.name, l.at])).toEqual([
      ['c1', '区域c1', [0.5, 0.5]],
      ['c2', '区域c2', [1.5, 0.5]],
    ])
    const leaf = drillMapLayers({ currentId: 's2', siblings: regions(['s1', 's2'], 5), children: regions([]) })
    expect(labelsOf(leaf).data.map((l) => l.id)).toEqual(['s2'])
  })

  it('labels are a deck.gl TextLayer in the overlay, not DOM markers or MapLibre layers', () => {
    const out = drillLabelsLayer([{ id: 'a', name: '甲', at: [1, 2] }])
    expect(out.layers).toEqual([])
    expect(out.sources).toEqual({})
    expect(out.overlay?.[0]).toBeInstanceOf(TextLayer)
  })

  it('moving to a sibling re-sends the three sources and touches no layer', () => {
    const map = new FakeMap()
    const siblings = regions(['s1', 's2'], 2)
    const first = drillMapLayers({ currentId: 's1', siblings, children: regions(['a1']) })
    applyLayers(map.host, null, first)
    expect(map.order()).toEqual([...DRILL_LAYER_ORDER])
    map.calls = []
    applyLayers(map.host, first, drillMapLayers({ currentId: 's2', siblings, children: regions(['b1', 'b2']) }))
    expect(map.calls.sort()).toEqual(Object.values(DRILL_SOURCE).map((id) => `setData ${id}`).sort())
  })

  it('visit check-ins: points of their own source, empty until the store has some', () => {
    const none = drillMapLayers({ currentId: null, siblings: regions([]), children: regions(['a']) })
    expect((none.sources[DRILL_CHECKINS.source] as { data: GeoJSON.FeatureCollection }).data.features).toEqual([])
    const fc: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [{ type: 'Feature', id: 'k', properties: {}, geometry: { type: 'Point', coordinates: [0.5, 0.5] } }] }
    const some = drillMapLayers({ currentId: null, siblings: regions([]), children: regions(['a']), checkins: fc })
    expect((some.sources[DRILL_CHECKINS.source] as { data: GeoJSON.FeatureCollection }).data).toBe(fc)
    expect(some.layers.find((l) => l.id === DRILL_CHECKINS.layer)).toMatchObject({ type: 'circle', source: DRILL_CHECKINS.source })
  })
})
