/** Grid outlines on the dispatcher's map: where the case lies (the regions store's grids, loaded for every page). */
import type { RegionFeatureCollection } from '../../../../shared/schemas/region.ts'
import { EMPTY_FC } from '../../lib/geojson.ts'
import { DISPATCH_LAYER, DISPATCH_SOURCE } from '../layer-ids.ts'
import type { MapLayers } from '../map-controller.ts'

export const DISPATCH_GRID_COLOR = '#8fb8d8'

export function dispatchGridsLayer(grids: RegionFeatureCollection | null): MapLayers {
  return {
    sources: { [DISPATCH_SOURCE.grids]: { type: 'geojson', data: (grids ?? EMPTY_FC) as unknown as GeoJSON.FeatureCollection } },
    layers: [
      {
        id: DISPATCH_LAYER.gridLines,
        type: 'line',
        source: DISPATCH_SOURCE.grids,
        paint: { 'line-color': DISPATCH_GRID_COLOR, 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 0.6, 16, 2], 'line-opacity': 0.7 },
      },
    ],
  }
}
