import { describe, expect, it } from 'vitest'
import type { Case } from '../../../../shared/schemas/case.ts'
import type { CandidateCamera, Candidates } from '../../../../shared/schemas/dispatch.ts'
import type { RegionFeatureCollection } from '../../../../shared/schemas/region.ts'
import { EMPTY_FC } from '../../lib/geojson.ts'
import { FakeMap } from '../fake-map.ts'
import { DISPATCH_LAYER, DISPATCH_SOURCE, LAYER, SOURCE } from '../layer-ids.ts'
import { applyLayers } from '../map-controller.ts'
import { CAMERA_COLORS, dispatchCamerasLayer } from './dispatch-cameras.ts'
import { dispatchCaseData, dispatchCasesLayer, PRIORITY_COLORS } from './dispatch-cases.ts'
import { dispatchGridsLayer } from './dispatch-grids.ts'
import { dispatchMapLayers, selectedCandidates, type DispatchMapState } from './dispatch-map.ts'
import { dispatchRadiusLayer } from './dispatch-radius.ts'

const aCase = (id: string, over: Partial<Case> = {}): Case => ({ id, lon: 119.64, lat: 29.08, priority: 'normal', overdue: false, version: 1, ...over }) as Case
const camera = (id: string, status: 'online' | 'offline'): CandidateCamera => ({ id, name: `cam ${id}`, lon: 119.641, lat: 29.081, status, distanceM: 120 }) as CandidateCamera
const candidates = (caseId: string): Candidates => ({ caseId, radiusM: 300, workers: [], cameras: [camera('c1', 'online'), camera('c2', 'offline')] }) as unknown as Candidates
const grids: RegionFeatureCollection = {
  type: 'FeatureCollection',
  features: [{ type: 'Feature', id: 'g1', properties: { id: 'g1', name: '第一网格', level: 4, parentId: 'c1' }, geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] } }],
}

/** Metres between two lon/lat points (haversine). */
function metres([lon1, lat1]: number[], [lon2, lat2]: number[]): number {
  const r = Math.PI / 180
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a))
}

