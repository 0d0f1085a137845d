/**
 * Loop statistics (闭环统计) in SQL: one aggregate pass over `cases` (FILTER clauses, GROUPING SETS for the groups),
 * never rows loaded into Node.
 *
 * Definitions (the window is on reported_at: the cases REPORTED in [from, to), whatever happened to them since):
 * - reported: every case reported in the window; registered: registered_at is set; rejected / merged: that status;
 *   closed: status closed or rated; open: any other status (reported … verified).
 * - completionRate (办结率) = closed / (reported − rejected − merged): rejected cases were never accepted as cases
 *   and merged ones live on in the case they were merged into. Null when the denominator is 0.
 * - onTimeRate (按时办结率) = onTime / handled. handled: handled_at is set now (status handled, verified, closed or
 *   rated; a case sent back has no standing handling report). onTime: handled_at <= due_at AND the case was never
 *   escalated by the clock (no timeline row `escalate` with data.trigger = 'overdue', nor `overdue`). due_at moves
 *   on every escalation (a fresh limit for the new level), so a case that climbed because it ran out of time and
 *   was then handled within its new limit is still late. A whistle (吹哨, trigger 'whistle') is a legitimate hand-
 *   over with a fresh limit, not lateness. After a reopen (重办) the round that counts is the latest one, but a clock
 *   escalation in any round makes the case late.
 * - overdueOpen: status reported, registered, dispatched or in_progress (the clock runs) and due_at < now — the same
 *   rule as the case's `overdue` flag. now is the server clock, also for historical windows.
 * - escalated: escalations > 0 (clock or whistle).
 * - meanStageMinutes: natural minutes between consecutive stage times on the case row, over the cases that have both
 *   (dispatch uses the latest dispatch or reassignment; after a reopen, accepted_at is the reopen time). total:
 *   reported → closed for cases closed now.
 * - satisfaction: mean / count / distribution of the rating of rated cases (a reopened case has lost its rating).
 * - gridLevelShare (小事不出格) = closed cases still owned by level 4 (grid) / closed. The owning level cannot change
 *   after close, so this is the level at close; a case whose category starts above the grid counts as not settled
 *   in the grid.
 * - Days and "today" are Asia/Shanghai calendar days (UTC+8, no daylight saving).
 */
import { CATEGORY_DEFINITIONS, FAMILY_CODES, categoryInfo } from '../../../shared/domain/categories.ts'
import { ESCALATABLE_STATUSES } from '../../../shared/domain/case-lifecycle.ts'
import { OPEN_STATUSES } from '../../../shared/domain/case-status.ts'
import type { RegionRef } from '../../../shared/schemas/region.ts'
import {
  DEFAULT_WINDOW_DAYS,
  MAX_WINDOW_DAYS,
  MAX_HEAT_POINTS,
  type Heat,
  type HeatWindow,
  type Hourly,
  type LoopFigures,
  type LoopGroup,
  type Ranking,
  type RankingBy,
  type LoopStats,
  type Overview,
  type StatsGroupBy,
} from '../../../shared/schemas/stats.ts'
import type { Queryable } from '../db/types.ts'
import { HttpError } from './http-error.ts'
import { scopeFilterSql } from '../auth/guards.ts'
import type { AuthUser } from '../auth/roles.ts'

const DAY_MS = 86_400_000
const SHANGHAI_OFFSET_MS = 8 * 3_600_000
const GRID_LEVEL = 4
const CLOSED_STATUSES = ['closed', 'rated'] as const

/** Our own constants only (never user input), so they are written into the SQL. */
const sqlList = (xs: readonly string[]) => xs.map((s) => `'${s.replace(/'/g, "''")}'`).join(', ')
const OPEN = sqlList(OPEN_STATUSES)
const CLOCK_RUNS = sqlList(ESCALATABLE_STATUSES)
const CLOSED = sqlList(CLOSED_STATUSES)

// ---------------------------------------------------------------------------------------------------- dates

