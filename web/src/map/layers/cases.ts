/** Open cases as circles coloured by category with a white stroke. */
import type { ExpressionSpecification, GeoJSONSourceSpecification, LayerSpecification } from 'maplibre-gl'
import { categoryInfo } from '../../../../shared/domain/categories.ts'
import type { Case } from '../../../../shared/schemas/case.ts'
import { MAP_COLORS } from '../base-style.ts'
import { LAYER, SOURCE } from '../layer-ids.ts'
import { emptyGeoJsonSource } from './empty.ts'

export const UNKNOWN_CATEGORY_COLOR = '#b0bec5'

/** Case status → colour (Okabe–Ito based, as --gc-st-* in theme.css): the wall colours its cases by status. */
export const STATUS_COLORS: Record<string, string> = {
  reported: '#e69f00',
  registered: '#56b4e9',
  dispatched: '#8fb8ff',
  in_progress: '#f0e442',
  handled: '#2ec4a0',
  verified: '#e38fc6',
}
export const ALARM_COLOR = '#ff6b2b'

/**
 * The wall's paint of the case circles: colour by status, size by priority, an orange-red ring when overdue or
 * escalated. A zoom curve must be the outermost expression (MapLibre refuses `zoom` nested in `*`): the priority's
 * factor sits at each stop.
 */
export function wallCasePaint(): Record<'circle-color' | 'circle-radius' | 'circle-stroke-color' | 'circle-stroke-width', ExpressionSpecification> {
  const color: unknown[] = ['match', ['get', 'status']]
  for (const [k, v] of Object.entries(STATUS_COLORS)) color.push(k, v)
  color.push(UNKNOWN_CATEGORY_COLOR)
  const bigger = (r: number): ExpressionSpecification => ['*', ['match', ['get', 'priority'], 'urgent', 1.5, 'high', 1.2, 1], r]
  return {
    'circle-color': color as ExpressionSpecification,
    'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, bigger(4.5), 10, bigger(6.5), 13, bigger(9), 16, bigger(13)],
    'circle-stroke-color': ['case', ['get', 'alarm'], ALARM_COLOR, '#ffffff'],
    'circle-stroke-width': ['case', ['get', 'alarm'], 3.5, 1.5],
  }
}

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
