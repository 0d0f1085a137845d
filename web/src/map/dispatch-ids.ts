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
