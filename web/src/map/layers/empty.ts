import type { GeoJSONSourceSpecification } from 'maplibre-gl'

export const EMPTY_FC: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] }

export function emptyGeoJsonSource(extra: Partial<GeoJSONSourceSpecification> = {}): GeoJSONSourceSpecification {
  return { type: 'geojson', data: EMPTY_FC, ...extra }
}