/** YYYY-MM-DD of the Asia/Shanghai day `t` falls in. */
export function shanghaiDay(t: Date): string {
  return new Date(t.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10)
}

/** 00:00 Asia/Shanghai of a YYYY-MM-DD day. */
export function shanghaiMidnight(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) - SHANGHAI_OFFSET_MS)
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$/

/**
 * A query instant: an RFC 3339 date-time with an offset, or a bare date (an Asia/Shanghai day: its start, or for
 * the exclusive `to` bound the start of the next day, so `to=2026-04-17` includes the 17th). 400 naming the field.
 */
export function parseInstant(raw: string, field: 'from' | 'to'): Date {
  const bad = () =>
    new HttpError(400, 'invalid_request', `querystring.${field} must be an RFC 3339 date-time with an offset (2026-04-13T08:00:00+08:00) or a date (2026-04-13), got "${raw}"`, field)
  const d = DATE_ONLY.exec(raw)
  if (d) {
    const start = shanghaiMidnight(raw)
    // Date.parse rolls 2026-02-30 over to March: refuse days that do not exist.
    if (Number.isNaN(start.getTime()) || shanghaiDay(start) !== raw) throw bad()
    return field === 'to' ? new Date(start.getTime() + DAY_MS) : start
  }
  // An unencoded '+' in a query string arrives as a space: 2026-04-13T08:00:00 08:00 means +08:00.
  const text = raw.replace(/^(.+[Tt ][\d:.]+) (\d{2}:?\d{2})$/, '$1+$2')
  if (!DATE_TIME.test(text)) throw bad()
  const t = new Date(text.replace(' ', 'T'))
  if (Number.isNaN(t.getTime())) throw bad()
  // Same roll-over check on the date part, read in the offset the caller wrote.
  const [, y, m, day] = /^(\d{4})-(\d{2})-(\d{2})/.exec(raw)!.map(Number)
  const probe = new Date(Date.UTC(y, m - 1, day))
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== day) throw bad()
  return t
}

export interface Window {
  from: Date
  to: Date
}

/** The window of a query: defaults (the last 30 days up to now) and limits (from < to, at most 366 days). */
export function resolveWindow(q: { from?: string; to?: string }, now: Date): Window {
  const to = q.to !== undefined ? parseInstant(q.to, 'to') : now
  const from = q.from !== undefined ? parseInstant(q.from, 'from') : new Date(to.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS)
  if (from.getTime() >= to.getTime()) {
    throw new HttpError(400, 'invalid_request', `querystring.from (${from.toISOString()}) must be before querystring.to (${to.toISOString()})`, 'from')
  }
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
    const days = ((to.getTime() - from.getTime()) / DAY_MS).toFixed(1)
    throw new HttpError(400, 'invalid_request', `querystring.from: the window spans ${days} days; at most ${MAX_WINDOW_DAYS} (narrow from or to)`, 'from')
  }
  return { from, to }
}

// ---------------------------------------------------------------------------------------------------- scope

export interface ScopeRegion extends RegionRef {
  path: string
}

/**
 * The region by id (current or retired: old windows may need it), or a 404. With `within` (a signed-in caller) the
 * region must also lie in their scope subtree — checked in the query, so a region outside it answers the same 404
 * as one that does not exist; every figure is then computed under that region, i.e. inside the scope.
 */
export async function requireRegion(q: Queryable, id: string, within?: AuthUser): Promise<ScopeRegion> {
  const scope = within ? scopeFilterSql(within, 'path', 2) : { sql: 'TRUE', params: [] }
  const { rows } = await q.query<ScopeRegion>(
    `SELECT id, name, level, path::text AS path FROM regions WHERE id = $1 AND (${scope.sql})`,
    [id, ...scope.params],
  )
  if (!rows[0]) throw new HttpError(404, 'region_not_found', `no region ${id}`, 'region')
  return rows[0]
}

