/**
 * Loop statistics (闭环统计): GET /api/stats/loop (a time window of reported cases under a region and category,
 * optionally grouped) and GET /api/stats/overview (live KPIs for the wall). Definitions are in the descriptions
 * below and in server/src/services/stats.ts; every figure is computed in one SQL pass over `cases`.
 */
import { Type, type Static, type TSchema } from 'typebox'
import { RegionRefSchema } from './region.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Count = (description: string) => Type.Integer({ minimum: 0, description })
const Rate = (description: string) => Nullable(Type.Number({ minimum: 0, maximum: 1, description }))
const Minutes = (description: string) => Nullable(Type.Number({ description: `${description}; natural minutes, mean over the cases that have both times (null: none)` }))
const DateTime = Type.String({ format: 'date-time' })

export const STATS_GROUP_BY = ['none', 'category', 'child_region', 'day'] as const
export type StatsGroupBy = (typeof STATS_GROUP_BY)[number]

/** The longest window GET /api/stats/loop accepts, in days. */
export const MAX_WINDOW_DAYS = 366
/** The window when neither `from` nor `to` is given: the last 30 days up to now. */
export const DEFAULT_WINDOW_DAYS = 30

const Instant = (what: string) =>
  Type.String({
    maxLength: 40,
    description: `${what}: an RFC 3339 date-time (2026-04-13T00:00:00+08:00) or a calendar date (2026-04-13, a day in Asia/Shanghai)`,
  })

/**
 * The case filter every statistics route takes (the wall's cross-filter): the cases under a region, of a category
 * and/or of a department. Each narrows every figure of the answer; the answer echoes `category` and `department`.
 */
const RegionQuery = Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_]{1,64}$', description: 'a region id at any level; absent: everything' }))
const CaseFilterQuery = {
  region: RegionQuery,
  category: Type.Optional(
    Type.String({
      pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)?$',
      maxLength: 80,
      description: 'a category code; a family (public_facilities) matches its children too',
    }),
  ),
  department: Type.Optional(
    Type.String({ pattern: '^[a-z][a-z0-9_]*$', maxLength: 64, description: 'a department code (GET /api/categories): the cases it holds now' }),
  ),
}
/** The window of reported_at (loop and ranking). */
const WindowQuery = {
  from: Type.Optional(Instant('cases reported at or after; a date means 00:00 of that day. Default: `to` − 30 days')),
  to: Type.Optional(Instant('cases reported before; a date means the end of that day (the day is included). Default: now')),
}
/** The filter as the answer states it. */
const CaseFilterEcho = {
  category: Nullable(Type.String()),
  department: Nullable(Type.String()),
}

export const LoopQuerySchema = Type.Object(
  {
    ...CaseFilterQuery,
    ...WindowQuery,
    groupBy: Type.Unsafe<StatsGroupBy>({
      type: 'string',
      enum: STATS_GROUP_BY,
      default: 'none',
      description: 'category: families (or, when `category` is given, its codes); child_region: the direct children of `region` (districts without one); day: Asia/Shanghai calendar days of reported_at',
    }),
  },
  { additionalProperties: false },
)
export type LoopQuery = Static<typeof LoopQuerySchema>

const StageMinutesSchema = Type.Object({
  register: Minutes('reported → registered (立案)'),
  dispatch: Minutes('registered → dispatched (派遣; the last dispatch or reassignment)'),
  accept: Minutes('dispatched → accepted (受理)'),
  handle: Minutes('accepted → handled (处置反馈)'),
  verify: Minutes('handled → verified (核查)'),
  close: Minutes('verified → closed (结案)'),
  total: Minutes('reported → closed, for cases that are closed now'),
})

const SatisfactionSchema = Type.Object({
  mean: Nullable(Type.Number({ description: 'mean rating 1–5 of the rated cases (null: none rated)' })),
  rated: Count('cases with a rating now (status rated)'),
  distribution: Type.Object(
    { '1': Type.Integer(), '2': Type.Integer(), '3': Type.Integer(), '4': Type.Integer(), '5': Type.Integer() },
    { description: 'rated cases by rating' },
  ),
})

