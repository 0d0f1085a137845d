import { Type, type Static, type TSchema } from 'typebox'
import { CASE_ACTIONS, CASE_SOURCES, PRIORITIES, type CaseAction, type CaseSource, type Priority } from '../domain/case-lifecycle.ts'
import { CASE_STATUSES, type CaseStatus } from '../domain/case-status.ts'
import { INPUT_CRS, type InputCrs } from '../geo/crs.ts'
import { LatSchema, LonSchema } from './geo.ts'
import { RegionRefSchema } from './region.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

export const CategoryCodeSchema = Type.String({
  pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)?$',
  maxLength: 80,
  description: 'category code: a family (public_facilities) or family.child (public_facilities.street_light), see GET /api/categories',
})
export const PrioritySchema = Type.Unsafe<Priority>({ type: 'string', enum: PRIORITIES })
export const SourceSchema = Type.Unsafe<CaseSource>({ type: 'string', enum: CASE_SOURCES })
export const StatusSchema = Type.Unsafe<CaseStatus>({ type: 'string', enum: CASE_STATUSES })
export const ActionSchema = Type.Unsafe<CaseAction>({ type: 'string', enum: CASE_ACTIONS })
const PhotoIds = Type.Array(Type.String({ format: 'uuid' }), {
  maxItems: 6,
  uniqueItems: true,
  description: 'ids returned by POST /api/photos (at most 6 per case)',
})

/** How far `madeAt` may lie ahead of the server's clock (a phone's clock runs a little fast) and behind it (a week offline). */
export const MADE_AT_MAX_AHEAD_MS = 5 * 60_000
export const MADE_AT_MAX_AGE_MS = 7 * 24 * 3_600_000
export const MadeAtSchema = Type.String({
  format: 'date-time',
  description: 'when the user made it on the phone (an item queued offline keeps its own time); at most 5 minutes ahead of the server and 7 days behind it',
})
const MadeAt = Type.Optional(MadeAtSchema)

export const CaseCreateSchema = Type.Object(
  {
    category: CategoryCodeSchema,
    description: Type.String({ minLength: 1, maxLength: 2000 }),
    lon: LonSchema,
    lat: LatSchema,
    crs: Type.Optional(
      Type.Unsafe<InputCrs>({ type: 'string', enum: INPUT_CRS, description: 'CRS of lon/lat; gcj02 is converted, storage is WGS84' }),
    ),
    source: Type.Optional(SourceSchema),
    priority: Type.Optional(PrioritySchema),
    address: Type.Optional(Type.String({ maxLength: 300 })),
    photos: Type.Optional(PhotoIds),
    madeAt: MadeAt,
    selfHandled: Type.Optional(
      Type.Object(
        {
          note: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'what was done (the handle entry’s note)' })),
          photos: Type.Optional(PhotoIds),
        },
        {
          additionalProperties: false,
          description:
            '小事不出格 — handled on the spot by the grid worker reporting it (grid workers only): the case is registered, dispatched to them at grid level, accepted and handled in the same transaction, and waits for verification by someone else. photos: the after-photos, on the handle entry (`photos` above are the report’s)',
        },
      ),
    ),
  },
  { additionalProperties: false },
)
export type CaseCreate = Static<typeof CaseCreateSchema>

const DateTime = Type.String({ format: 'date-time' })

/**
 * A case as the API and the event stream carry it. `default`: the value most cases have (a new case's); the socket
 * wire form (shared/protocol/wire.ts) leaves such a field out, and every null of a nullable field, and the client
 * restores them from this schema. Every field is always present in the API's answers.
 */