/** The codes a category filter matches: a family and its children, or one child. 400 for codes nobody defined. */
export function categoryCodes(code: string): string[] {
  const info = categoryInfo(code)
  if (!info) throw new HttpError(400, 'invalid_request', `querystring.category "${code}" is not a category (see GET /api/categories)`, 'category')
  return info.parent === null ? CATEGORY_DEFINITIONS.filter((c) => c.family === code).map((c) => c.code) : [code]
}

/** Numbered query parameters ($1, $2, …) in the order they are written into the SQL. */
class Params {
  readonly values: unknown[] = []
  add(v: unknown): string {
    this.values.push(v)
    return `$${this.values.length}`
  }
}

/** A department code that exists, or a 400 naming the field. */
export async function requireDepartment(q: Queryable, code: string): Promise<string> {
  const { rows } = await q.query(`SELECT 1 FROM departments WHERE code = $1`, [code])
  if (!rows[0]) throw new HttpError(400, 'invalid_request', `querystring.department "${code}" is not a department (see GET /api/categories)`, 'department')
  return code
}

/** The case filter of a statistics query (the wall's cross-filter), as asked. */
export interface CaseFilterRequest {
  regionId?: string
  /** The signed-in caller: `regionId` must lie in their scope (requireRegion). */
  within?: AuthUser
  category?: string
  department?: string
}

/** The case filter, checked: the region (404 outside the caller's scope), the category's codes, the department. */
export interface CaseFilter {
  region?: ScopeRegion
  category?: string
  codes?: string[]
  department?: string
}

export async function resolveFilter(q: Queryable, req: CaseFilterRequest): Promise<CaseFilter> {
  const codes = req.category !== undefined ? categoryCodes(req.category) : undefined
  const [region, department] = await Promise.all([
    req.regionId !== undefined ? requireRegion(q, req.regionId, req.within) : undefined,
    req.department !== undefined ? requireDepartment(q, req.department) : undefined,
  ])
  return { region, category: req.category, codes, department }
}

/** The filter's conditions on `cases c`, each starting with AND ('' for no filter). */
function filterSql(p: Params, f: CaseFilter): string {
  let sql = ''
  if (f.region) sql += ` AND c.region_path <@ ${p.add(f.region.path)}::ltree`
  if (f.codes) sql += ` AND c.category = ANY(${p.add(f.codes)}::text[])`
  if (f.department) sql += ` AND c.department = ${p.add(f.department)}`
  return sql
}

/** What every answer says of its filter. */
function echo(f: CaseFilter): { region: RegionRef | null; category: string | null; department: string | null } {
  return {
    region: f.region ? { id: f.region.id, name: f.region.name, level: f.region.level } : null,
    category: f.category ?? null,
    department: f.department ?? null,
  }
}

// ---------------------------------------------------------------------------------------------------- figures

/**
 * "Escalated by the clock": a timeline row written by the scheduler. Only cases with escalations > 0 or an overdue
 * flag can have one (escalations never decreases; the flag is set at the top level, where nothing clears it), so
 * the timeline is probed for those only, one index probe per case (case_events_case_idx). A scalar subquery, not
 * EXISTS: PostgreSQL may turn an EXISTS into a hashed subplan that reads the whole timeline.
 */
const CLOCK_ESCALATED = `CASE WHEN c.escalations = 0 AND c.overdue_flagged_at IS NULL THEN false
  ELSE coalesce((SELECT true FROM case_events e
                  WHERE e.case_id = c.id
                    AND (e.action = 'overdue' OR (e.action = 'escalate' AND e.data->>'trigger' = 'overdue'))
                  LIMIT 1), false) END`

/** Mean minutes between two stage times (date_part: float8 seconds, exact for whole seconds), to 0.01 minute. */
const stage = (name: string, to: string, from: string) =>
  `round((avg(date_part('epoch', c.${to} - c.${from})) / 60)::numeric, 2)::float8 AS m_${name}`