/** The figures of one set of cases (the whole window, or one group of it). */
const figureProperties = {
  reported: Count('cases reported in the window (every status)'),
  registered: Count('of those, registered (立案) at some point: registered_at is set'),
  rejected: Count('status rejected (不予立案)'),
  merged: Count('status merged (duplicates of another case)'),
  closed: Count('status closed or rated (结案)'),
  open: Count('still open: reported, registered, dispatched, in_progress, handled or verified'),
  completionRate: Rate('办结率 = closed / (reported − rejected − merged); null when the denominator is 0'),
  handled: Count('cases with a standing handling report (handled_at set: handled, verified, closed or rated)'),
  onTime: Count('of the handled, those on time: never escalated by the clock and handled_at <= due_at'),
  onTimeRate: Rate('按时办结率 = onTime / handled; null when none handled'),
  overdueOpen: Count('open with the clock running (reported, registered, dispatched, in_progress) and due_at < now'),
  escalated: Count('escalated at least once, by the clock or by a whistle (吹哨): escalations > 0'),
  closedAtGrid: Count('closed cases whose owning level is still 4 (grid)'),
  gridLevelShare: Rate('小事不出格 = closedAtGrid / closed; null when none closed'),
  selfHandled: Count('自行处置: reported already handled on the spot by the grid worker who found them (selfHandled)'),
  meanStageMinutes: StageMinutesSchema,
  satisfaction: SatisfactionSchema,
}

export const LoopFiguresSchema = Type.Object(figureProperties)
export type LoopFigures = Static<typeof LoopFiguresSchema>

export const LoopGroupSchema = Type.Object({
  key: Type.String({ description: 'region id, category code or YYYY-MM-DD' }),
  name: Nullable(Type.String({ description: 'region name or category name (zh); null for days' })),
  nameEn: Type.Optional(Nullable(Type.String({ description: 'department rankings: the English name' }))),
  ...figureProperties,
})
export type LoopGroup = Static<typeof LoopGroupSchema>

export const LoopStatsSchema = Type.Object({
  region: Nullable(RegionRefSchema),
  ...CaseFilterEcho,
  from: DateTime,
  to: DateTime,
  /** The clock reading used for overdueOpen. */
  asOf: DateTime,
  groupBy: Type.Unsafe<StatsGroupBy>({ type: 'string', enum: STATS_GROUP_BY }),
  ...figureProperties,
  groups: Type.Optional(Type.Array(LoopGroupSchema, { description: 'present unless groupBy is none' })),
})
export type LoopStats = Static<typeof LoopStatsSchema>

export const OverviewQuerySchema = Type.Object(CaseFilterQuery, { additionalProperties: false })
export type OverviewQuery = Static<typeof OverviewQuerySchema>

export const OverviewSchema = Type.Object({
  region: Nullable(RegionRefSchema),
  ...CaseFilterEcho,
  asOf: DateTime,
  /** Today in Asia/Shanghai (YYYY-MM-DD): reportedToday and closedToday count this day. */
  day: Type.String(),
  open: Type.Object({
    total: Count('open cases, whenever reported'),
    byStatus: Type.Object({
      reported: Type.Integer(),
      registered: Type.Integer(),
      dispatched: Type.Integer(),
      in_progress: Type.Integer(),
      handled: Type.Integer(),
      verified: Type.Integer(),
    }),
  }),
  overdueNow: Count('open with the clock running and due_at < now'),
  dueNextHour: Count('open with the clock running and now <= due_at < now + 1 hour'),
  reportedToday: Count('reported today (Asia/Shanghai)'),
  closedToday: Count('closed today (closed_at today, status closed or rated)'),
  last30Days: Type.Object({
    from: DateTime,
    to: DateTime,
    reported: Type.Integer(),
    rejected: Type.Integer(),
    merged: Type.Integer(),
    closed: Type.Integer(),
    completionRate: Rate('closed / (reported − rejected − merged) over cases reported in [now − 30 days, now)'),
    selfHandled: Count('reported in the 30 days already handled on the spot by their grid worker (自行处置)'),
  }),
  openByCategory: Type.Array(
    Type.Object({ category: Type.String({ description: 'family code' }), name: Type.String(), open: Type.Integer(), overdue: Type.Integer() }),
    { description: 'open cases by category family, most first' },
  ),
})
export type Overview = Static<typeof OverviewSchema>

