/**
 * Every MapLibre source and layer id and every deck.gl layer id the app uses, spelled once. The wall's map orders its
 * layers by LAYER_ORDER; the drill-down and dispatch maps are maps of their own whose order is the order their
 * factories return (map/layers/drill-map.ts, map/layers/dispatch-map.ts).
 */
export const SOURCE = {
  districts: 'gc-districts',
  grids: 'gc-grids',
  /** Vector tiles from /tiles/microgrids (server/src/routes/tiles). */
  microgrids: 'gc-microgrids',
  cases: 'gc-cases',
  /** Only the cases younger than NEW_CASE_WINDOW_MS: the pulse layer draws from it. */
  casesNew: 'gc-cases-new',
  /** The signed-in user's jurisdiction (one region), outlined above the districts. */
  scope: 'gc-scope',
  /** Street (level 2) and community (level 3) boundaries (the wall's boundary layer). */
  streets: 'gc-streets',
  communities: 'gc-communities',
} as const
export type SourceId = (typeof SOURCE)[keyof typeof SOURCE]

export const LAYER = {
  background: 'gc-background',
  gridFill: 'gc-grid-fill',
  gridOutline: 'gc-grid-outline',
  gridHover: 'gc-grid-hover',
  microgridFill: 'gc-microgrid-fill',
  microgridOutline: 'gc-microgrid-outline',
  districtFill: 'gc-district-fill',
  districtGlow: 'gc-district-glow',
  districtOutline: 'gc-district-outline',
  scopeGlow: 'gc-scope-glow',
  scopeOutline: 'gc-scope-outline',
  casePulse: 'gc-case-pulse',
  caseCircle: 'gc-case-circle',
  /** Grids shaded by their open or overdue case count (feature-state `n`, set by map/wall-layers.ts). */
  gridChoropleth: 'gc-grid-choropleth',
  streetOutline: 'gc-street-outline',
  communityOutline: 'gc-community-outline',
} as const
export type LayerId = (typeof LAYER)[keyof typeof LAYER]

/** Bottom to top. */
export const LAYER_ORDER: readonly LayerId[] = [
  LAYER.background,
  LAYER.districtFill,
  LAYER.gridFill,
  LAYER.gridChoropleth,
  LAYER.microgridFill,
  LAYER.microgridOutline,
  LAYER.gridOutline,
  LAYER.gridHover,
  LAYER.communityOutline,
  LAYER.streetOutline,
  LAYER.districtGlow,
  LAYER.districtOutline,
  LAYER.scopeGlow,
  LAYER.scopeOutline,
  LAYER.casePulse,
  LAYER.caseCircle,
]

/** The wall's deck.gl layers (map/wall-layers.ts). */
export const DECK_ID = {
  heat: 'wall-heat',
  workers: 'wall-workers',
  cameras: 'wall-cameras',
  streetLabels: 'wall-street-labels',
  communityLabels: 'wall-community-labels',
} as const

/** The dispatcher's map (components/dispatch/DispatchMap.vue). It shows the micro-grids with the wall's SOURCE/LAYER ids. */
export const DISPATCH_SOURCE = {
  grids: 'gc-dispatch-grids',
  radius: 'gc-dispatch-radius',
  cases: 'gc-dispatch-cases',
  cameras: 'gc-dispatch-cameras',
} as const
export const DISPATCH_LAYER = {
  gridLines: 'gc-dispatch-grid-lines',
  radiusFill: 'gc-dispatch-radius-fill',
  radiusLine: 'gc-dispatch-radius-line',
  cases: 'gc-dispatch-cases',
  cameras: 'gc-dispatch-cameras',
} as const

/** The drill-down map (components/drill/DrillMap.vue). */
export const DRILL_SOURCE = { siblings: 'gc-drill-siblings', current: 'gc-drill-current', children: 'gc-drill-children' } as const
/** The drill map's visit check-ins: a source and a layer of their own, above the regions. */
export const DRILL_CHECKINS = { source: 'gc-drill-checkins', layer: 'gc-drill-checkins' } as const
export const DRILL_LAYER = {
  siblingsFill: 'gc-drill-siblings-fill',
  siblingsLine: 'gc-drill-siblings-line',
  currentFill: 'gc-drill-current-fill',
  childrenFill: 'gc-drill-children-fill',
  childrenLine: 'gc-drill-children-line',
  currentLine: 'gc-drill-current-line',
} as const
export const DRILL_DECK_ID = { labels: 'drill-labels' } as const
/** Bottom to top: the siblings dimmed, the current region under its children, its outline above them. */
export const DRILL_LAYER_ORDER: readonly string[] = [
  DRILL_LAYER.siblingsFill,
  DRILL_LAYER.siblingsLine,
  DRILL_LAYER.currentFill,
  DRILL_LAYER.childrenFill,
  DRILL_LAYER.childrenLine,
  DRILL_LAYER.currentLine,
  DRILL_CHECKINS.layer,
]

/** The field app's map (web/src/mobile): light, MapLibre only. */
export const FIELD_SOURCE = { grids: 'gc-field-grids', microgrids: 'gc-field-microgrids', points: 'gc-field-points', checkins: 'gc-field-checkins' } as const
export const FIELD_LAYER = {
  background: 'gc-field-background',
  gridFill: 'gc-field-grid-fill',
  gridOutline: 'gc-field-grid-outline',
  microgridOutline: 'gc-field-microgrid-outline',
  checkins: 'gc-field-checkins',
  me: 'gc-field-me',
  case: 'gc-field-case',
} as const