function figuresSql(now: string): string {
  return `
    count(*)::int AS reported,
    count(*) FILTER (WHERE c.registered_at IS NOT NULL)::int AS registered,
    count(*) FILTER (WHERE c.status = 'rejected')::int AS rejected,
    count(*) FILTER (WHERE c.status = 'merged')::int AS merged,
    count(*) FILTER (WHERE c.status IN (${CLOSED}))::int AS closed,
    count(*) FILTER (WHERE c.status IN (${OPEN}))::int AS open,
    count(*) FILTER (WHERE c.handled_at IS NOT NULL)::int AS handled,
    count(*) FILTER (WHERE c.handled_at IS NOT NULL AND c.handled_at <= c.due_at AND NOT (${CLOCK_ESCALATED}))::int AS on_time,
    count(*) FILTER (WHERE c.status IN (${CLOCK_RUNS}) AND c.due_at < ${now})::int AS overdue_open,
    count(*) FILTER (WHERE c.escalations > 0)::int AS escalated,
    count(*) FILTER (WHERE c.status IN (${CLOSED}) AND c.owning_level = ${GRID_LEVEL})::int AS closed_at_grid,
    ${stage('register', 'registered_at', 'reported_at')},
    ${stage('dispatch', 'dispatched_at', 'registered_at')},
    ${stage('accept', 'accepted_at', 'dispatched_at')},
    ${stage('handle', 'handled_at', 'accepted_at')},
    ${stage('verify', 'verified_at', 'handled_at')},
    ${stage('close', 'closed_at', 'verified_at')},
    ${stage('total', 'closed_at', 'reported_at')},
    avg(c.rating)::float8 AS rating_mean,
    count(c.rating)::int AS rated,
    count(*) FILTER (WHERE c.rating = 1)::int AS r1,
    count(*) FILTER (WHERE c.rating = 2)::int AS r2,
    count(*) FILTER (WHERE c.rating = 3)::int AS r3,
    count(*) FILTER (WHERE c.rating = 4)::int AS r4,
    count(*) FILTER (WHERE c.rating = 5)::int AS r5`
}

interface FigureRow {
  reported: number
  registered: number
  rejected: number
  merged: number
  closed: number
  open: number
  handled: number
  on_time: number
  overdue_open: number
  escalated: number
  closed_at_grid: number
  m_register: number | null
  m_dispatch: number | null
  m_accept: number | null
  m_handle: number | null
  m_verify: number | null
  m_close: number | null
  m_total: number | null
  rating_mean: number | null
  rated: number
  r1: number
  r2: number
  r3: number
  r4: number
  r5: number
}

const ratio = (n: number, d: number) => (d > 0 ? n / d : null)

export function completionRate(closed: number, reported: number, rejected: number, merged: number): number | null {
  return ratio(closed, reported - rejected - merged)
}

function toFigures(r: FigureRow): LoopFigures {
  return {
    reported: r.reported,
    registered: r.registered,
    rejected: r.rejected,
    merged: r.merged,
    closed: r.closed,
    open: r.open,
    completionRate: completionRate(r.closed, r.reported, r.rejected, r.merged),
    handled: r.handled,
    onTime: r.on_time,
    onTimeRate: ratio(r.on_time, r.handled),
    overdueOpen: r.overdue_open,
    escalated: r.escalated,
    closedAtGrid: r.closed_at_grid,
    gridLevelShare: ratio(r.closed_at_grid, r.closed),
    meanStageMinutes: {
      register: r.m_register,
      dispatch: r.m_dispatch,
      accept: r.m_accept,
      handle: r.m_handle,
      verify: r.m_verify,
      close: r.m_close,
      total: r.m_total,
    },
    satisfaction: {
      mean: r.rating_mean,
      rated: r.rated,
      distribution: { '1': r.r1, '2': r.r2, '3': r.r3, '4': r.r4, '5': r.r5 },
    },
  }
}

