/**
 * Micro-grids (level 5) from the server's vector tiles: ≈14,000 polygons are too many to ship as one GeoJSON, so
 * MapLibre fetches /tiles/microgrids/{z}/{x}/{y}.mvt for the view, from z12 (the server sends none below z11).
 * A faint fill and a thin outline under the grid outlines, so grids still read as the main division.
 */
import type { LayerSpecification, VectorSourceSpecification } from 'maplibre-gl'
import { LAYER, SOURCE } from '../layer-ids.ts'
import type { MapLayers } from '../map-controller.ts'

export const MICROGRID_MIN_ZOOM = 12
/** Deepest zoom the tiles are fetched at; MapLibre over-zooms them beyond (polygons are ~100 m across). */
export const MICROGRID_MAX_TILE_ZOOM = 16
/** The layer name inside each tile: the server names it after the collection. */
export const MICROGRID_SOURCE_LAYER = 'microgrids'

const COLORS = { fill: '#2a8fc0', outline: '#6fd6ee' } as const

/**
 * Absolute, because MapLibre's workers fetch the tiles and have no page URL to resolve a relative one against.
 * `origin` defaults to the page's own (the server that served it serves the tiles).
 */
export function microgridTileUrl(origin: string = globalThis.location?.origin ?? '', boundaryVersion = 0): string {
  // `v` changes after a boundary import, so cached tiles of the old boundaries are not reused.
  return `${origin}/tiles/microgrids/{z}/{x}/{y}.mvt${boundaryVersion ? `?v=${boundaryVersion}` : ''}`
}

export function microgridSource(origin?: string): VectorSourceSpecification {
  return { type: 'vector', tiles: [microgridTileUrl(origin)], minzoom: MICROGRID_MIN_ZOOM, maxzoom: MICROGRID_MAX_TILE_ZOOM }
}

export function microgridLayers(): LayerSpecification[] {
  return [
    {
      id: LAYER.microgridFill,
      type: 'fill',
      source: SOURCE.microgrids,
      'source-layer': MICROGRID_SOURCE_LAYER,
      minzoom: MICROGRID_MIN_ZOOM,
      paint: { 'fill-color': COLORS.fill, 'fill-opacity': ['interpolate', ['linear'], ['zoom'], 12, 0.03, 16, 0.08] },
    },
    {
      id: LAYER.microgridOutline,
      type: 'line',
      source: SOURCE.microgrids,
      'source-layer': MICROGRID_SOURCE_LAYER,
      minzoom: MICROGRID_MIN_ZOOM,
      layout: { 'line-join': 'round' },
      paint: {
        'line-color': COLORS.outline,
        'line-width': ['interpolate', ['linear'], ['zoom'], 12, 0.4, 16, 1],
        'line-opacity': ['interpolate', ['linear'], ['zoom'], 12, 0.25, 14, 0.5],
      },
    },
  ]
}

/** Source and layers together, for a map kept by MapController (the dispatcher's). */
export function microgridsLayer(origin?: string): MapLayers {
  return { sources: { [SOURCE.microgrids]: microgridSource(origin) }, layers: microgridLayers() }
}
