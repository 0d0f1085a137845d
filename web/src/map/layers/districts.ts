/** District (level 1) boundaries: a faint fill under the grids and a bright glowing outline above them. */
import type { GeoJSONSourceSpecification, LayerSpecification } from 'maplibre-gl'
import type { RegionFeatureCollection } from '../../../../shared/schemas/region.ts'
import { MAP_COLORS } from '../base-style.ts'
import { LAYER, SOURCE } from '../layer-ids.ts'
import { emptyGeoJsonSource } from './empty.ts'

export function districtSource(): GeoJSONSourceSpecification {
  return emptyGeoJsonSource()
}

export function districtData(fc: RegionFeatureCollection): GeoJSON.FeatureCollection {
  return fc as unknown as GeoJSON.FeatureCollection
}

export function districtLayers(): LayerSpecification[] {
  return [
    {
      id: LAYER.districtFill,
      type: 'fill',
      source: SOURCE.districts,
      paint: { 'fill-color': MAP_COLORS.districtFill, 'fill-opacity': 0.55 },
    },
    {
      id: LAYER.districtGlow,
      type: 'line',
      source: SOURCE.districts,
      layout: { 'line-join': 'round', 'line-cap': 'round' },
      paint: {
        'line-color': MAP_COLORS.districtGlow,
        'line-width': ['interpolate', ['linear'], ['zoom'], 8, 7, 12, 12],
        'line-blur': ['interpolate', ['linear'], ['zoom'], 8, 7, 12, 12],
        'line-opacity': 0.28,
      },
    },
    {
      id: LAYER.districtOutline,
      type: 'line',
      source: SOURCE.districts,
      layout: { 'line-join': 'round', 'line-cap': 'round' },
      paint: {
        'line-color': MAP_COLORS.districtOutline,
        'line-width': ['interpolate', ['linear'], ['zoom'], 8, 2.2, 12, 3.5],
      },
    },
  ]
}
