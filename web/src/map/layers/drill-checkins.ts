/**
 * The grid workers' visit check-ins (走访打卡) under the region shown, as green dots above the regions: where the
 * grid's people were visited lately (the drill store loads the last 7 days the caller may see).
 */
import { DRILL_CHECKINS } from '../layer-ids.ts'
import type { MapLayers } from '../map-controller.ts'

export const CHECKIN_COLOR = '#34d399'

export function drillCheckinsLayer(checkins: GeoJSON.FeatureCollection): MapLayers {
  return {
    sources: { [DRILL_CHECKINS.source]: { type: 'geojson', data: checkins } },
    layers: [
      {
        id: DRILL_CHECKINS.layer,
        type: 'circle',
        source: DRILL_CHECKINS.source,
        paint: {
          'circle-color': CHECKIN_COLOR,
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, 3, 17, 8],
          'circle-stroke-color': '#04101f',
          'circle-stroke-width': 1.5,
        },
      },
    ],
  }
}