const EMPTY_ROW: FigureRow = {
  reported: 0, registered: 0, rejected: 0, merged: 0, closed: 0, open: 0, handled: 0, on_time: 0, overdue_open: 0,
  escalated: 0, closed_at_grid: 0, m_register: null, m_dispatch: null, m_accept: null, m_handle: null, m_verify: null,
  m_close: null, m_total: null, rating_mean: null, rated: 0, r1: 0, r2: 0, r3: 0, r4: 0, r5: 0,
}

// ---------------------------------------------------------------------------------------------------- loop

export interface LoopRequest extends CaseFilterRequest {
  from?: string
  to?: string
  groupBy: StatsGroupBy
}

/** GET /api/stats/loop: the figures of the cases reported in the window, and per group when asked. */
export async function loopStats(q: Queryable, req: LoopRequest, now: Date): Promise<LoopStats> {
  const window = resolveWindow(req, now)
  const filter = await resolveFilter(q, req)
  const { region, codes } = filter

  const p = new Params()
  const where = `c.reported_at >= ${p.add(window.from)} AND c.reported_at < ${p.add(window.to)}${filterSql(p, filter)}`
  const nowP = p.add(now)

  let key: string | undefined
  switch (req.groupBy) {
    case 'category':
      // No filter: by family. A family: by its codes (the family itself and each child). A child: that code.
      key = codes ? 'c.category' : `split_part(c.category, '.', 1)`
      break
    case 'day':
      key = `to_char(c.reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')`
      break
    case 'child_region': {
      // The label right below the region in the case's path is the child's id (labels are region ids). A case
      // owned by the region itself (no deeper label) is keyed by the region's own id.
      const depth = p.add(region ? region.path.split('.').length : 0)
      key = `CASE WHEN nlevel(c.region_path) > ${depth}::int THEN ltree2text(subpath(c.region_path, ${depth}::int, 1))
                  ELSE ${p.add(region?.id ?? '')}::text END`
      break
    }
    case 'none':
      break
  }

  const sql = key
    ? `SELECT ${key} AS key, GROUPING(${key}) = 1 AS is_total, ${figuresSql(nowP)}
         FROM cases c WHERE ${where}
        GROUP BY GROUPING SETS ((), (${key}))`
    : `SELECT NULL::text AS key, true AS is_total, ${figuresSql(nowP)} FROM cases c WHERE ${where}`
  const { rows } = await q.query<FigureRow & { key: string | null; is_total: boolean }>(sql, p.values)
  const total = rows.find((r) => r.is_total) ?? EMPTY_ROW
  const byKey = new Map(rows.filter((r) => !r.is_total).map((r) => [r.key!, r]))

  const result: LoopStats = {
    ...echo(filter),
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    asOf: now.toISOString(),
    groupBy: req.groupBy,
    ...toFigures(total),
  }
  if (req.groupBy !== 'none') result.groups = await groupsOf(q, req.groupBy, byKey, { region, codes, window })
  return result
}

/**
 * Groups in a stable order, the empty ones included (a chart wants every child, day or category): every current
 * child region (by id), every day of the window, every family (or code of the family asked for), in reference
 * order; keys found only in the data (a retired child region, a category since removed) come after.
 */
