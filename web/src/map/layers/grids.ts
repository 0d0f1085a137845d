/**
 * Grids (level 4): a subtle fill whose shade varies a little by id (so neighbouring grids read apart), a thin
 * outline, and a hover outline filtered to one grid id.
 */
import type { FilterSpecification, GeoJSONSourceSpecification, LayerSpecification } from 'maplibre-gl'
import type { RegionFeatureCollection } from '../../../../shared/schemas/region.ts'
import { MAP_COLORS } from '../base-style.ts'
import { hashUnit } from '../geo.ts'
import { LAYER, SOURCE } from '../layer-ids.ts'
import { emptyGeoJsonSource } from './empty.ts'

/** `promoteId`: feature-state by grid id (the wall's choropleth sets `n` per grid without re-sending geometry). */
export function gridSource(): GeoJSONSourceSpecification {
  return emptyGeoJsonSource({ promoteId: 'id' })
}

/** Choropleth classes: case counts per grid → colour (a sequential ramp, light to dark-orange, readable by every colour vision). */
export const CHOROPLETH_STOPS: ReadonlyArray<[number, string]> = [
  [1, '#fee391'],
  [3, '#fec44f'],
  [6, '#fe9929'],
  [10, '#ec7014'],
  [20, '#cc4c02'],
]

/** The grid choropleth: transparent where the grid has no case (feature-state n = 0 or unset). */
export function gridChoroplethLayers(): LayerSpecification[] {
  const n = ['coalesce', ['feature-state', 'n'], 0]
  const color: unknown[] = ['step', n, 'rgba(0,0,0,0)']
  for (const [at, c] of CHOROPLETH_STOPS) color.push(at, c)
  return [
    {
      id: LAYER.gridChoropleth,
      type: 'fill',
      source: SOURCE.grids,
      paint: { 'fill-color': color as never, 'fill-opacity': ['case', ['>', n, 0], 0.55, 0] as never },
    },
  ]
}

/** The grid features with a `shade` property in [0, 1) derived from the id. */
export function gridData(fc: RegionFeatureCollection): GeoJSON.FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: fc.features.map((f) => ({
      type: 'Feature',
      id: f.id,
      properties: { ...f.properties, shade: hashUnit(f.properties.id) },
      geometry: f.geometry as GeoJSON.Geometry,
    })),
  }
}

/** Filter selecting one grid by id for the hover layer; an id that matches nothing hides it. */
export function gridHoverFilter(gridId: string | null): FilterSpecification {
  return ['==', ['get', 'id'], gridId ?? '']
}

export function gridLayers(): LayerSpecification[] {
  return [
    {
      id: LAYER.gridFill,
      type: 'fill',
      source: SOURCE.grids,
      paint: {
        'fill-color': ['interpolate', ['linear'], ['get', 'shade'], 0, MAP_COLORS.gridFillLow, 1, MAP_COLORS.gridFillHigh],
        'fill-opacity': 0.72,
      },
    },
    {
      id: LAYER.gridOutline,
      type: 'line',
      source: SOURCE.grids,
      paint: {
        'line-color': MAP_COLORS.gridOutline,
        'line-opacity': 0.45,
        'line-width': ['interpolate', ['linear'], ['zoom'], 9, 0.6, 13, 1.4],
      },
    },
    {
      id: LAYER.gridHover,
      type: 'line',
      source: SOURCE.grids,
      filter: gridHoverFilter(null),
      paint: { 'line-color': MAP_COLORS.gridHover, 'line-width': 2.5 },
    },
  ]
}
