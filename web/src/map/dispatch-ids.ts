/**
 * Source and layer ids of the drill-down and dispatch maps (issue #8): separate maps from the wall's, so their ids
 * live here rather than in layer-ids.ts (the wall's), spelled once.
 */
export const DISPATCH_SOURCE = { cases: 'gc-dispatch-cases', radius: 'gc-dispatch-radius', grids: 'gc-dispatch-grids' } as const
export const DISPATCH_LAYER = {
  cases: 'gc-dispatch-cases',
  gridLines: 'gc-dispatch-grid-lines',
  radiusFill: 'gc-dispatch-radius-fill',
  radiusLine: 'gc-dispatch-radius-line',
} as const

export const DRILL_SOURCE = { children: 'gc-drill-children', siblings: 'gc-drill-siblings', current: 'gc-drill-current' } as const
export const DRILL_LAYER = {
  siblingsFill: 'gc-drill-siblings-fill',
  siblingsLine: 'gc-drill-siblings-line',
  currentFill: 'gc-drill-current-fill',
  childrenFill: 'gc-drill-children-fill',
  childrenLine: 'gc-drill-children-line',
  childrenHover: 'gc-drill-children-hover',
  currentLine: 'gc-drill-current-line',
} as const

/** A circle of `radiusM` metres around `center` as a 64-gon (equirectangular: fine at these radii). */
export function circlePolygon(center: [number, number], radiusM: number, steps = 64): GeoJSON.Feature<GeoJSON.Polygon> {
  const [lon, lat] = center
  const dLat = radiusM / 110_574
  const dLon = radiusM / (111_320 * Math.cos((lat * Math.PI) / 180))
  const ring: [number, number][] = []
  for (let i = 0; i <= steps; i++) {
    const a = (2 * Math.PI * i) / steps
    ring.push([lon + dLon * Math.cos(a), lat + dLat * Math.sin(a)])
  }
  return { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [ring] } }
}