// ---------------------------------------------------------------------------------------------------- wall (issue #7)

/** GET /api/stats/hourly: the last 24 clock hours. */
export const HourlyQuerySchema = Type.Object(CaseFilterQuery, { additionalProperties: false })
export type HourlyQuery = Static<typeof HourlyQuerySchema>

export const HourlySchema = Type.Object({
  region: Nullable(RegionRefSchema),
  ...CaseFilterEcho,
  asOf: DateTime,
  hours: Type.Array(
    Type.Object({
      start: DateTime,
      reported: Count('cases reported in [start, start + 1 h)'),
      closed: Count('cases closed in [start, start + 1 h) that are closed or rated now'),
    }),
    { description: '24 entries, oldest first; the last is the current hour (up to now)' },
  ),
})
export type Hourly = Static<typeof HourlySchema>

export const RANKING_BY = ['street', 'department'] as const
export type RankingBy = (typeof RANKING_BY)[number]

/** GET /api/stats/ranking: the loop figures per street (level 2) or per department, for the red/black list. */
export const RankingQuerySchema = Type.Object(
  {
    by: Type.Unsafe<RankingBy>({ type: 'string', enum: RANKING_BY, description: 'street: every street under `region` (all streets without one); department: the departments the cases were dispatched to' }),
    ...CaseFilterQuery,
    ...WindowQuery,
  },
  { additionalProperties: false },
)
export type RankingQuery = Static<typeof RankingQuerySchema>

export const RankingSchema = Type.Object({
  by: Type.Unsafe<RankingBy>({ type: 'string', enum: RANKING_BY }),
  region: Nullable(RegionRefSchema),
  ...CaseFilterEcho,
  from: DateTime,
  to: DateTime,
  asOf: DateTime,
  groups: Type.Array(LoopGroupSchema, {
    description: 'street: every current street in scope (empty ones included), by id; department: every department with cases in the window, by code. Names in Chinese (nameEn for departments).',
  }),
})
export type Ranking = Static<typeof RankingSchema>

export const HEAT_WINDOWS = ['today', '7d', '30d'] as const
export type HeatWindow = (typeof HEAT_WINDOWS)[number]
export const MAX_HEAT_POINTS = 100_000

/** GET /api/stats/heat: where cases were reported, for the heatmap. */
export const HeatQuerySchema = Type.Object(
  {
    window: Type.Unsafe<HeatWindow>({ type: 'string', enum: HEAT_WINDOWS, default: 'today', description: 'today (Asia/Shanghai), the last 7 days or the last 30 days up to now' }),
    ...CaseFilterQuery,
    limit: Type.Integer({ minimum: 1, maximum: MAX_HEAT_POINTS, default: 50_000, description: 'most points (the newest first)' }),
  },
  { additionalProperties: false },
)
export type HeatQuery = Static<typeof HeatQuerySchema>

export const HeatSchema = Type.Object({
  window: Type.Unsafe<HeatWindow>({ type: 'string', enum: HEAT_WINDOWS }),
  region: Nullable(RegionRefSchema),
  ...CaseFilterEcho,
  from: DateTime,
  to: DateTime,
  count: Count('points returned'),
  truncated: Type.Boolean({ description: 'more cases in the window than `limit`' }),
  points: Type.Array(Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }), { description: '[lon, lat] of each case reported in the window (WGS84, 6 decimals)' }),
})
export type Heat = Static<typeof HeatSchema>
