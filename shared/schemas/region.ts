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
})
export type RegionProfile = Static<typeof RegionProfileSchema>
