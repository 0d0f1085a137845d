/**
 * The "new case" halo: an expanding, fading ring under each case younger than NEW_CASE_WINDOW_MS. The layer is
 * static; the animation sets its radius and opacity per frame from `pulsePaint(phase)` (case-layer.ts).
 */
import type { GeoJSONSourceSpecification, LayerSpecification } from 'maplibre-gl'
import { LAYER, SOURCE } from '../layer-ids.ts'
import { emptyGeoJsonSource } from './empty.ts'

/** One pulse cycle. */
export const PULSE_PERIOD_MS = 1600

export function casePulseSource(): GeoJSONSourceSpecification {
  return emptyGeoJsonSource()
}

/** Radius (px) and opacity of the ring at `phase` in [0, 1): grows from the dot outwards and fades. */
export function pulsePaint(phase: number): { radius: number; opacity: number; strokeOpacity: number } {
  const p = Math.min(1, Math.max(0, phase))
  const eased = 1 - (1 - p) * (1 - p)
  return { radius: 8 + eased * 30, opacity: 0.45 * (1 - p), strokeOpacity: 0.95 * (1 - p) }
}

export function casePulseLayers(): LayerSpecification[] {
  const p = pulsePaint(0)
  return [
    {
      id: LAYER.casePulse,
      type: 'circle',
      source: SOURCE.casesNew,
      paint: {
        'circle-color': ['get', 'color'],
        'circle-radius': p.radius,
        'circle-opacity': p.opacity,
        'circle-stroke-color': ['get', 'color'],
        'circle-stroke-width': 3,
        'circle-stroke-opacity': p.strokeOpacity,
        'circle-pitch-alignment': 'map',
      },
    },
  ]
}
