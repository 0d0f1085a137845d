import { Type, type Static } from 'typebox'

export const RegionRefSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  level: Type.Integer({ minimum: 1, maximum: 5 }),
})
export type RegionRef = Static<typeof RegionRefSchema>

export const ResolveResultSchema = Type.Object({
  /** From the district down to the finest level that contains the point. */
  regions: Type.Array(RegionRefSchema),
})
export type ResolveResult = Static<typeof ResolveResultSchema>

export const RegionPropertiesSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  level: Type.Integer({ minimum: 1, maximum: 5 }),
  parentId: Type.Union([Type.String(), Type.Null()]),
})
export type RegionProperties = Static<typeof RegionPropertiesSchema>

/** A GeoJSON (RFC 7946) FeatureCollection of regions; geometry is a (Multi)Polygon in WGS84. */
export interface RegionFeatureCollection {
  type: 'FeatureCollection'
  features: Array<{
    type: 'Feature'
    id: string
    properties: RegionProperties
    geometry: { type: 'Polygon' | 'MultiPolygon'; coordinates: unknown }
  }>
}

const Counts = Type.Record(Type.String(), Type.Integer(), { description: 'count by key (level number or role)' })

export const RegionMemberSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  status: Type.String(),
  regionId: Type.String(),
  lastSeenAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
})
export type RegionMember = Static<typeof RegionMemberSchema>

const Rate = Type.Union([Type.Number(), Type.Null()])

/** Issue #8: how a region performs (cases REPORTED in the window; definitions in server/src/services/stats.ts). */
export const RegionPerformanceSchema = Type.Object({
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  reported: Type.Integer(),
  closed: Type.Integer(),
  open: Type.Integer(),
  overdueOpen: Type.Integer(),
  completionRate: Rate,
  onTimeRate: Rate,
  gridLevelShare: Rate,
  satisfaction: Type.Object({ mean: Rate, rated: Type.Integer() }),
  /** One entry per Asia/Shanghai day of the window, empty days included. */
  trend: Type.Array(Type.Object({ day: Type.String(), reported: Type.Integer(), closed: Type.Integer() })),
  /** Category families with at least one case, most cases first. */
  categoryMix: Type.Array(Type.Object({ category: Type.String(), name: Type.Union([Type.String(), Type.Null()]), reported: Type.Integer(), open: Type.Integer() })),
  /** 五星网格: shared/domain/star-score.ts (formula documented there and in server/README.md). */
  score: Rate,
  stars: Type.Union([Type.Integer({ minimum: 1, maximum: 5 }), Type.Null()]),
  scoreParts: Type.Record(Type.String(), Rate),
  /** Among the current regions with the same parent (districts: among all districts), by score. */
  rank: Type.Object({
    position: Type.Integer({ minimum: 1 }),
    of: Type.Integer({ minimum: 1 }),
    siblings: Type.Array(Type.Object({ id: Type.String(), name: Type.Union([Type.String(), Type.Null()]), score: Rate, stars: Type.Union([Type.Integer(), Type.Null()]) })),
  }),
})
export type RegionPerformance = Static<typeof RegionPerformanceSchema>

/** GET /api/regions/:id — everything the drill-down panel needs about one region. */
export const RegionProfileSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  level: Type.Integer({ minimum: 1, maximum: 5 }),
  parentId: Type.Union([Type.String(), Type.Null()]),
  households: Type.Union([Type.Integer(), Type.Null()]),
  population: Type.Union([Type.Integer(), Type.Null()]),
  attributes: Type.Record(Type.String(), Type.Unknown()),
  validFrom: Type.String({ format: 'date-time' }),
  validTo: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  areaKm2: Type.Number(),
  /** [minLon, minLat, maxLon, maxLat] */
  bbox: Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()]),
  /** A point inside the region, for labels and fly-to. */
  center: Type.Tuple([Type.Number(), Type.Number()]),
  /** From the district down to this region. */
  chain: Type.Array(RegionRefSchema),
  children: Type.Integer(),
  /** Current regions below this one, by level. */
  descendants: Counts,
  staff: Type.Object({
    chief: Type.Union([
      Type.Object({ id: Type.String(), name: Type.String(), phone: Type.Union([Type.String(), Type.Null()]), status: Type.String() }),
      Type.Null(),
    ]),
    byRole: Counts,
    onDuty: Type.Integer(),
  }),
  cameras: Type.Integer(),
  openCases: Type.Integer(),
  /** Open cases past their limit now (the clock runs and dueAt has passed). */
  overdueCases: Type.Integer(),
  /**
   * Grid and micro-grid level: everyone who serves here (who is on duty now), by role then name; at most 100.
   * Null above the grid level, and for residents and anonymous callers (staff only).
   */
  members: Type.Union([Type.Array(RegionMemberSchema), Type.Null()]),
  /** The last 30 days' loop figures, trend, category mix, star score and rank (staff only: null otherwise). */
  performance: Type.Union([RegionPerformanceSchema, Type.Null()]),
})
export type RegionProfile = Static<typeof RegionProfileSchema>
