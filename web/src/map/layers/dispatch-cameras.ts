/** The cameras that see the selected case (within the radius): violet dots with a white ring, grey when offline. */
import type { CandidateCamera } from '../../../../shared/schemas/dispatch.ts'
import { DISPATCH_LAYER, DISPATCH_SOURCE } from '../layer-ids.ts'
import type { MapLayers } from '../map-controller.ts'

export const CAMERA_COLORS = { online: '#7c4dff', offline: '#555555' } as const

export function dispatchCameraData(cameras: readonly CandidateCamera[]): GeoJSON.FeatureCollection<GeoJSON.Point, { id: string; name: string; status: string }> {
  return {
    type: 'FeatureCollection',
    features: cameras.map((c) => ({
      type: 'Feature',
      id: c.id,
      geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
      properties: { id: c.id, name: c.name, status: c.status },
    })),
  }
}

export function dispatchCamerasLayer(cameras: readonly CandidateCamera[]): MapLayers {
  return {
    sources: { [DISPATCH_SOURCE.cameras]: { type: 'geojson', data: dispatchCameraData(cameras) } },
    layers: [
      {
        id: DISPATCH_LAYER.cameras,
        type: 'circle',
        source: DISPATCH_SOURCE.cameras,
        paint: {
          'circle-radius': 7,
          'circle-color': ['match', ['get', 'status'], 'offline', CAMERA_COLORS.offline, CAMERA_COLORS.online],
          'circle-stroke-color': '#ffffff',
          'circle-stroke-width': 2,
        },
      },
    ],
  }
}