describe('dispatch map layers', () => {
  it('cases: a point per case with its priority, overdue flag and whether it is the selected one', () => {
    const fc = dispatchCaseData([aCase('a', { priority: 'urgent', overdue: true }), aCase('b', { lon: 120, lat: 30 })], 'b')
    expect(fc.features.map((f) => [f.id, f.geometry.coordinates, f.properties])).toEqual([
      ['a', [119.64, 29.08], { id: 'a', priority: 'urgent', overdue: true, selected: false }],
      ['b', [120, 30], { id: 'b', priority: 'normal', overdue: false, selected: true }],
    ])
    const { sources, layers } = dispatchCasesLayer([aCase('a')], null)
    expect(Object.keys(sources)).toEqual([DISPATCH_SOURCE.cases])
    expect(layers).toMatchObject([{ id: DISPATCH_LAYER.cases, type: 'circle', source: DISPATCH_SOURCE.cases }])
    expect(JSON.stringify(layers[0].paint)).toContain(PRIORITY_COLORS.urgent)
  })

  it('radius: a ring of the given metres round the case, or the shared empty collection', () => {
    expect(dispatchRadiusLayer(null, 300).sources[DISPATCH_SOURCE.radius]).toMatchObject({ data: EMPTY_FC })
    const data = dispatchRadiusLayer([119.64, 29.08], 300).sources[DISPATCH_SOURCE.radius] as { data: GeoJSON.FeatureCollection<GeoJSON.Polygon> }
    const ring = data.data.features[0].geometry.coordinates[0]
    expect(ring.length).toBeGreaterThan(60)
    for (const p of ring) expect(metres(p, [119.64, 29.08])).toBeCloseTo(300, -1)
    expect(dispatchRadiusLayer(null, 0).layers.map((l) => [l.id, l.type])).toEqual([
      [DISPATCH_LAYER.radiusFill, 'fill'],
      [DISPATCH_LAYER.radiusLine, 'line'],
    ])
  })

  it('cameras: a circle each, violet online and grey offline (a layer, not DOM markers)', () => {
    const { sources, layers } = dispatchCamerasLayer([camera('c1', 'online'), camera('c2', 'offline')])
    const fc = (sources[DISPATCH_SOURCE.cameras] as { data: GeoJSON.FeatureCollection }).data
    expect(fc.features.map((f) => f.properties)).toEqual([
      { id: 'c1', name: 'cam c1', status: 'online' },
      { id: 'c2', name: 'cam c2', status: 'offline' },
    ])
    expect(layers[0]).toMatchObject({ id: DISPATCH_LAYER.cameras, type: 'circle', paint: { 'circle-color': ['match', ['get', 'status'], 'offline', CAMERA_COLORS.offline, CAMERA_COLORS.online] } })
  })

  it('grids: the store’s collection itself (no copy, so it is re-sent only when the store replaces it), empty before it loads', () => {
    expect((dispatchGridsLayer(grids).sources[DISPATCH_SOURCE.grids] as { data: unknown }).data).toBe(grids)
    expect((dispatchGridsLayer(null).sources[DISPATCH_SOURCE.grids] as { data: unknown }).data).toBe(EMPTY_FC)
  })

  it('the whole map: micro-grids, grid lines, radius, cases, cameras, bottom to top', () => {
    const out = dispatchMapLayers({ grids, cases: [aCase('a')], selected: null, candidates: null })
    expect(out.layers.map((l) => l.id)).toEqual([
      LAYER.microgridFill,
      LAYER.microgridOutline,
      DISPATCH_LAYER.gridLines,
      DISPATCH_LAYER.radiusFill,
      DISPATCH_LAYER.radiusLine,
      DISPATCH_LAYER.cases,
      DISPATCH_LAYER.cameras,
    ])
    expect(Object.keys(out.sources).sort()).toEqual([...Object.values(DISPATCH_SOURCE), SOURCE.microgrids].sort())
    expect(out).not.toHaveProperty('overlay')
  })

  it('shows the radius and cameras only for the selected case’s own candidates', () => {
    const selected = aCase('a')
    expect(selectedCandidates(selected, candidates('a'))?.caseId).toBe('a')
    expect(selectedCandidates(selected, candidates('b'))).toBeNull()
    expect(selectedCandidates(null, candidates('a'))).toBeNull()
    const camerasOf = (s: DispatchMapState) => (dispatchMapLayers(s).sources[DISPATCH_SOURCE.cameras] as { data: GeoJSON.FeatureCollection }).data.features.length
    const radiusOf = (s: DispatchMapState) => (dispatchMapLayers(s).sources[DISPATCH_SOURCE.radius] as { data: GeoJSON.FeatureCollection }).data.features.length
    const stale = { grids, cases: [selected], selected, candidates: candidates('b') }
    expect([camerasOf(stale), radiusOf(stale)]).toEqual([0, 0])
    const fresh = { ...stale, candidates: candidates('a') }
    expect([camerasOf(fresh), radiusOf(fresh)]).toEqual([2, 1])
  })

  it('selecting a case re-sends the cases, radius and cameras, and leaves the grids and micro-grids alone', () => {
    const map = new FakeMap()
    const cases = [aCase('a'), aCase('b')]
    const before = dispatchMapLayers({ grids, cases, selected: null, candidates: null })
    applyLayers(map.host, null, before)
    expect(map.order()).toEqual(before.layers.map((l) => l.id))
    map.calls = []
    const after = dispatchMapLayers({ grids, cases, selected: cases[0], candidates: candidates('a') })
    applyLayers(map.host, before, after)
    expect(map.calls.sort()).toEqual([`setData ${DISPATCH_SOURCE.cameras}`, `setData ${DISPATCH_SOURCE.cases}`, `setData ${DISPATCH_SOURCE.radius}`])
  })
})
