import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec'
import type { LayerSpecification, SourceSpecification, StyleSpecification } from 'maplibre-gl'
import { describe, expect, it } from 'vitest'
import type { Case } from '../../../../shared/schemas/case.ts'
import type { Candidates } from '../../../../shared/schemas/dispatch.ts'
import type { RegionFeatureCollection } from '../../../../shared/schemas/region.ts'
import { baseStyle } from '../base-style.ts'
import { LAYER } from '../layer-ids.ts'
import { wallCasePaint } from './cases.ts'
import { dispatchMapLayers } from './dispatch-map.ts'
import { drillMapLayers } from './drill-map.ts'
import { fieldBaseStyle, fieldMapLayers } from './field-map.ts'
import { allLayers, allSources } from './index.ts'

/**
 * Every layer spec the maps hand MapLibre, checked by MapLibre's own style-spec validator. MapLibre refuses an
 * invalid layer at run time with a console error and draws nothing of it (a zoom curve nested inside `case` once
 * kept the wall's street outlines off the map): here it fails a test instead.
 */
function problems(sources: Record<string, SourceSpecification>, layers: readonly LayerSpecification[]): string[] {
  const base = baseStyle()
  const style: StyleSpecification = { ...base, sources: { ...base.sources, ...sources }, layers: [...base.layers, ...layers] }
  return validateStyleMin(style).map((e) => e.message)
}

const square: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]] }

describe('map layer specs pass the MapLibre style spec', () => {
  it('the wall: every source and layer, and the paint the wall sets on its case circles', () => {
    const layers = allLayers().map((l) => (l.id === LAYER.caseCircle ? { ...l, paint: { ...(l as { paint?: object }).paint, ...wallCasePaint() } } : l)) as LayerSpecification[]
    expect(problems(allSources(), layers)).toEqual([])
  })

  it('the dispatch map', () => {
    const c = { id: 'k1', lon: 0.5, lat: 0.5, priority: 'urgent', overdue: true, version: 1 } as Case
    const candidates = { caseId: 'k1', radiusM: 300, workers: [], cameras: [{ id: 'c1', name: 'cam', lon: 0.5, lat: 0.51, status: 'online', distanceM: 100 }] } as unknown as Candidates
    const grids = { type: 'FeatureCollection', features: [{ type: 'Feature', id: 'g', properties: { id: 'g', name: 'G', level: 4, parentId: 'p' }, geometry: square }] } as RegionFeatureCollection
    const out = dispatchMapLayers({ cases: [c], selected: c, candidates, grids })
    expect(problems(out.sources, out.layers)).toEqual([])
  })

  it('the drill map', () => {
    const fc = { type: 'FeatureCollection', features: [{ type: 'Feature', id: 'a', properties: { id: 'a', name: 'A', level: 3, parentId: 'p' }, geometry: square }] } as RegionFeatureCollection
    const checkins: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [0.5, 0.5] } }] }
    const out = drillMapLayers({ currentId: 'a', children: fc, siblings: fc, checkins })
    expect(problems(out.sources, out.layers)).toEqual([])
  })

  it('the field app\'s map, on its own light base', () => {
    const out = fieldMapLayers({ target: [0.5, 0.5], me: [0.4, 0.4], checkins: [[0.6, 0.6]] }, 'http://field.local')
    const base = fieldBaseStyle()
    const style: StyleSpecification = { ...base, sources: { ...out.sources }, layers: [...base.layers, ...out.layers] }
    expect(validateStyleMin(style).map((e) => e.message)).toEqual([])
  })

  it('fails on the kind of mistake it is here for', () => {
    const bad = { id: 'x', type: 'line', source: 'gc-streets', paint: { 'line-width': ['case', true, 4, ['interpolate', ['linear'], ['zoom'], 9, 1, 13, 2]] } }
    expect(problems(allSources(), [bad as LayerSpecification]).join('\n')).toMatch(/zoom/)
  })
})
