/**
 * Loop statistics (闭环统计): the answers of /api/stats/*, from one aggregate pass over `cases` each (the SQL is in
 * repos/stats.ts; the checked filter in stats-filter.ts, the windows in stats-windows.ts, the shapes in
 * stats-figures.ts).
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
 * - selfHandled (自行处置) = cases reported in the window that their grid worker reported already handled on the
 *   spot (cases.self_handled, set at intake and never changed: a later send back or reopen does not undo that it was
 *   handled on the spot). They are owned by the grid from the start, so once closed they count in gridLevelShare too.
 * - Days and "today" are Asia/Shanghai calendar days (UTC+8, no daylight saving).
 */
import { FAMILY_CODES, categoryInfo } from '../../../shared/domain/categories.ts'
import {
  DEFAULT_WINDOW_DAYS,
  MAX_HEAT_POINTS,
  type Heat,
  type HeatWindow,
  type Hourly,
  type LoopGroup,
  type Ranking,
  type RankingBy,
  type LoopStats,
  type Overview,
  type StatsGroupBy,
} from '../../../shared/schemas/stats.ts'
import type { Queryable } from '../db/types.ts'
import {
  currentChildRegions,
  departmentsByCode,
  heatPoints,
  hourlyRows,
  loopFigureRows,
  overviewRows,
  rankingRows,
  regionNames,
  streetsInScope,
  type FigureRow,
} from '../repos/stats.ts'
import { completionRate, EMPTY_ROW, filterEcho, toFigures } from './stats-figures.ts'
import { resolveFilter, type CaseFilterRequest, type ScopeRegion } from './stats-filter.ts'
import { DAY_MS, heatWindow, resolveWindow, shanghaiDay, shanghaiMidnight, type Window } from './stats-windows.ts'

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
  const rows = await loopFigureRows(q, window, filter, req.groupBy, now)

  const total = rows.find((r) => r.is_total) ?? EMPTY_ROW
  const byKey = new Map(rows.filter((r) => !r.is_total).map((r) => [r.key!, r]))

  const result: LoopStats = {
    ...filterEcho(filter),
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
      expected = await currentChildRegions(q, scope.region?.id)
      nameOf = (keys) => regionNames(q, keys)
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

  const { open, window: w, closedToday } = await overviewRows(q, filter, { now, dayStart, dayEnd, from30 })

  const byStatus = { reported: 0, registered: 0, dispatched: 0, in_progress: 0, handled: 0, verified: 0 }
  const byFamily = new Map<string, { open: number; overdue: number }>()
  let overdueNow = 0
  let dueNextHour = 0
  for (const r of open) {
    byStatus[r.status as keyof typeof byStatus] += r.n
    overdueNow += r.overdue
    dueNextHour += r.due_soon
    const f = byFamily.get(r.family) ?? { open: 0, overdue: 0 }
    f.open += r.n
    f.overdue += r.overdue
    byFamily.set(r.family, f)
  }
  return {
    ...filterEcho(filter),
    asOf: now.toISOString(),
    day,
    open: { total: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus },
    overdueNow,
    dueNextHour,
    reportedToday: w.reported_today,
    closedToday,
    last30Days: {
      from: from30.toISOString(),
      to: now.toISOString(),
      reported: w.reported,
      rejected: w.rejected,
      merged: w.merged,
      closed: w.closed,
      completionRate: completionRate(w.closed, w.reported, w.rejected, w.merged),
      selfHandled: w.self_handled,
    },
    openByCategory: [...byFamily]
      .map(([category, f]) => ({ category, name: categoryInfo(category)?.zh ?? category, ...f }))
      .sort((a, b) => b.open - a.open || a.category.localeCompare(b.category)),
  }
}

// ---------------------------------------------------------------------------------------------------- wall

const HOUR_MS = 3_600_000

/**
 * GET /api/stats/hourly: reported and closed per clock hour over the last 24 hours (the current hour last, counted
 * up to now). Closed: closed_at in the hour and the case is closed or rated now (the overview's closedToday rule).
 */
export async function hourly(q: Queryable, req: CaseFilterRequest, now: Date): Promise<Hourly> {
  const filter = await resolveFilter(q, req)
  // Asia/Shanghai is a whole-hour offset, so UTC hours are its hours too.
  const first = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - 23 * HOUR_MS)
  const rows = await hourlyRows(q, filter, first, now)
  const hours = Array.from({ length: 24 }, (_, i) => ({ start: new Date(first.getTime() + i * HOUR_MS).toISOString(), reported: 0, closed: 0 }))
  const firstHour = first.getTime() / HOUR_MS
  for (const r of rows) {
    const slot = hours[Number(r.h) - firstHour]
    if (!slot) continue
    if (r.what === 'r') slot.reported += r.n
    else slot.closed += r.n
  }
  return { ...filterEcho(filter), asOf: now.toISOString(), hours }
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
  const rows = await rankingRows(q, window, filter, req.by, now)
  const byKey = new Map(rows.map((r) => [r.key, r]))
  let expected: Array<{ key: string; name: string | null; nameEn?: string | null }>
  if (req.by === 'street') {
    // Every current street in scope (a street that had no case still ranks), plus retired ones found in the data.
    expected = await streetsInScope(q, [...byKey.keys()], region)
  } else {
    expected = await departmentsByCode(q, [...byKey.keys()])
  }
  const seen = new Set(expected.map((e) => e.key))
  const extra = [...byKey.keys()].filter((k) => !seen.has(k)).sort()
  return {
    by: req.by,
    ...filterEcho(filter),
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

/** GET /api/stats/heat: the points of the cases reported in the window (every status), newest first, at most `limit`. */
export async function heat(q: Queryable, req: CaseFilterRequest & { window: HeatWindow; limit?: number }, now: Date): Promise<Heat> {
  const filter = await resolveFilter(q, req)
  const w = heatWindow(req.window, now)
  const limit = Math.min(req.limit ?? 50_000, MAX_HEAT_POINTS)
  const rows = await heatPoints(q, w, filter, limit + 1)
  const truncated = rows.length > limit
  const points = (truncated ? rows.slice(0, limit) : rows).map((r) => [r.x, r.y])
  return {
    window: req.window,
    ...filterEcho(filter),
    from: w.from.toISOString(),
    to: w.to.toISOString(),
    count: points.length,
    truncated,
    points,
  }
}
