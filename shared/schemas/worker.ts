import { Type, type Static, type TSchema } from 'typebox'
import { INPUT_CRS, type InputCrs } from '../geo/crs.ts'
import { LatSchema, LonSchema } from './geo.ts'
import { RegionRefSchema } from './region.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const DateTime = Type.String({ format: 'date-time' })
const LonLat = Type.Tuple([Type.Number(), Type.Number()], { description: '[lon, lat], WGS84' })

export const WORKER_STATUSES = ['on_duty', 'busy', 'off_duty'] as const
export type WorkerStatus = (typeof WORKER_STATUSES)[number]
export const WORKER_ROLES = ['grid_chief', 'grid_worker', 'microgrid_leader'] as const
export type WorkerRole = (typeof WORKER_ROLES)[number]

export const WorkerStatusSchema = Type.Unsafe<WorkerStatus>({ type: 'string', enum: [...WORKER_STATUSES] })
export const WorkerRoleSchema = Type.Unsafe<WorkerRole>({ type: 'string', enum: [...WORKER_ROLES] })

/** Most positions one batch may carry (one transaction). */
export const MAX_POSITIONS_PER_BATCH = 5000
/** How far ahead of the server's clock a fix may claim to be taken (device clocks drift; beyond this it is refused). */
export const MAX_CLOCK_AHEAD_MS = 5 * 60_000

const Crs = Type.Unsafe<InputCrs>({ type: 'string', enum: INPUT_CRS, description: 'CRS of lon/lat; gcj02 is converted, storage is WGS84' })
const Fix = {
  lon: LonSchema,
  lat: LatSchema,
  at: Type.Optional(Type.String({ format: 'date-time', description: 'when the device took the fix (default: when the server receives it)' })),
  accuracyM: Type.Optional(Type.Number({ minimum: 0, maximum: 100_000, description: 'horizontal accuracy, metres' })),
  status: Type.Optional(Type.Unsafe<WorkerStatus>({ type: 'string', enum: [...WORKER_STATUSES], description: 'the worker\'s status as of this fix' })),
}

/** POST /api/workers/:id/positions */
export const PositionCreateSchema = Type.Object({ ...Fix, crs: Type.Optional(Crs) }, { additionalProperties: false })
export type PositionCreate = Static<typeof PositionCreateSchema>

export const BatchPositionSchema = Type.Object(
  { workerId: Type.String({ minLength: 1, maxLength: 64 }), ...Fix },
  { additionalProperties: false },
)
export type BatchPosition = Static<typeof BatchPositionSchema>

/** POST /api/workers/positions: many workers (a gateway, the patrol simulator), one transaction, all or nothing. */
export const PositionBatchSchema = Type.Object(
  {
    positions: Type.Array(BatchPositionSchema, { minItems: 1, maxItems: MAX_POSITIONS_PER_BATCH }),
    crs: Type.Optional(Crs),
  },
  { additionalProperties: false },
)
export type PositionBatch = Static<typeof PositionBatchSchema>

/** 200 to POST /api/workers/:id/positions. */
export const PositionRecordedSchema = Type.Object({
  workerId: Type.String(),
  at: DateTime,
  /** The finest region covering the fix (grid or micro-grid); null when it lies outside every region — stored all the same. */
  gridId: Nullable(Type.String()),
  /** District down to gridId; [] outside every region. */
  regions: Type.Array(RegionRefSchema),
  outsideCoverage: Type.Boolean(),
  /** False when the same worker already had a fix at this instant (a retried upload): nothing new stored. */
  stored: Type.Boolean(),
  /** True when it became the live position; false when older than the live one (kept in the track only). */
  live: Type.Boolean(),
})
export type PositionRecorded = Static<typeof PositionRecordedSchema>

/** 200 to POST /api/workers/positions. */
export const PositionBatchResultSchema = Type.Object({
  accepted: Type.Integer({ description: 'positions in the batch' }),
  stored: Type.Integer({ description: 'new track rows (accepted − duplicates)' }),
  duplicates: Type.Integer({ description: 'same worker, same instant as a stored fix: a retried upload' }),
  outsideCoverage: Type.Integer({ description: 'stored with a null grid: outside every region' }),
  live: Type.Integer({ description: 'workers whose live position moved' }),
  outOfOrder: Type.Integer({ description: 'older than the worker\'s live position: kept in the track only' }),
  /** In input order: the finest region of each position, null outside every region. */
  grids: Type.Array(Nullable(Type.String())),
})
export type PositionBatchResult = Static<typeof PositionBatchResultSchema>