export const CaseSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  /** Human-readable case number, e.g. GC20261121000042. */
  code: Type.String(),
  status: StatusSchema,
  category: Type.String(),
  priority: PrioritySchema,
  source: SourceSchema,
  description: Type.String(),
  address: Nullable(Type.String()),
  lon: Type.Number(),
  lat: Type.Number(),
  /** The region chain resolved when the case was reported, district first. */
  regions: Type.Array(RegionRefSchema),
  /** Level that owns the case now: 4 grid, 3 community, 2 street, 1 district (climbs on escalation). */
  owningLevel: Type.Integer({ minimum: 1, maximum: 4 }),
  department: Nullable(Type.String()),
  assigneeId: Nullable(Type.String()),
  reporter: Nullable(Type.String()),
  reportedAt: DateTime,
  /** When the reporter made the report on their phone (`madeAt` of the intake), null when not sent; reportedAt is the server's. */
  madeAt: Nullable(DateTime),
  updatedAt: DateTime,
  /** When the current level's time limit runs out (handling must be reported by then). */
  dueAt: Nullable(DateTime),
  /** Seconds until dueAt when the response was made (negative: overdue); null once handled or final. */
  timeLeftSeconds: Nullable(Type.Integer()),
  overdue: Type.Boolean({ default: false }),
  escalations: Type.Integer({ default: 0 }),
  /** Handled on the spot by the grid worker who reported it (小事不出格): reported already handled, awaiting verification. */
  selfHandled: Type.Boolean({ default: false }),
  /** People who added themselves to this case instead of reporting it again (POST /api/cases/:id/supplements; the reporter not counted). */
  supporters: Type.Integer({ minimum: 0, default: 0 }),
  stages: Type.Object({
    registeredAt: Nullable(DateTime),
    dispatchedAt: Nullable(DateTime),
    acceptedAt: Nullable(DateTime),
    handledAt: Nullable(DateTime),
    verifiedAt: Nullable(DateTime),
    closedAt: Nullable(DateTime),
    ratedAt: Nullable(DateTime),
  }),
  rating: Nullable(Type.Integer({ minimum: 1, maximum: 5 })),
  ratingComment: Nullable(Type.String()),
  /** When the reporter asked for it to be done again (申请重办, request_reopen); cleared by the dispatcher's reopen. */
  reopenRequestedAt: Nullable(DateTime),
  mergedInto: Nullable(Type.String({ format: 'uuid' })),
  version: Type.Integer(),
})
export type Case = Static<typeof CaseSchema>

export const TimelineEntrySchema = Type.Object({
  id: Type.Integer(),
  at: DateTime,
  actor: Type.String(),
  action: Type.String(),
  fromStatus: Nullable(StatusSchema),
  toStatus: Nullable(StatusSchema),
  fromLevel: Nullable(Type.Integer()),
  toLevel: Nullable(Type.Integer()),
  note: Nullable(Type.String()),
  attachments: Type.Array(Type.String({ description: 'photo URL' }), { default: [] }),
  data: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
})
export type TimelineEntry = Static<typeof TimelineEntrySchema>

/**
 * 412 version_mismatch to an action (issue #8): who changed what since the version the caller acted on (the timeline
 * entries after it, oldest first, at most 50) and the case as it is now — so a dispatcher never overwrites a
 * colleague silently and never has to reload to see why.
 */
export const CaseConflictSchema = Type.Object({
  error: Type.String(),
  message: Type.Optional(Type.String()),
  field: Type.Optional(Type.String()),
  currentVersion: Type.Optional(Type.Integer()),
  changes: Type.Optional(Type.Array(TimelineEntrySchema)),
  case: Type.Optional(CaseSchema),
})
export type CaseConflict = Static<typeof CaseConflictSchema>

export const PhotoRefSchema = Type.Object({ id: Type.String(), url: Type.String() })

export const CaseDetailSchema = Type.Intersect([
  CaseSchema,
  Type.Object({
    timeline: Type.Array(TimelineEntrySchema),
    photos: Type.Array(PhotoRefSchema),
    allowedActions: Type.Array(ActionSchema),
  }),
])
export type CaseDetail = Static<typeof CaseDetailSchema>

export const DuplicateCandidateSchema = Type.Object({
  id: Type.String(),
  code: Type.String(),
  status: StatusSchema,
  distanceM: Type.Number(),
  reportedAt: DateTime,
})

/** 201 to POST /api/cases: the case plus open cases that look like the same problem (same category, ≤ 50 m, 24 h). */
export const CaseCreatedSchema = Type.Intersect([
  CaseSchema,
  Type.Object({ possibleDuplicates: Type.Array(DuplicateCandidateSchema) }),
])
export type CaseCreated = Static<typeof CaseCreatedSchema>

/** GET /api/cases/nearby: the query (lon/lat coerced from the query string). */
export const NearbyQuerySchema = Type.Object(
  {
    lon: LonSchema,
    lat: LatSchema,
    crs: Type.Optional(Type.Unsafe<InputCrs>({ type: 'string', enum: INPUT_CRS, description: 'CRS of lon/lat; gcj02 is converted' })),
    category: Type.Optional(CategoryCodeSchema),
    radiusM: Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'metres around the point' }),
    hours: Type.Integer({ minimum: 1, maximum: 168, default: 24, description: 'reported within the last … hours' }),
  },
  { additionalProperties: false },
)
export type NearbyQuery = Static<typeof NearbyQuerySchema>

/** Most cases GET /api/cases/nearby answers. */
export const MAX_NEARBY = 10
/** How much of a description the nearby lookup shows. */
export const NEARBY_DESCRIPTION_CHARS = 80

