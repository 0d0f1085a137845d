/**
 * The statistics' SQL (services/stats.ts holds the definitions, and the shapes and windows around it): one
 * aggregate pass over `cases` per answer, FILTER clauses for the figures and GROUPING SETS for the groups, never
 * rows loaded into Node. The statements are assembled here from the figures' select list and the optional filter
 * conditions, each parameter numbered by the query's SqlBuilder.
 */
import { ESCALATABLE_STATUSES } from '../../../shared/domain/case-lifecycle.ts'
import { OPEN_STATUSES } from '../../../shared/domain/case-status.ts'
import type { RegionRef } from '../../../shared/schemas/region.ts'
import type { RankingBy, StatsGroupBy } from '../../../shared/schemas/stats.ts'
import type { Queryable } from '../db/types.ts'
import { SqlBuilder, type SqlCondition } from './sql.ts'

const GRID_LEVEL = 4
const CLOSED_STATUSES = ['closed', 'rated'] as const

/** Our own constants only (never user input), so they are written into the SQL. */
const sqlList = (xs: readonly string[]) => xs.map((s) => `'${s.replace(/'/g, "''")}'`).join(', ')
const OPEN = sqlList(OPEN_STATUSES)
const CLOCK_RUNS = sqlList(ESCALATABLE_STATUSES)
const CLOSED = sqlList(CLOSED_STATUSES)

/** A window of reported_at (or closed_at): [from, to). */
export interface TimeRange {
  from: Date
  to: Date
}

/** The cases a statistics query counts: under a region (its path), of these category codes, of a department. */
export interface CaseConditions {
  region?: { id: string; path: string }
  codes?: string[]
  department?: string
}

/** The filter's conditions on `cases c`, each starting with AND ('' for no filter). */
function filterSql(p: SqlBuilder, f: CaseConditions): string {
  let sql = ''
  if (f.region) sql += ` AND c.region_path <@ ${p.add(f.region.path)}::ltree`
  if (f.codes) sql += ` AND c.category = ANY(${p.add(f.codes)}::text[])`
  if (f.department) sql += ` AND c.department = ${p.add(f.department)}`
  return sql
}

// ---------------------------------------------------------------------------------------------------- lookups

export interface ScopeRegion extends RegionRef {
  path: string
}

/** The region by id (current or retired), if `reach` (a condition on its `path`) holds; no reach: any region. */
export async function findRegion(q: Queryable, id: string, reach?: SqlCondition): Promise<ScopeRegion | undefined> {
  const b = new SqlBuilder()
  const idParam = b.add(id)
  const { rows } = await q.query<ScopeRegion>(
    `SELECT id, name, level, path::text AS path FROM regions WHERE id = ${idParam} AND (${reach ? reach(b) : 'TRUE'})`,
    b.params,
  )
  return rows[0]
}

export async function departmentExists(q: Queryable, code: string): Promise<boolean> {
  const { rows } = await q.query(`SELECT 1 FROM departments WHERE code = $1`, [code])
  return rows.length > 0
}

/** The current children of a region (the districts without one), by id. */
export async function currentChildRegions(q: Queryable, parentId: string | undefined): Promise<Array<{ key: string; name: string }>> {
  const { rows } = parentId !== undefined
    ? await q.query<{ key: string; name: string }>(`SELECT id AS key, name FROM regions WHERE parent_id = $1 AND valid_to IS NULL ORDER BY id`, [parentId])
    : await q.query<{ key: string; name: string }>(`SELECT id AS key, name FROM regions WHERE parent_id IS NULL AND valid_to IS NULL ORDER BY id`)
  return rows
}

