/**
 * The drill-down map's regions: the current region's siblings dimmed, the current region under its children, the
 * children each in a colour of DRILL_PALETTE (by position, so neighbours differ) and brighter under the pointer
 * (feature-state `hover`, set by map/layer-events.ts), the current region's outline on top. All three sources
 * promote `id`, so feature-state and clicks name regions by id.
 */
import type { GeoJSONSourceSpecification } from 'maplibre-gl'
import type { RegionFeatureCollection } from '../../../../shared/schemas/region.ts'
import { DRILL_LAYER, DRILL_SOURCE } from '../layer-ids.ts'
import type { MapLayers } from '../map-controller.ts'

type RegionFeature = RegionFeatureCollection['features'][number]

export const DRILL_PALETTE = ['#1565c0', '#00897b', '#6a1b9a', '#c62828', '#ef6c00', '#2e7d32', '#283593', '#ad1457', '#00838f', '#4e342e'] as const
export const DRILL_COLORS = {
  siblingFill: '#1b2a40',
  siblingLine: '#4a6382',
  currentFill: '#0a3a5c',
  currentLine: '#3ff3ff',
  childLine: '#9be7ff',
} as const

const source = (features: readonly RegionFeature[]): GeoJSONSourceSpecification => ({
  type: 'geojson',
  data: { type: 'FeatureCollection', features: features as unknown as GeoJSON.Feature[] },
  promoteId: 'id',
})

/** The siblings of the current region (without it), dimmed; a click on one moves across. */
export function drillSiblingsLayer(siblings: readonly RegionFeature[]): MapLayers {
  return {
    sources: { [DRILL_SOURCE.siblings]: source(siblings) },
    layers: [
      { id: DRILL_LAYER.siblingsFill, type: 'fill', source: DRILL_SOURCE.siblings, paint: { 'fill-color': DRILL_COLORS.siblingFill, 'fill-opacity': 0.55 } },
      { id: DRILL_LAYER.siblingsLine, type: 'line', source: DRILL_SOURCE.siblings, paint: { 'line-color': DRILL_COLORS.siblingLine, 'line-width': 1 } },
    ],
  }
}

/** The current region (none at the root): a fill under its children and a bright outline above them. */
export function drillCurrentLayer(current: readonly RegionFeature[]): MapLayers {
  return {
    sources: { [DRILL_SOURCE.current]: source(current) },
    layers: [
      { id: DRILL_LAYER.currentFill, type: 'fill', source: DRILL_SOURCE.current, paint: { 'fill-color': DRILL_COLORS.currentFill, 'fill-opacity': 0.6 } },
      { id: DRILL_LAYER.currentLine, type: 'line', source: DRILL_SOURCE.current, paint: { 'line-color': DRILL_COLORS.currentLine, 'line-width': 3 } },
    ],
  }
}

/** The children with their palette colour as property `color`. */
export function drillChildFeatures(children: readonly RegionFeature[]): RegionFeature[] {
  return children.map((f, i) => ({ ...f, properties: { ...f.properties, color: DRILL_PALETTE[i % DRILL_PALETTE.length] } }))
}

/** The current region's children: a click on one drills in. */
export function drillChildrenLayer(children: readonly RegionFeature[]): MapLayers {
  return {
    sources: { [DRILL_SOURCE.children]: source(drillChildFeatures(children)) },
    layers: [
      {
        id: DRILL_LAYER.childrenFill,
        type: 'fill',
        source: DRILL_SOURCE.children,
        paint: { 'fill-color': ['get', 'color'], 'fill-opacity': ['case', ['boolean', ['feature-state', 'hover'], false], 0.75, 0.45] },
      },
      { id: DRILL_LAYER.childrenLine, type: 'line', source: DRILL_SOURCE.children, paint: { 'line-color': DRILL_COLORS.childLine, 'line-width': 1.2 } },
    ],
  }
}