export const WorkerSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: WorkerRoleSchema,
  /** The grid (chief, worker) or micro-grid (leader) this person serves. */
  regionId: Type.String(),
  status: WorkerStatusSchema,
  phone: Nullable(Type.String()),
  home: Nullable(LonLat),
  /** Last known position (live), and the finest region under it. */
  position: Nullable(LonLat),
  positionGridId: Nullable(Type.String()),
  /** When the live position was taken; the client shows the age against `now` of the response. */
  lastSeenAt: Nullable(DateTime),
})
export type Worker = Static<typeof WorkerSchema>

export const WorkerListSchema = Type.Object({
  /** The server's clock when answering: age = now − lastSeenAt, whatever the client's clock says. */
  now: DateTime,
  workers: Type.Array(WorkerSchema),
  /** Offset of the next page, null on the last page. */
  nextOffset: Nullable(Type.Integer()),
})
export type WorkerList = Static<typeof WorkerListSchema>

/** One worker on the map: what a wall draws, nothing more (no phone, no home): [id, name, status, lon, lat]. */
export type LiveWorkerTuple = [id: string, name: string, status: WorkerStatus, lon: number, lat: number]

/**
 * GET /api/workers/live: every worker with a live position in the caller's reach, as tuples, in one answer — the
 * wall's snapshot (19,160 staff in the demo region: 1.0 MB instead of 4.5 MB of full records with phones, in 190
 * instead of 500 ms on the embedded database).
 */
export const LiveWorkerListSchema = Type.Object({
  now: DateTime,
  /** [id, name, status, lon, lat], ordered by id. */
  workers: Type.Array(Type.Tuple([Type.String(), Type.String(), WorkerStatusSchema, Type.Number(), Type.Number()])),
})
export type LiveWorkerList = Static<typeof LiveWorkerListSchema>

export const NearestWorkersSchema = Type.Object({
  now: DateTime,
  workers: Type.Array(Type.Intersect([WorkerSchema, Type.Object({ distanceM: Type.Number({ description: 'geodesic, metres' }) })])),
})
export type NearestWorkers = Static<typeof NearestWorkersSchema>

export const WorkerStatusChangeSchema = Type.Object({ status: WorkerStatusSchema }, { additionalProperties: false })

export const WorkerStatusChangedSchema = Type.Object({ worker: WorkerSchema, changed: Type.Boolean() })

/** GET /api/workers/:id/track (format=line): one Feature, a LineString (null with fewer than two fixes). */
export const TrackLineSchema = Type.Object({
  type: Type.Literal('Feature'),
  id: Type.String(),
  geometry: Nullable(Type.Object({ type: Type.Literal('LineString'), coordinates: Type.Array(LonLat) })),
  properties: Type.Object({
    workerId: Type.String(),
    from: DateTime,
    to: DateTime,
    count: Type.Integer(),
    /** More fixes in the window than `limit`: the earliest `limit` are returned. */
    truncated: Type.Boolean(),
    /** Per vertex: epoch milliseconds, finest region. */
    times: Type.Array(Type.Number()),
    grids: Type.Array(Nullable(Type.String())),
  }),
})

/** GET /api/workers/:id/track?format=points: a FeatureCollection of the fixes, oldest first. */
export const TrackPointsSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(
    Type.Object({
      type: Type.Literal('Feature'),
      geometry: Type.Object({ type: Type.Literal('Point'), coordinates: LonLat }),
      properties: Type.Object({
        at: DateTime,
        gridId: Nullable(Type.String()),
        accuracyM: Nullable(Type.Number()),
        status: Nullable(WorkerStatusSchema),
      }),
    }),
  ),
  properties: Type.Object({ workerId: Type.String(), from: DateTime, to: DateTime, count: Type.Integer(), truncated: Type.Boolean() }),
})

// ---- pushed events ------------------------------------------------------------------------------------------------

/** One live position in a `workers:moved` event: [workerId, lon, lat, tMillis (when taken), status, gridId | null]. */
export type WorkerPositionTuple = [id: string, lon: number, lat: number, tMillis: number, status: WorkerStatus, gridId: string | null]

/**
 * `workers:moved`: the live positions one batch moved, one event per street (routed to the wall, the district and
 * the street; community and grid rooms do not get it — their clients subscribe to the street and filter on gridId).
 * Each worker at most once (its newest fix in the batch); fixes older than the live position are never pushed.
 */
export interface WorkersMovedEvent {
  /** The street (level 2) the positions lie in; for fixes outside every region, the street of the worker's own grid. */
  regionId: string | null
  positions: WorkerPositionTuple[]
}

/** `worker:updated`: a status set through POST /api/workers/:id/status; routed by the worker's own grid. */
export interface WorkerUpdatedEvent {
  worker: Worker
  from: { status: WorkerStatus }
  /** Who set it (X-Actor), if anyone said. */
  by: string | null
}
