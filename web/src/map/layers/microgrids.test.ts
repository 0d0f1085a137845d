import { describe, expect, it } from 'vitest'
import { COLLECTION_IDS } from '../../../../server/src/repos/features.ts'
import { LAYER, LAYER_ORDER, SOURCE } from '../layer-ids.ts'
import { allLayers, allSources } from './index.ts'
import { MICROGRID_MIN_ZOOM, MICROGRID_SOURCE_LAYER, microgridLayers, microgridSource } from './microgrids.ts'

describe('micro-grid vector tile layers', () => {
  it('fetch absolute tile URLs from the given origin, from z12', () => {
    const src = microgridSource('http://wall.local:8080')
    expect(src).toEqual({ type: 'vector', tiles: ['http://wall.local:8080/tiles/microgrids/{z}/{x}/{y}.mvt'], minzoom: 12, maxzoom: 16 })
  })

  it('draw a fill and an outline from the layer the server names "microgrids", only when zoomed in', () => {
    expect(COLLECTION_IDS).toContain(MICROGRID_SOURCE_LAYER)
    const layers = microgridLayers()
    expect(layers.map((l) => [l.id, l.type])).toEqual([
      [LAYER.microgridFill, 'fill'],
      [LAYER.microgridOutline, 'line'],
    ])
    for (const l of layers) {
      expect(l).toMatchObject({ source: SOURCE.microgrids, 'source-layer': 'microgrids', minzoom: MICROGRID_MIN_ZOOM })
    }
  })

  it('are registered with the map, between the grid fill and the grid outline', () => {
    expect(allSources()[SOURCE.microgrids].type).toBe('vector')
    const ids = allLayers().map((l) => l.id)
    expect(ids.indexOf(LAYER.gridFill)).toBeLessThan(ids.indexOf(LAYER.microgridFill))
    expect(ids.indexOf(LAYER.microgridOutline)).toBeLessThan(ids.indexOf(LAYER.gridOutline))
    expect(LAYER_ORDER).toEqual(expect.arrayContaining([LAYER.microgridFill, LAYER.microgridOutline]))
  })
})