/**
 * One open case near a point, as anyone about to report may see it: what and where, nothing personal (no reporter,
 * no phone, no address).
 */
export const NearbyCaseSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  code: Type.String(),
  category: Type.String(),
  status: StatusSchema,
  reportedAt: DateTime,
  distanceM: Type.Number({ description: 'metres from the point asked (geodesic)' }),
  description: Type.String({ description: 'its first 80 characters' }),
  supporters: Type.Integer({ minimum: 0, description: 'people who added themselves to it (POST /api/cases/:id/supplements)' }),
})
export const NearbyCasesSchema = Type.Object({ cases: Type.Array(NearbyCaseSchema) })
export type NearbyCases = Static<typeof NearbyCasesSchema>

export const CaseListSchema = Type.Object({
  cases: Type.Array(CaseSchema),
  /** Offset of the next page, null on the last page. */
  nextOffset: Nullable(Type.Integer()),
  /** Event-log position of this list: a dashboard resumes the event stream after it (events:resume { after: seq }). */
  seq: Type.Integer({ minimum: 0 }),
})
export type CaseList = Static<typeof CaseListSchema>

// ---- action bodies: every one carries the case version unless If-Match does -------------------------------------

const Version = Type.Optional(Type.Integer({ minimum: 1, description: 'the case version acted on (or send If-Match)' }))
const Note = Type.String({ minLength: 1, maxLength: 2000 })
const body = <P extends Record<string, TSchema>>(props: P) =>
  Type.Object({ version: Version, madeAt: MadeAt, ...props }, { additionalProperties: false })

export const ACTION_BODIES = {
  register: body({ note: Type.Optional(Note), priority: Type.Optional(PrioritySchema), category: Type.Optional(CategoryCodeSchema) }),
  reject: body({ reason: Note }),
  dispatch: body({ department: Type.Optional(Type.String({ minLength: 1 })), assigneeId: Type.Optional(Type.String({ minLength: 1 })), note: Type.Optional(Note) }),
  reassign: body({ department: Type.Optional(Type.String({ minLength: 1 })), assigneeId: Type.Optional(Type.String({ minLength: 1 })), reason: Note }),
  accept: body({ note: Type.Optional(Note) }),
  handle: body({ note: Note, photos: Type.Optional(PhotoIds) }),
  // The verifier's evidence (核查照片): what the handling left on the spot, or what is still wrong.
  verify: body({ note: Type.Optional(Note), photos: Type.Optional(PhotoIds) }),
  send_back: body({ reason: Note, photos: Type.Optional(PhotoIds) }),
  close: body({ note: Type.Optional(Note) }),
  rate: body({ rating: Type.Integer({ minimum: 1, maximum: 5 }), comment: Type.Optional(Type.String({ maxLength: 2000 })) }),
  // The reporter, dissatisfied with a low-rated result: why, and what it looks like now.
  request_reopen: body({ reason: Note, photos: Type.Optional(PhotoIds) }),
  reopen: body({ reason: Note }),
  escalate: body({ reason: Note }),
  merge: body({ into: Type.String({ format: 'uuid', description: 'the case this one duplicates' }), note: Type.Optional(Note) }),
  note: body({ note: Note, photos: Type.Optional(PhotoIds) }),
} satisfies Record<CaseAction, TSchema>

export type ActionBody<A extends CaseAction> = Static<(typeof ACTION_BODIES)[A]>
/** POST /api/cases/:id/supplements: "me too" — I see the same problem here. */
export const SupplementCreateSchema = Type.Object(
  {
    lon: LonSchema,
    lat: LatSchema,
    crs: Type.Optional(Type.Unsafe<InputCrs>({ type: 'string', enum: INPUT_CRS, description: 'CRS of lon/lat; gcj02 is converted' })),
    note: Type.Optional(Note),
    photos: Type.Optional(PhotoIds),
    madeAt: MadeAt,
  },
  { additionalProperties: false },
)
export type SupplementCreate = Static<typeof SupplementCreateSchema>

/** How far from the case a supplement may be made (the widest nearby lookup). */
export const SUPPLEMENT_RADIUS_M = 200

/** 201 to a supplement: the case as the caller may now read it, and the timeline entry written. */
export const SupplementCreatedSchema = Type.Object({ case: CaseSchema, entry: TimelineEntrySchema })
export type SupplementCreated = Static<typeof SupplementCreatedSchema>

export type AnyActionBody = { version?: number; madeAt?: string; note?: string; reason?: string; priority?: Priority; category?: string; department?: string; assigneeId?: string; photos?: string[]; rating?: number; comment?: string; into?: string }
