/** Open cases as circles coloured by category with a white stroke. */
import type { GeoJSONSourceSpecification, LayerSpecification } from 'maplibre-gl'
import { categoryInfo } from '../../../../shared/domain/categories.ts'
import type { Case } from '../../../../shared/schemas/case.ts'
import { MAP_COLORS } from '../base-style.ts'
import { LAYER, SOURCE } from '../layer-ids.ts'
import { emptyGeoJsonSource } from './empty.ts'

export const UNKNOWN_CATEGORY_COLOR = '#b0bec5'

export interface CaseFeatureProps {
  id: string
  code: string
  category: string
  color: string
  /** Category family (the wall's cross-filter), status, priority, street id, and whether it is overdue or escalated. */
  family: string
  status: string
  priority: string
  street: string
  /** The department the case was dispatched to ('' before dispatch). */
  department: string
  alarm: boolean
}

export function caseSource(): GeoJSONSourceSpecification {
  return emptyGeoJsonSource()
}

export function caseData(cases: Iterable<Case>): GeoJSON.FeatureCollection<GeoJSON.Point, CaseFeatureProps> {
  const features: GeoJSON.Feature<GeoJSON.Point, CaseFeatureProps>[] = []
  for (const c of cases) {
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
      properties: {
        id: c.id,
        code: c.code,
        category: c.category,
        color: categoryInfo(c.category)?.color ?? UNKNOWN_CATEGORY_COLOR,
        family: c.category.split('.')[0],
        status: c.status,
        priority: c.priority,
        street: c.regions.find((r) => r.level === 2)?.id ?? '',
        department: c.department ?? '',
        alarm: c.overdue || c.escalations > 0,
      },
    })
  }
  return { type: 'FeatureCollection', features }
}

export function caseLayers(): LayerSpecification[] {
  return [
    {
      id: LAYER.caseCircle,
      type: 'circle',
      source: SOURCE.cases,
      paint: {
        'circle-color': ['get', 'color'],
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 4.5, 10, 6.5, 13, 9, 16, 13],
        'circle-stroke-color': MAP_COLORS.caseStroke,
        'circle-stroke-width': ['interpolate', ['linear'], ['zoom'], 8, 1.2, 12, 2],
        'circle-opacity': 0.95,
      },
    },
  ]
}