/** Region names by id (current or retired). */
export async function regionNames(q: Queryable, ids: string[]): Promise<Map<string, string>> {
  const { rows } = await q.query<{ id: string; name: string }>(`SELECT id, name FROM regions WHERE id = ANY($1::text[])`, [ids])
  return new Map(rows.map((r) => [r.id, r.name]))
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

/** The select list of the loop figures (FigureRow), `now` a parameter placeholder. */
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
    count(*) FILTER (WHERE c.self_handled)::int AS self_handled,
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

/** One row of figures as the aggregate returns it (services/stats-figures.ts shapes it). */
export interface FigureRow {
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
  self_handled: number
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

// ---------------------------------------------------------------------------------------------------- loop

/**
 * The loop figures of the cases reported in `window`: the total (is_total) and, unless groupBy is 'none', one row
 * per group key — child region id, Asia/Shanghai day, category (family without a category filter).
 */
export async function loopFigureRows(
  q: Queryable,
  window: TimeRange,
  filter: CaseConditions,
  groupBy: StatsGroupBy,
  now: Date,
): Promise<Array<FigureRow & { key: string | null; is_total: boolean }>> {
  const { region, codes } = filter
  const p = new SqlBuilder()
  const where = `c.reported_at >= ${p.add(window.from)} AND c.reported_at < ${p.add(window.to)}${filterSql(p, filter)}`
  const nowP = p.add(now)

  let key: string | undefined
  switch (groupBy) {
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
  const { rows } = await q.query<FigureRow & { key: string | null; is_total: boolean }>(sql, p.params)
  return rows
}

// ---------------------------------------------------------------------------------------------------- overview

export interface OverviewRows {
  /** Open cases by status and family: how many, how many overdue, how many due within the hour. */
  open: Array<{ status: string; family: string; n: number; overdue: number; due_soon: number }>
  /** The cases reported in [from30, dayEnd): today's, and the 30 days' reported, rejected, merged, closed up to now. */
  window: { reported_today: number; reported: number; rejected: number; merged: number; closed: number; self_handled: number }
  /** Cases closed (closed or rated now) in [dayStart, dayEnd). */
  closedToday: number
}

/**
 * The wall's live KPIs in three index-friendly queries — the open cases (status first), the cases reported since
 * `from30` (reported_at first), the cases closed today (closed_at) — run side by side.
 */
export async function overviewRows(
  q: Queryable,
  filter: CaseConditions,
  t: { now: Date; dayStart: Date; dayEnd: Date; from30: Date },
): Promise<OverviewRows> {
  const { now, dayStart, dayEnd, from30 } = t
  const po = new SqlBuilder()
  const openSql = `
    SELECT c.status, split_part(c.category, '.', 1) AS family, count(*)::int AS n,
           count(*) FILTER (WHERE c.status IN (${CLOCK_RUNS}) AND c.due_at < ${po.add(now)})::int AS overdue,
           count(*) FILTER (WHERE c.status IN (${CLOCK_RUNS}) AND c.due_at >= $1 AND c.due_at < $1::timestamptz + interval '1 hour')::int AS due_soon
      FROM cases c
     WHERE c.status IN (${OPEN})${filterSql(po, filter)}
     GROUP BY 1, 2`

  const pw = new SqlBuilder()
  const windowSql = `
    SELECT count(*) FILTER (WHERE c.reported_at >= ${pw.add(dayStart)})::int AS reported_today,
           count(*) FILTER (WHERE c.reported_at < ${pw.add(now)})::int AS reported,
           count(*) FILTER (WHERE c.reported_at < $2 AND c.status = 'rejected')::int AS rejected,
           count(*) FILTER (WHERE c.reported_at < $2 AND c.status = 'merged')::int AS merged,
           count(*) FILTER (WHERE c.reported_at < $2 AND c.status IN (${CLOSED}))::int AS closed,
           count(*) FILTER (WHERE c.reported_at < $2 AND c.self_handled)::int AS self_handled
      FROM cases c
     WHERE c.reported_at >= ${pw.add(from30)} AND c.reported_at < ${pw.add(dayEnd)}${filterSql(pw, filter)}`

  const pc = new SqlBuilder()
  const closedSql = `
    SELECT count(*)::int AS n FROM cases c
     WHERE c.closed_at >= ${pc.add(dayStart)} AND c.closed_at < ${pc.add(dayEnd)} AND c.status IN (${CLOSED})${filterSql(pc, filter)}`

  const [open, win, closed] = await Promise.all([
    q.query<OverviewRows['open'][number]>(openSql, po.params),
    q.query<OverviewRows['window']>(windowSql, pw.params),
    q.query<{ n: number }>(closedSql, pc.params),
  ])
  return { open: open.rows, window: win.rows[0], closedToday: closed.rows[0].n }
}

// ---------------------------------------------------------------------------------------------------- wall

/**
 * Reported (what 'r') and closed (what 'c': closed_at in the hour and closed or rated now) per clock hour h (hours
 * since the epoch) in [from, now).
 */
export async function hourlyRows(q: Queryable, filter: CaseConditions, from: Date, now: Date): Promise<Array<{ what: 'r' | 'c'; h: string | number; n: number }>> {
  const p = new SqlBuilder()
  const fromP = p.add(from)
  const nowP = p.add(now)
  const inFilter = filterSql(p, filter)
  const sql = `
    SELECT 'r' AS what, floor(extract(epoch FROM c.reported_at) / 3600)::bigint AS h, count(*)::int AS n
      FROM cases c WHERE c.reported_at >= ${fromP} AND c.reported_at < ${nowP}${inFilter} GROUP BY 2
    UNION ALL
    SELECT 'c', floor(extract(epoch FROM c.closed_at) / 3600)::bigint, count(*)::int
      FROM cases c WHERE c.closed_at >= ${fromP} AND c.closed_at < ${nowP} AND c.status IN (${CLOSED})${inFilter} GROUP BY 2`
  const { rows } = await q.query<{ what: 'r' | 'c'; h: string | number; n: number }>(sql, p.params)
  return rows
}

/**
 * The loop figures of the cases reported in `window` per street (the second label of the case's region path) or
 * per department (the case's department now).
 */
export async function rankingRows(q: Queryable, window: TimeRange, filter: CaseConditions, by: RankingBy, now: Date): Promise<Array<FigureRow & { key: string }>> {
  const p = new SqlBuilder()
  const where = [`c.reported_at >= ${p.add(window.from)} AND c.reported_at < ${p.add(window.to)}${filterSql(p, filter)}`]
  const key = by === 'street' ? `ltree2text(subpath(c.region_path, 1, 1))` : 'c.department'
  where.push(by === 'street' ? 'nlevel(c.region_path) >= 2' : 'c.department IS NOT NULL')
  const nowP = p.add(now)
  const { rows } = await q.query<FigureRow & { key: string }>(
    `SELECT ${key} AS key, ${figuresSql(nowP)} FROM cases c WHERE ${where.join(' AND ')} GROUP BY 1`,
    p.params,
  )
  return rows
}

/** Every current street in `region` (or everywhere), plus the retired ones among `ids`, by id. */
export async function streetsInScope(q: Queryable, ids: string[], region: { path: string } | undefined): Promise<Array<{ key: string; name: string }>> {
  const ps = new SqlBuilder()
  const { rows } = await q.query<{ key: string; name: string }>(
    `SELECT id AS key, name FROM regions
      WHERE level = 2 AND (valid_to IS NULL OR id = ANY(${ps.add(ids)}::text[]))
        ${region ? `AND (path <@ ${ps.add(region.path)}::ltree OR ${ps.add(region.path)}::ltree <@ path)` : ''}
      ORDER BY id`,
    ps.params,
  )
  return rows
}

/** The departments of these codes, by code. */
export async function departmentsByCode(q: Queryable, codes: string[]): Promise<Array<{ key: string; name: string; nameEn: string }>> {
  const { rows } = await q.query<{ key: string; name: string; nameEn: string }>(
    `SELECT code AS key, name_zh AS name, name_en AS "nameEn" FROM departments WHERE code = ANY($1::text[]) ORDER BY code`,
    [codes],
  )
  return rows
}

/** The points of the cases reported in `window` (every status), newest first, at most `max`, to 6 decimals. */
export async function heatPoints(q: Queryable, window: TimeRange, filter: CaseConditions, max: number): Promise<Array<{ x: number; y: number }>> {
  const p = new SqlBuilder()
  const { rows } = await q.query<{ x: number; y: number }>(
    `SELECT round(ST_X(c.location)::numeric, 6)::float8 AS x, round(ST_Y(c.location)::numeric, 6)::float8 AS y
       FROM cases c
      WHERE c.reported_at >= ${p.add(window.from)} AND c.reported_at < ${p.add(window.to)}${filterSql(p, filter)}
      ORDER BY c.reported_at DESC
      LIMIT ${p.add(max)}`,
    p.params,
  )
  return rows
}
