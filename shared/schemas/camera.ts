import { Type, type Static, type TSchema } from 'typebox'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

export const CAMERA_STATUSES = ['online', 'offline'] as const
export type CameraStatus = (typeof CAMERA_STATUSES)[number]
export const CAMERA_KINDS = ['public_security', 'enterprise', 'construction_site'] as const
export type CameraKind = (typeof CAMERA_KINDS)[number]

export const CameraStatusSchema = Type.Unsafe<CameraStatus>({ type: 'string', enum: [...CAMERA_STATUSES] })
export const CameraKindSchema = Type.Unsafe<CameraKind>({ type: 'string', enum: [...CAMERA_KINDS] })

export const CameraSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: CameraKindSchema,
  lon: Type.Number(),
  lat: Type.Number(),
  /** Finest region covering it; null outside every region. */
  regionId: Nullable(Type.String()),
  streamUrl: Nullable(Type.String()),
  status: CameraStatusSchema,
})
export type Camera = Static<typeof CameraSchema>

export const CameraListSchema = Type.Object({
  cameras: Type.Array(CameraSchema),
  /** Offset of the next page, null on the last page. */
  nextOffset: Nullable(Type.Integer()),
})
export type CameraList = Static<typeof CameraListSchema>

export const CameraStatusChangeSchema = Type.Object({ status: CameraStatusSchema }, { additionalProperties: false })
export const CameraStatusChangedSchema = Type.Object({ camera: CameraSchema, changed: Type.Boolean() })

/** `camera:updated`: a camera went online or offline; routed by the camera's region. */
export interface CameraUpdatedEvent {
  camera: Camera
  from: { status: CameraStatus }
  by: string | null
}