async function groupsOf(
  q: Queryable,
  groupBy: Exclude<StatsGroupBy, 'none'>,
  byKey: Map<string, FigureRow>,
  scope: { region?: ScopeRegion; codes?: string[]; window: Window },
): Promise<LoopGroup[]> {
  let expected: Array<{ key: string; name: string | null }>
  let nameOf: (keys: string[]) => Promise<Map<string, string>>
  switch (groupBy) {
    case 'child_region': {
      const { rows } = scope.region
        ? await q.query<{ key: string; name: string }>(`SELECT id AS key, name FROM regions WHERE parent_id = $1 AND valid_to IS NULL ORDER BY id`, [scope.region.id])
        : await q.query<{ key: string; name: string }>(`SELECT id AS key, name FROM regions WHERE parent_id IS NULL AND valid_to IS NULL ORDER BY id`)
      expected = rows
      nameOf = async (keys) => {
        const { rows: named } = await q.query<{ id: string; name: string }>(`SELECT id, name FROM regions WHERE id = ANY($1::text[])`, [keys])
        return new Map(named.map((r) => [r.id, r.name]))
      }
      break
    }
    case 'category': {
      const codes = scope.codes ?? FAMILY_CODES
      expected = codes.map((code) => ({ key: code, name: categoryInfo(code)?.zh ?? null }))
      nameOf = async (keys) => new Map(keys.flatMap((k) => (categoryInfo(k) ? [[k, categoryInfo(k)!.zh] as [string, string]] : [])))
      break
    }
    case 'day': {
      expected = []
      const last = shanghaiDay(new Date(scope.window.to.getTime() - 1))
      for (let day = shanghaiDay(scope.window.from); day <= last; day = shanghaiDay(new Date(shanghaiMidnight(day).getTime() + DAY_MS))) {
        expected.push({ key: day, name: null })
      }
      nameOf = async () => new Map()
      break
    }
  }
  const seen = new Set(expected.map((e) => e.key))
  const extra = [...byKey.keys()].filter((k) => !seen.has(k)).sort()
  const names = extra.length ? await nameOf(extra) : new Map<string, string>()
  return [...expected, ...extra.map((key) => ({ key, name: names.get(key) ?? null }))].map(({ key, name }) => ({
    key,
    name,
    ...toFigures(byKey.get(key) ?? EMPTY_ROW),
  }))
}

// ---------------------------------------------------------------------------------------------------- overview

/**
 * GET /api/stats/overview: live KPIs for the wall, in three index-friendly queries — the open cases (status first),
 * the cases reported since now − 30 days (reported_at first), the cases closed today (closed_at).
 */
export async function overview(q: Queryable, req: CaseFilterRequest, now: Date): Promise<Overview> {
  const filter = await resolveFilter(q, req)
  const day = shanghaiDay(now)
  const dayStart = shanghaiMidnight(day)
  const dayEnd = new Date(dayStart.getTime() + DAY_MS)
  const from30 = new Date(now.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS)

  const po = new Params()
  const openSql = `
    SELECT c.status, split_part(c.category, '.', 1) AS family, count(*)::int AS n,
           count(*) FILTER (WHERE c.status IN (${CLOCK_RUNS}) AND c.due_at < ${po.add(now)})::int AS overdue,
           count(*) FILTER (WHERE c.status IN (${CLOCK_RUNS}) AND c.due_at >= $1 AND c.due_at < $1::timestamptz + interval '1 hour')::int AS due_soon
      FROM cases c
     WHERE c.status IN (${OPEN})${filterSql(po, filter)}
     GROUP BY 1, 2`

  const pw = new Params()
  const windowSql = `
    SELECT count(*) FILTER (WHERE c.reported_at >= ${pw.add(dayStart)})::int AS reported_today,
           count(*) FILTER (WHERE c.reported_at < ${pw.add(now)})::int AS reported,
           count(*) FILTER (WHERE c.reported_at < $2 AND c.status = 'rejected')::int AS rejected,
           count(*) FILTER (WHERE c.reported_at < $2 AND c.status = 'merged')::int AS merged,
           count(*) FILTER (WHERE c.reported_at < $2 AND c.status IN (${CLOSED}))::int AS closed
      FROM cases c
     WHERE c.reported_at >= ${pw.add(from30)} AND c.reported_at < ${pw.add(dayEnd)}${filterSql(pw, filter)}`

  const pc = new Params()
  const closedSql = `
    SELECT count(*)::int AS n FROM cases c
     WHERE c.closed_at >= ${pc.add(dayStart)} AND c.closed_at < ${pc.add(dayEnd)} AND c.status IN (${CLOSED})${filterSql(pc, filter)}`

  const [open, win, closed] = await Promise.all([
    q.query<{ status: string; family: string; n: number; overdue: number; due_soon: number }>(openSql, po.values),
    q.query<{ reported_today: number; reported: number; rejected: number; merged: number; closed: number }>(windowSql, pw.values),
    q.query<{ n: number }>(closedSql, pc.values),
  ])

  const byStatus = { reported: 0, registered: 0, dispatched: 0, in_progress: 0, handled: 0, verified: 0 }
  const byFamily = new Map<string, { open: number; overdue: number }>()
  let overdueNow = 0
  let dueNextHour = 0
  for (const r of open.rows) {
    byStatus[r.status as keyof typeof byStatus] += r.n
    overdueNow += r.overdue
    dueNextHour += r.due_soon
    const f = byFamily.get(r.family) ?? { open: 0, overdue: 0 }
    f.open += r.n
    f.overdue += r.overdue
    byFamily.set(r.family, f)
  }
  const w = win.rows[0]
  return {
    ...echo(filter),
    asOf: now.toISOString(),
    day,
    open: { total: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus },
    overdueNow,
    dueNextHour,
    reportedToday: w.reported_today,
    closedToday: closed.rows[0].n,
    last30Days: {
      from: from30.toISOString(),
      to: now.toISOString(),
      reported: w.reported,
      rejected: w.rejected,
      merged: w.merged,
      closed: w.closed,
      completionRate: completionRate(w.closed, w.reported, w.rejected, w.merged),
    },
    openByCategory: [...byFamily]
      .map(([category, f]) => ({ category, name: categoryInfo(category)?.zh ?? category, ...f }))
      .sort((a, b) => b.open - a.open || a.category.localeCompare(b.category)),
  }
}

