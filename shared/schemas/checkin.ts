import { Type, type Static, type TSchema } from 'typebox'
import { INPUT_CRS, type InputCrs } from '../geo/crs.ts'
import { MadeAtSchema, PhotoRefSchema } from './case.ts'
import { LatSchema, LonSchema } from './geo.ts'
import { RegionRefSchema } from './region.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const DateTime = Type.String({ format: 'date-time' })

/** Patrol check-ins (走访打卡): a grid worker was at a building, in a household or at a place of their grid. */
export const CHECKIN_KINDS = ['building', 'household', 'place'] as const
export type CheckinKind = (typeof CHECKIN_KINDS)[number]
export const CHECKIN_KIND_NAMES: Record<CheckinKind, { zh: string; en: string }> = {
  building: { zh: '楼栋走访', en: 'Building visit' },
  household: { zh: '入户走访', en: 'Household visit' },
  place: { zh: '场所巡查', en: 'Place check' },
}
export const CheckinKindSchema = Type.Unsafe<CheckinKind>({ type: 'string', enum: [...CHECKIN_KINDS] })

/** Most check-ins GET /api/checkins answers at once. */
export const MAX_CHECKINS = 5000

/** POST /api/checkins */
export const CheckinCreateSchema = Type.Object(
  {
    lon: LonSchema,
    lat: LatSchema,
    crs: Type.Optional(Type.Unsafe<InputCrs>({ type: 'string', enum: INPUT_CRS, description: 'CRS of lon/lat; gcj02 is converted, storage is WGS84' })),
    kind: CheckinKindSchema,
    address: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    photos: Type.Optional(
      Type.Array(Type.String({ format: 'uuid' }), { maxItems: 6, uniqueItems: true, description: 'ids returned by POST /api/photos (at most 6)' }),
    ),
    madeAt: Type.Optional(MadeAtSchema),
    workerId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'whose check-in: a grid worker’s own (may be left out); required from an admin (a gateway account)' }),
    ),
  },
  { additionalProperties: false },
)
export type CheckinCreate = Static<typeof CheckinCreateSchema>

/** A check-in as POST answers it and `checkin:created` carries it. */
export const CheckinSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  workerId: Type.String(),
  workerName: Type.String(),
  /** Who recorded it: the worker, or the admin account that sent it for them. */
  actor: Type.String(),
  kind: CheckinKindSchema,
  /** When the server took it (the order and every window use this). */
  at: DateTime,
  /** When the worker made it on the phone (null: not sent). */
  madeAt: Nullable(DateTime),
  lon: Type.Number(),
  lat: Type.Number(),
  /** The grid the point lies in (level 4). */
  gridId: Type.String(),
  /** The region chain of the point, district first. */
  regions: Type.Array(RegionRefSchema),
  address: Nullable(Type.String()),
  note: Nullable(Type.String()),
  photos: Type.Array(PhotoRefSchema),
})
export type Checkin = Static<typeof CheckinSchema>

/** The payload of `checkin:created`. */
export interface CheckinCreatedEvent {
  checkin: Checkin
}

export const CheckinListQuerySchema = Type.Object(
  {
    region: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'a region id at any level' })),
    worker: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'one worker’s check-ins' })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'at or after (default: 24 hours before now)' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'before (default: up to now, now included)' })),
    limit: Type.Integer({ minimum: 1, maximum: MAX_CHECKINS, default: 1000, description: 'newest first' }),
  },
  { additionalProperties: false },
)
export type CheckinListQuery = Static<typeof CheckinListQuerySchema>

export const CheckinFeatureSchema = Type.Object({
  type: Type.Literal('Feature'),
  id: Type.String(),
  geometry: Type.Object({ type: Type.Literal('Point'), coordinates: Type.Array(Type.Number()) }),
  properties: Type.Object({
    id: Type.String(),
    workerId: Type.String(),
    workerName: Type.String(),
    kind: CheckinKindSchema,
    at: DateTime,
    madeAt: Nullable(DateTime),
    address: Nullable(Type.String()),
    note: Nullable(Type.String()),
    photoCount: Type.Integer({ minimum: 0 }),
  }),
})

/** GET /api/checkins: GeoJSON (RFC 7946), newest first. */
export const CheckinCollectionSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(CheckinFeatureSchema),
  /** More check-ins matched than `limit`. */
  truncated: Type.Boolean(),
})
export type CheckinCollection = Static<typeof CheckinCollectionSchema>
