/** The camera radius around the selected case (视频联动): a faint fill and a dashed ring, while its candidates are in. */
import { circle } from '@turf/turf'
import { EMPTY_FC } from '../../lib/geojson.ts'
import { DISPATCH_LAYER, DISPATCH_SOURCE } from '../layer-ids.ts'
import type { MapLayers } from '../map-controller.ts'

export const RADIUS_COLOR = '#00e5ff'

/** `centre` null: nothing drawn. */
export function dispatchRadiusLayer(centre: [lon: number, lat: number] | null, radiusM: number): MapLayers {
  const data: GeoJSON.FeatureCollection = centre ? { type: 'FeatureCollection', features: [circle(centre, radiusM, { units: 'meters', steps: 64 })] } : EMPTY_FC
  return {
    sources: { [DISPATCH_SOURCE.radius]: { type: 'geojson', data } },
    layers: [
      { id: DISPATCH_LAYER.radiusFill, type: 'fill', source: DISPATCH_SOURCE.radius, paint: { 'fill-color': RADIUS_COLOR, 'fill-opacity': 0.08 } },
      { id: DISPATCH_LAYER.radiusLine, type: 'line', source: DISPATCH_SOURCE.radius, paint: { 'line-color': RADIUS_COLOR, 'line-width': 1.5, 'line-dasharray': [2, 2] } },
    ],
  }
}
