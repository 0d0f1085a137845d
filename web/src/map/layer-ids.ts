/**
 * Every MapLibre source and layer id the app uses, spelled once. Later layers (deck.gl overlays, heat maps,
 * drill-down highlights) add their ids here and their slot in LAYER_ORDER.
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
