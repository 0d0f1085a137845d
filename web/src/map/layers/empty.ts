import type { GeoJSONSourceSpecification } from 'maplibre-gl'
import { EMPTY_FC } from '../../lib/geojson.ts'

/** A GeoJSON source that starts empty (its data set later, or by its factory's state). */
export function emptyGeoJsonSource(extra: Partial<GeoJSONSourceSpecification> = {}): GeoJSONSourceSpecification {
  return { type: 'geojson', data: EMPTY_FC, ...extra }
}
