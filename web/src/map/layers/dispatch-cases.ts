/**
 * The dispatcher's queue on the map: a circle per case coloured by priority, ringed red when overdue; the selected
 * one larger and opaque. A click selects (DispatchMap.vue binds it to DISPATCH_LAYER.cases).
 */
import type { ExpressionSpecification } from 'maplibre-gl'
import type { Case } from '../../../../shared/schemas/case.ts'
import { DISPATCH_LAYER, DISPATCH_SOURCE } from '../layer-ids.ts'
import type { MapLayers } from '../map-controller.ts'

export const PRIORITY_COLORS = { urgent: '#ff4d5e', high: '#ffc400', other: '#1de9b6' } as const
export const OVERDUE_RING = '#ff4d5e'

export interface DispatchCaseProps {
  id: string
  priority: string
  overdue: boolean
  selected: boolean
}

export function dispatchCaseData(cases: readonly Case[], selectedId: string | null): GeoJSON.FeatureCollection<GeoJSON.Point, DispatchCaseProps> {
  return {
    type: 'FeatureCollection',
    features: cases.map((c) => ({
      type: 'Feature',
      id: c.id,
      geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
      properties: { id: c.id, priority: c.priority, overdue: c.overdue, selected: c.id === selectedId },
    })),
  }
}

const PRIORITY_COLOR: ExpressionSpecification = ['match', ['get', 'priority'], 'urgent', PRIORITY_COLORS.urgent, 'high', PRIORITY_COLORS.high, PRIORITY_COLORS.other]

export function dispatchCasesLayer(cases: readonly Case[], selectedId: string | null): MapLayers {
  return {
    sources: { [DISPATCH_SOURCE.cases]: { type: 'geojson', data: dispatchCaseData(cases, selectedId) } },
    layers: [
      {
        id: DISPATCH_LAYER.cases,
        type: 'circle',
        source: DISPATCH_SOURCE.cases,
        paint: {
          'circle-radius': ['case', ['get', 'selected'], 11, 6],
          'circle-color': PRIORITY_COLOR,
          'circle-stroke-color': ['case', ['get', 'overdue'], OVERDUE_RING, '#ffffff'],
          'circle-stroke-width': ['case', ['get', 'selected'], 3, 1],
          'circle-opacity': ['case', ['get', 'selected'], 1, 0.8],
        },
      },
    ],
  }
}
