/**
 * The signed-in user's jurisdiction: one region outlined in the header chip's teal, with a wide soft glow, above the
 * district lines. Empty when signed out or when the user's scope is everything.
 */
import type { GeoJSONSourceSpecification, LayerSpecification } from 'maplibre-gl'
import { LAYER, SOURCE } from '../layer-ids.ts'
import { emptyGeoJsonSource } from './empty.ts'

export const SCOPE_COLOR = '#1de9b6'

export function scopeSource(): GeoJSONSourceSpecification {
  return emptyGeoJsonSource()
}

export function scopeLayers(): LayerSpecification[] {
  return [
    {
      id: LAYER.scopeGlow,
      type: 'line',
      source: SOURCE.scope,
      layout: { 'line-join': 'round', 'line-cap': 'round' },
      paint: {
        'line-color': SCOPE_COLOR,
        'line-width': ['interpolate', ['linear'], ['zoom'], 9, 8, 14, 16],
        'line-blur': ['interpolate', ['linear'], ['zoom'], 9, 6, 14, 12],
        'line-opacity': 0.45,
      },
    },
    {
      id: LAYER.scopeOutline,
      type: 'line',
      source: SOURCE.scope,
      layout: { 'line-join': 'round', 'line-cap': 'round' },
      paint: {
        'line-color': SCOPE_COLOR,
        'line-width': ['interpolate', ['linear'], ['zoom'], 9, 2.5, 14, 4.5],
      },
    },
  ]
}
