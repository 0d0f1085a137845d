import { Type, type Static } from 'typebox'

/** WGS84 longitude / latitude in degrees. Query strings are coerced to numbers by the server's validator. */
export const LonSchema = Type.Number({ minimum: -180, maximum: 180, description: 'WGS84 longitude, degrees' })
export const LatSchema = Type.Number({ minimum: -90, maximum: 90, description: 'WGS84 latitude, degrees' })

export const LonLatSchema = Type.Object({ lon: LonSchema, lat: LatSchema })
export type LonLat = Static<typeof LonLatSchema>
