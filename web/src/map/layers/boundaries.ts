/**
 * Street (level 2) and community (level 3) boundaries: thin lines between the grids and the districts, so the
 * hierarchy reads at every zoom (communities only from z11, where they are large enough to matter).
 */
import type { ExpressionSpecification, GeoJSONSourceSpecification, LayerSpecification } from 'maplibre-gl'
import { LAYER, SOURCE } from '../layer-ids.ts'
import { emptyGeoJsonSource } from './empty.ts'

export const STREET_COLOR = '#7fe3ff'
export const COMMUNITY_COLOR = '#4aa8c8'
export const COMMUNITY_MIN_ZOOM = 11

const SELECTED: ExpressionSpecification = ['boolean', ['feature-state', 'selected'], false]

export function streetSource(): GeoJSONSourceSpecification {
  return emptyGeoJsonSource({ promoteId: 'id' })
}
export function communitySource(): GeoJSONSourceSpecification {
  return emptyGeoJsonSource({ promoteId: 'id' })
}

export function boundaryLayers(): LayerSpecification[] {
  return [
    {
      id: LAYER.communityOutline,
      type: 'line',
      source: SOURCE.communities,
      minzoom: COMMUNITY_MIN_ZOOM,
      paint: { 'line-color': COMMUNITY_COLOR, 'line-width': 1, 'line-dasharray': [3, 2], 'line-opacity': 0.7 },
    },
    {
      id: LAYER.streetOutline,
      type: 'line',
      source: SOURCE.streets,
      layout: { 'line-join': 'round' },
      paint: {
        'line-color': ['case', SELECTED, '#ffffff', STREET_COLOR],
        // A zoom curve must be the outermost expression (MapLibre refuses it inside `case`): the selection inside it.
        'line-width': ['interpolate', ['linear'], ['zoom'], 9, ['case', SELECTED, 4, 1.2], 13, ['case', SELECTED, 4, 2.4]],
        'line-opacity': 0.85,
      },
    },
  ]
}
