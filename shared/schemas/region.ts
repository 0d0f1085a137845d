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