// ---------------------------------------------------------------------------------------------------- wall (issue #7)

const HOUR_MS = 3_600_000

/**
 * GET /api/stats/hourly: reported and closed per clock hour over the last 24 hours (the current hour last, counted
 * up to now). Closed: closed_at in the hour and the case is closed or rated now (the overview's closedToday rule).
 */
export async function hourly(q: Queryable, req: CaseFilterRequest, now: Date): Promise<Hourly> {
  const filter = await resolveFilter(q, req)
  // Asia/Shanghai is a whole-hour offset, so UTC hours are its hours too.
  const first = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - 23 * HOUR_MS)
  const p = new Params()
  const fromP = p.add(first)
  const nowP = p.add(now)
  const inFilter = filterSql(p, filter)
  const sql = `
    SELECT 'r' AS what, floor(extract(epoch FROM c.reported_at) / 3600)::bigint AS h, count(*)::int AS n
      FROM cases c WHERE c.reported_at >= ${fromP} AND c.reported_at < ${nowP}${inFilter} GROUP BY 2
    UNION ALL
    SELECT 'c', floor(extract(epoch FROM c.closed_at) / 3600)::bigint, count(*)::int
      FROM cases c WHERE c.closed_at >= ${fromP} AND c.closed_at < ${nowP} AND c.status IN (${CLOSED})${inFilter} GROUP BY 2`
  const { rows } = await q.query<{ what: 'r' | 'c'; h: string | number; n: number }>(sql, p.values)
  const hours = Array.from({ length: 24 }, (_, i) => ({ start: new Date(first.getTime() + i * HOUR_MS).toISOString(), reported: 0, closed: 0 }))
  const firstHour = first.getTime() / HOUR_MS
  for (const r of rows) {
    const slot = hours[Number(r.h) - firstHour]
    if (!slot) continue
    if (r.what === 'r') slot.reported += r.n
    else slot.closed += r.n
  }
  return { ...echo(filter), asOf: now.toISOString(), hours }
}

export interface RankingRequest extends CaseFilterRequest {
  by: RankingBy
  from?: string
  to?: string
}

/**
 * GET /api/stats/ranking: the loop figures (same definitions as /api/stats/loop) of the cases reported in the window,
 * per street (the second label of the case's region path) or per department (the case's department now).
 */
