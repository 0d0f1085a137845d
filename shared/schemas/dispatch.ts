/**
 * The dispatcher's workspace (issue #8): candidates for a case (nearest workers, cameras that see it) and bulk
 * dispatch. Routes: server/src/routes/api/dispatch.ts.
 */
import { Type, type Static, type TSchema } from 'typebox'
import { CameraSchema } from './camera.ts'
import { CaseConflictSchema } from './case.ts'
import { WorkerSchema } from './worker.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

/** Default radius of the video linkage (视频联动), metres. */
export const DEFAULT_CAMERA_RADIUS_M = 300
/** A live position older than this is shown as stale (the patrol app reports every 10 s while on duty). */
export const STALE_POSITION_S = 600

export const CandidateWorkerSchema = Type.Intersect([
  WorkerSchema,
  Type.Object({
    distanceM: Type.Number({ description: 'geodesic metres from the case' }),
    /** Open cases assigned to this worker now (dispatched or in progress). */
    load: Type.Integer(),
    /** Seconds since the live position was taken, against the server clock; null without one. */
    lastSeenAgeS: Nullable(Type.Integer()),
    onDuty: Type.Boolean(),
    /** lastSeenAgeS > STALE_POSITION_S. */
    stale: Type.Boolean(),
  }),
])
export type CandidateWorker = Static<typeof CandidateWorkerSchema>

export const CandidateCameraSchema = Type.Intersect([CameraSchema, Type.Object({ distanceM: Type.Number() })])
export type CandidateCamera = Static<typeof CandidateCameraSchema>

/** GET /api/cases/:id/candidates */
export const CandidatesSchema = Type.Object({
  now: Type.String({ format: 'date-time' }),
  caseId: Type.String(),
  code: Type.String(),
  version: Type.Integer(),
  point: Type.Tuple([Type.Number(), Type.Number()]),
  radiusM: Type.Number(),
  /** Nearest first (KNN on workers.position, geodesic distance). */
  workers: Type.Array(CandidateWorkerSchema),
  /** Within radiusM, nearest first. */
  cameras: Type.Array(CandidateCameraSchema),
})
export type Candidates = Static<typeof CandidatesSchema>

export const BULK_ACTIONS = ['dispatch', 'reassign', 'escalate'] as const
export type BulkAction = (typeof BULK_ACTIONS)[number]
export const MAX_BULK_ITEMS = 100

/** POST /api/cases/actions/bulk: one action, several cases, each with the version the dispatcher saw. */
export const BulkActionSchema = Type.Object(
  {
    action: Type.Unsafe<BulkAction>({ type: 'string', enum: [...BULK_ACTIONS] }),
    items: Type.Array(
      Type.Object(
        {
          id: Type.String({ format: 'uuid' }),
          version: Type.Optional(Type.Integer({ minimum: 1, description: 'the version acted on (428 for this item without it)' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_BULK_ITEMS },
    ),
    department: Type.Optional(Type.String({ minLength: 1 })),
    assigneeId: Type.Optional(Type.String({ minLength: 1 })),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  },
  { additionalProperties: false },
)
export type BulkActionBody = Static<typeof BulkActionSchema>

const { error: conflictError, ...conflictRest } = CaseConflictSchema.properties

/**
 * One case's outcome in a bulk action: the answer the single-case route would have given — on failure its error body
 * (a 412 with `changes` and the fresh `case`, as CaseConflictSchema), on success the case after the action.
 */
export const BulkItemResultSchema = Type.Object({
  id: Type.String(),
  ok: Type.Boolean(),
  /** The status this case alone would have answered (200, 404, 409, 412, 428…). */
  status: Type.Integer(),
  error: Type.Optional(conflictError),
  ...conflictRest,
})
export type BulkItemResult = Static<typeof BulkItemResultSchema>

export const BulkResultSchema = Type.Object({
  action: Type.String(),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
  /** In the order of `items`. */
  results: Type.Array(BulkItemResultSchema),
})
export type BulkResult = Static<typeof BulkResultSchema>