export async function ranking(q: Queryable, req: RankingRequest, now: Date): Promise<Ranking> {
  const window = resolveWindow(req, now)
  const filter = await resolveFilter(q, req)
  const { region } = filter
  const p = new Params()
  const where = [`c.reported_at >= ${p.add(window.from)} AND c.reported_at < ${p.add(window.to)}${filterSql(p, filter)}`]
  const key = req.by === 'street' ? `ltree2text(subpath(c.region_path, 1, 1))` : 'c.department'
  where.push(req.by === 'street' ? 'nlevel(c.region_path) >= 2' : 'c.department IS NOT NULL')
  const nowP = p.add(now)
  const { rows } = await q.query<FigureRow & { key: string }>(
    `SELECT ${key} AS key, ${figuresSql(nowP)} FROM cases c WHERE ${where.join(' AND ')} GROUP BY 1`,
    p.values,
  )
  const byKey = new Map(rows.map((r) => [r.key, r]))
  let expected: Array<{ key: string; name: string | null; nameEn?: string | null }>
  if (req.by === 'street') {
    // Every current street in scope (a street that had no case still ranks), plus retired ones found in the data.
    const ps = new Params()
    const { rows: streets } = await q.query<{ key: string; name: string }>(
      `SELECT id AS key, name FROM regions
        WHERE level = 2 AND (valid_to IS NULL OR id = ANY(${ps.add([...byKey.keys()])}::text[]))
          ${region ? `AND (path <@ ${ps.add(region.path)}::ltree OR ${ps.add(region.path)}::ltree <@ path)` : ''}
        ORDER BY id`,
      ps.values,
    )
    expected = streets
  } else {
    const { rows: depts } = await q.query<{ key: string; name: string; nameEn: string }>(
      `SELECT code AS key, name_zh AS name, name_en AS "nameEn" FROM departments WHERE code = ANY($1::text[]) ORDER BY code`,
      [[...byKey.keys()]],
    )
    expected = depts
  }
  const seen = new Set(expected.map((e) => e.key))
  const extra = [...byKey.keys()].filter((k) => !seen.has(k)).sort()
  return {
    by: req.by,
    ...echo(filter),
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    asOf: now.toISOString(),
    groups: [...expected, ...extra.map((key) => ({ key, name: null, nameEn: null }))].map(({ key, name, nameEn }) => ({
      key,
      name,
      ...(req.by === 'department' ? { nameEn: nameEn ?? null } : {}),
      ...toFigures(byKey.get(key) ?? EMPTY_ROW),
    })),
  }
}

/** The window of the heatmap: today (Asia/Shanghai, from 00:00), or the last 7 / 30 days up to now. */
export function heatWindow(window: HeatWindow, now: Date): Window {
  if (window === 'today') return { from: shanghaiMidnight(shanghaiDay(now)), to: now }
  return { from: new Date(now.getTime() - (window === '7d' ? 7 : 30) * DAY_MS), to: now }
}

/** GET /api/stats/heat: the points of the cases reported in the window (every status), newest first, at most `limit`. */
export async function heat(q: Queryable, req: CaseFilterRequest & { window: HeatWindow; limit?: number }, now: Date): Promise<Heat> {
  const filter = await resolveFilter(q, req)
  const w = heatWindow(req.window, now)
  const limit = Math.min(req.limit ?? 50_000, MAX_HEAT_POINTS)
  const p = new Params()
  const { rows } = await q.query<{ x: number; y: number }>(
    `SELECT round(ST_X(c.location)::numeric, 6)::float8 AS x, round(ST_Y(c.location)::numeric, 6)::float8 AS y
       FROM cases c
      WHERE c.reported_at >= ${p.add(w.from)} AND c.reported_at < ${p.add(w.to)}${filterSql(p, filter)}
      ORDER BY c.reported_at DESC
      LIMIT ${p.add(limit + 1)}`,
    p.values,
  )
  const truncated = rows.length > limit
  const points = (truncated ? rows.slice(0, limit) : rows).map((r) => [r.x, r.y])
  return {
    window: req.window,
    ...echo(filter),
    from: w.from.toISOString(),
    to: w.to.toISOString(),
    count: points.length,
    truncated,
    points,
  }
}
