import { ESCALATABLE_STATUSES } from '../../../shared/domain/case-lifecycle.ts'
import type { CaseStatus } from '../../../shared/domain/case-status.ts'
import type { Case, TimelineEntry } from '../../../shared/schemas/case.ts'
import type { RegionRef } from '../../../shared/schemas/region.ts'
import { CASE_MIN_LEVEL } from '../../../shared/domain/levels.ts'
import type { Queryable } from '../db/types.ts'
import { SqlBuilder, page, type SqlCondition } from './sql.ts'

/** Select list aliased to the shared Case shape; the region chain comes from the ids stored at report time. */
export const CASE_COLUMNS = `
  c.id, c.code, c.status, c.category, c.priority, c.source, c.description, c.address,
  ST_X(c.location) AS lon, ST_Y(c.location) AS lat,
  c.owning_level AS "owningLevel", c.department, c.assignee_id AS "assigneeId", c.reporter,
  c.reported_at AS "reportedAt", c.made_at AS "madeAt", c.updated_at AS "updatedAt", c.due_at AS "dueAt", c.escalations,
  c.self_handled AS "selfHandled", c.supporters,
  c.registered_at AS "registeredAt", c.dispatched_at AS "dispatchedAt", c.accepted_at AS "acceptedAt",
  c.handled_at AS "handledAt", c.verified_at AS "verifiedAt", c.closed_at AS "closedAt", c.rated_at AS "ratedAt",
  c.rating, c.rating_comment AS "ratingComment", c.reopen_requested_at AS "reopenRequestedAt", c.merged_into AS "mergedInto", c.version,
  c.level_started_at AS "levelStartedAt", c.handler_id AS "handlerId", c.region_path::text AS "regionPath",
  (SELECT coalesce(json_agg(json_build_object('id', r.id, 'name', r.name, 'level', r.level) ORDER BY r.level), '[]'::json)
     FROM regions r
    WHERE r.id IN (c.district_id, c.street_id, c.community_id, c.grid_id, c.microgrid_id)) AS regions`

type Ts = Date | string | null
export interface CaseRow {
  id: string
  code: string
  status: CaseStatus
  category: string
  priority: Case['priority']
  source: Case['source']
  description: string
  address: string | null
  lon: number
  lat: number
  owningLevel: number
  department: string | null
  assigneeId: string | null
  reporter: string | null
  reportedAt: Ts
  madeAt: Ts
  updatedAt: Ts
  dueAt: Ts
  escalations: number
  selfHandled: boolean
  supporters: number
  registeredAt: Ts
  dispatchedAt: Ts
  acceptedAt: Ts
  handledAt: Ts
  verifiedAt: Ts
  closedAt: Ts
  ratedAt: Ts
  rating: number | null
  ratingComment: string | null
  reopenRequestedAt: Ts
  mergedInto: string | null
  version: number
  regions: RegionRef[]
  levelStartedAt: Ts
  handlerId: string | null
  regionPath: string
}

const iso = (t: Ts): string | null => (t === null ? null : new Date(t).toISOString())

/** The clock runs while somebody still has to handle the case; after 反馈 (handled) or in a final status it stops. */
export function clockRuns(status: CaseStatus): boolean {
  return ESCALATABLE_STATUSES.includes(status)
}

/** Row → API shape; time left and overdue are as of `now`. */
export function toCase(row: CaseRow, now: Date): Case {
  const due = row.dueAt === null ? null : new Date(row.dueAt)
  const running = clockRuns(row.status) && due !== null
  const left = running ? Math.floor((due!.getTime() - now.getTime()) / 1000) : null
  return {
    id: row.id,
    code: row.code,
    status: row.status,
    category: row.category,
    priority: row.priority,
    source: row.source,
    description: row.description,
    address: row.address,
    lon: row.lon,
    lat: row.lat,
    regions: row.regions,
    owningLevel: row.owningLevel,
    department: row.department,
    assigneeId: row.assigneeId,
    reporter: row.reporter,
    reportedAt: iso(row.reportedAt)!,
    madeAt: iso(row.madeAt),
    updatedAt: iso(row.updatedAt)!,
    dueAt: iso(row.dueAt),
    timeLeftSeconds: left,
    overdue: left !== null && left < 0,
    escalations: row.escalations,
    selfHandled: row.selfHandled,
    supporters: row.supporters,
    stages: {
      registeredAt: iso(row.registeredAt),
      dispatchedAt: iso(row.dispatchedAt),
      acceptedAt: iso(row.acceptedAt),
      handledAt: iso(row.handledAt),
      verifiedAt: iso(row.verifiedAt),
      closedAt: iso(row.closedAt),
      ratedAt: iso(row.ratedAt),
    },
    rating: row.rating,
    ratingComment: row.ratingComment,
    reopenRequestedAt: iso(row.reopenRequestedAt),
    mergedInto: row.mergedInto,
    version: row.version,
  }
}

/** What intake writes; the region chain is resolved by the statement itself. */
export interface NewCase {
  /** Chosen by the caller (crypto.randomUUID()), so the event payload can be built before the statement. */
  id: string
  category: string
  priority: string
  description: string
  address?: string | null
  lon: number
  lat: number
  source: string
  reporter?: string | null
  department: string
  owningLevel: number
  reportedAt: Date
  /** When the reporter made it on the phone (null: not sent). */
  madeAt?: Date | null
  /** Handled on the spot by the reporting grid worker (services/cases.ts takes it through the loop). */
  selfHandled?: boolean
  dueAt: Date
  /** The first timeline row's actor, attachments (photo URLs) and data. */
  actor: string
  attachments: string[]
  timelineData: Record<string, unknown>
  /** The `case:created` payload's case, all but `code` and `regions` (the statement adds them). */
  event: Omit<Case, 'code' | 'regions'>
}

export interface ReportedCase {
  /** false: the category is not (or no longer) active; nothing was written. */
  categoryActive: boolean
  /** The finest region covering the point, null outside every region. */
  finestLevel: number | null
  /** Null when nothing was written (inactive category, or the point is outside every grid). */
  code: string | null
  regions: RegionRef[]
  /** Open cases of the same category nearby (DUPLICATE_RADIUS_M, DUPLICATE_HOURS), nearest first; never the case itself. */
  possibleDuplicates: DuplicateCandidate[]
}

/**
 * Possible duplicates of a report: open cases of the same category within `radiusM` metres reported in the `hours`
 * before `at`, nearest first, at most 10 (the arguments are SQL placeholders). The OFFSET 0 fence keeps the box the
 * only condition of the inner scan, so the generic plan of a prepared statement holding this is the GIST index
 * whatever the parameters (unfenced, a generic plan may walk the reported_at or category index and read a whole day
 * of cases). `box` is a distance in degrees comfortably larger than the radius (1e-3° ≥ 97 m at these latitudes).
 */
function duplicatesSql(p: { lon: string; lat: string; category: string; statuses: string; at: string; hours: string; radiusM: string; box: string; notId?: string }): string {
  const pt = `ST_SetSRID(ST_MakePoint(${p.lon}, ${p.lat}), 4326)`
  return `
    SELECT x.id, x.code, x.status, round(ST_Distance(x.location::geography, ${pt}::geography)::numeric, 1)::float8 AS "distanceM",
           x.reported_at AS "reportedAt"
      FROM (SELECT * FROM cases WHERE location && ST_Expand(${pt}, ${p.box}) OFFSET 0) x
     WHERE x.category = ${p.category} AND x.status = ANY(${p.statuses}::text[])${p.notId ? ` AND x.id <> ${p.notId}` : ''}
       AND x.reported_at > ${p.at}::timestamptz - make_interval(hours => ${p.hours}) AND x.reported_at <= ${p.at}::timestamptz
       AND ST_DWithin(x.location::geography, ${pt}::geography, ${p.radiusM})
     ORDER BY 4, x.reported_at DESC
     LIMIT 10`
}

/** Statuses in which a case counts as a possible duplicate of a new report (every open one). */
const DUPLICATE_STATUSES = ['reported', 'registered', 'dispatched', 'in_progress', 'handled', 'verified']

/** Possible duplicates of a report: open cases of the same category within this many metres, reported in the hours before. */
export const DUPLICATE_RADIUS_M = 50
export const DUPLICATE_HOURS = 24
/** duplicatesSql's `box` for DUPLICATE_RADIUS_M. */
const DUPLICATE_BOX = (DUPLICATE_RADIUS_M / 50) * 1e-3

const levelIdOf = (level: number) => `(SELECT x->>'id' FROM jsonb_array_elements(ok.chain) x WHERE (x->>'level')::int = ${level})`

/**
 * Intake of one report or many in ONE statement (so, without an explicit transaction, one round trip and one commit).
 * For each report: resolve the point on region_parts (the rule of repos/resolve/sql-fallback.ts, in this statement's snapshot),
 * insert the case in status `reported`, its first timeline row and its `case:created` event (personal to the reporter:
 * events.actors) — or nothing for that
 * report when its category is inactive or its point lies outside every grid (below CASE_MIN_LEVEL); the others are
 * written all the same, and the answer says, per report, which. The reports come in as parallel arrays (unnest WITH
 * ORDINALITY: `i` is the position) and the answers come back in that order. It does NOT notify the relays: the caller
 * does, after the commit (repos/events.ts wakeRelays explains why).
 *
 * Possible duplicates come back with it: the cases stored before the statement (its snapshot), and the reports of
 * the same statement written before this one (lower `i`) — several reports are written as if they had come one
 * after another.
 *
 * Prepared under a name, and run with its generic plan (pg-db.ts): every lookup in it is by the point (GIST) or a key
 * (the duplicates' scan is fenced: duplicatesSql). bench/explain-intake.ts prints the plan and checks it.
 */
export const INTAKE_SQL = `
  WITH p AS (
    SELECT x.*, ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326) AS pt
      FROM unnest($1::float8[], $2::float8[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[],
                  $9::text[], $10::int[], $11::timestamptz[], $12::text[], $13::timestamptz[], $14::text[], $15::jsonb[],
                  $16::jsonb[], $17::jsonb[], $22::timestamptz[], $23::boolean[])
           WITH ORDINALITY AS x(lon, lat, category, id, priority, description, address, source, reporter, owning_level,
                                reported_at, department, due_at, actor, attachments, tdata, event, made_at, self_handled, i)),
  f AS (
    SELECT p.i, r.level, r.path, r.chain
      FROM p CROSS JOIN LATERAL (
        SELECT r.level, r.path, r.chain FROM region_parts r
         WHERE ST_Covers(r.geom, p.pt) ORDER BY r.level DESC, r.region_id LIMIT 1) r),
  -- What gets written (an active category, a point on a fine enough region), each with its case number: at least six
  -- digits, never cut (lpad would truncate the millionth case's number and codes would repeat). nextval is volatile:
  -- evaluated once a row, and this CTE is materialised once.
  ok AS (
    SELECT p.*, f.path, f.chain, nextval('case_code_seq')::text AS n
      FROM p JOIN f ON f.i = p.i JOIN categories k ON k.code = p.category AND k.active
     WHERE f.level >= ${CASE_MIN_LEVEL}
     ORDER BY p.i),
  c AS (
    INSERT INTO cases (id, code, category, priority, description, address, location, source, reporter, region_path,
                       district_id, street_id, community_id, grid_id, microgrid_id, owning_level, department,
                       reported_at, updated_at, level_started_at, due_at, made_at, self_handled)
    SELECT ok.id, 'GC' || to_char(ok.reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || CASE WHEN length(ok.n) < 6 THEN lpad(ok.n, 6, '0') ELSE ok.n END,
           ok.category, ok.priority, ok.description, ok.address, ok.pt, ok.source, ok.reporter, ok.path,
           ${levelIdOf(1)}, ${levelIdOf(2)}, ${levelIdOf(3)}, ${levelIdOf(4)}, ${levelIdOf(5)},
           ok.owning_level, ok.department, ok.reported_at, ok.reported_at, ok.reported_at, ok.due_at, ok.made_at, ok.self_handled
      FROM ok
    RETURNING id, code),
  t AS (
    INSERT INTO case_events (case_id, at, actor, action, from_status, to_status, to_level, attachments, data)
    SELECT ok.id, ok.reported_at, ok.actor, 'report', NULL, 'reported', ok.owning_level, ok.attachments, ok.tdata
      FROM ok),
  e AS (
    INSERT INTO events (kind, region_path, payload, actors)
    SELECT 'case:created', ok.path, jsonb_build_object('case', ok.event || jsonb_build_object('code', c.code, 'regions', ok.chain)),
           CASE WHEN ok.reporter IS NULL THEN NULL ELSE ARRAY[ok.reporter] END
      FROM ok JOIN c ON c.id = ok.id
     ORDER BY ok.i),
  -- Possible duplicates among the cases already stored (duplicatesSql, the snapshot before the insert) ...
  d AS (
    SELECT ok.i, d.* FROM ok CROSS JOIN LATERAL (${duplicatesSql({ lon: 'ok.lon', lat: 'ok.lat', category: 'ok.category', statuses: '$18', at: 'ok.reported_at', hours: '$19', radiusM: '$20', box: '$21' })}) d),
  -- ... and among the reports of this statement written before it (same rule: category, hours, radius).
  g AS (
    SELECT a.i, b.id, c.code, 'reported'::text AS status,
           round(ST_Distance(b.pt::geography, a.pt::geography)::numeric, 1)::float8 AS "distanceM", b.reported_at AS "reportedAt"
      FROM ok a
      JOIN ok b ON b.i < a.i AND b.category = a.category AND b.reported_at <= a.reported_at
               AND b.reported_at > a.reported_at - make_interval(hours => $19)
               AND ST_DWithin(b.pt::geography, a.pt::geography, $20)
      JOIN c ON c.id = b.id),
  dup AS (
    SELECT u.i, json_agg(json_build_object('id', u.id, 'code', u.code, 'status', u.status, 'distanceM', u."distanceM", 'reportedAt', u."reportedAt")
                         ORDER BY u."distanceM", u."reportedAt" DESC) AS list
      FROM (SELECT v.*, row_number() OVER (PARTITION BY v.i ORDER BY v."distanceM", v."reportedAt" DESC) AS k
              FROM (SELECT i, id, code, status, "distanceM", "reportedAt" FROM d
                    UNION ALL SELECT i, id, code, status, "distanceM", "reportedAt" FROM g) v) u
     WHERE u.k <= 10
     GROUP BY u.i)
  SELECT p.i::int AS i, k.code IS NOT NULL AS "categoryActive", f.level AS "finestLevel", c.code, f.chain::text AS chain,
         coalesce(dup.list, '[]')::text AS duplicates
    FROM p
    LEFT JOIN f ON f.i = p.i
    LEFT JOIN categories k ON k.code = p.category AND k.active
    LEFT JOIN c ON c.id = p.id
    LEFT JOIN dup ON dup.i = p.i
   ORDER BY p.i`

/** Writes reports (INTAKE_SQL): one statement, one commit when `q` is not in a transaction; answers in the order given. */
export async function insertReportedCases(q: Queryable, cs: NewCase[]): Promise<ReportedCase[]> {
  if (cs.length === 0) return []
  const col = <T>(f: (c: NewCase) => T): T[] => cs.map(f)
  const { rows } = await q.query<{ i: number; categoryActive: boolean; finestLevel: number | null; code: string | null; chain: string | null; duplicates: string }>(
    INTAKE_SQL,
    [col((c) => c.lon), col((c) => c.lat), col((c) => c.category), col((c) => c.id), col((c) => c.priority),
     col((c) => c.description), col((c) => c.address ?? null), col((c) => c.source), col((c) => c.reporter ?? null),
     col((c) => c.owningLevel), col((c) => c.reportedAt), col((c) => c.department), col((c) => c.dueAt),
     col((c) => c.actor), col((c) => JSON.stringify(c.attachments)), col((c) => JSON.stringify(c.timelineData)),
     col((c) => JSON.stringify(c.event)), DUPLICATE_STATUSES, DUPLICATE_HOURS, DUPLICATE_RADIUS_M, DUPLICATE_BOX,
     col((c) => c.madeAt ?? null), col((c) => c.selfHandled ?? false)],
    { name: 'gc_case_intake' },
  )
  if (rows.length !== cs.length || rows.some((r, k) => r.i !== k + 1)) throw new Error(`intake answered ${rows.length} rows for ${cs.length} reports`)
  return rows.map((r) => ({
    categoryActive: r.categoryActive,
    finestLevel: r.finestLevel,
    code: r.code,
    regions: r.code && r.chain ? (JSON.parse(r.chain) as RegionRef[]) : [],
    possibleDuplicates: (JSON.parse(r.duplicates) as Array<DuplicateCandidate>).map((d) => ({ ...d, reportedAt: new Date(d.reportedAt).toISOString() })),
  }))
}

/** One report (INTAKE_SQL with one row). */
export async function insertReportedCase(q: Queryable, c: NewCase): Promise<ReportedCase> {
  return (await insertReportedCases(q, [c]))[0]
}

/**
 * One case by id (locked with `forUpdate`). With `reach` (a caller's read rule: services/case-reads.ts), only if it
 * holds — the condition is part of the query, so a case out of reach is indistinguishable from a missing one.
 */
export async function getCaseRow(q: Queryable, id: string, forUpdate = false, reach?: SqlCondition): Promise<CaseRow | undefined> {
  const b = new SqlBuilder()
  b.when(`c.id = ${b.add(id)}`)
  if (reach) b.when(reach(b))
  const { rows } = await q.query<CaseRow>(`SELECT ${CASE_COLUMNS} FROM cases c ${b.where()}${forUpdate ? ' FOR UPDATE OF c' : ''}`, b.params)
  return rows[0]
}

export async function getCase(q: Queryable, id: string, now: Date): Promise<Case | undefined> {
  const row = await getCaseRow(q, id)
  return row && toCase(row, now)
}

export interface TimelineInsert {
  caseId: string
  at: Date
  actor: string
  action: string
  fromStatus: string | null
  toStatus: string | null
  fromLevel?: number | null
  toLevel?: number | null
  note?: string | null
  attachments?: string[]
  data?: Record<string, unknown>
}

export async function insertTimeline(tx: Queryable, e: TimelineInsert): Promise<TimelineEntry> {
  const { rows } = await tx.query<TimelineRow>(
    `INSERT INTO case_events (case_id, at, actor, action, from_status, to_status, from_level, to_level, note, attachments, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb)
     RETURNING ${TIMELINE_COLUMNS}`,
    [e.caseId, e.at, e.actor, e.action, e.fromStatus, e.toStatus, e.fromLevel ?? null, e.toLevel ?? null, e.note ?? null,
     JSON.stringify(e.attachments ?? []), JSON.stringify(e.data ?? {})],
  )
  return toTimeline(rows[0])
}

const TIMELINE_COLUMNS = `id, at, actor, action, from_status AS "fromStatus", to_status AS "toStatus",
  from_level AS "fromLevel", to_level AS "toLevel", note, attachments, data`
type TimelineRow = Omit<TimelineEntry, 'at' | 'id'> & { at: Date | string; id: number | string }
const toTimeline = (r: TimelineRow): TimelineEntry => ({ ...r, id: Number(r.id), at: new Date(r.at).toISOString() })

export async function getTimeline(q: Queryable, caseId: string): Promise<TimelineEntry[]> {
  const { rows } = await q.query<TimelineRow>(`SELECT ${TIMELINE_COLUMNS} FROM case_events WHERE case_id = $1 ORDER BY at, id`, [caseId])
  return rows.map(toTimeline)
}

/** Most timeline entries a 412 answer carries. */
export const MAX_CONFLICT_CHANGES = 50

/**
 * The timeline entries written after `version` of the case, oldest first. Version k is the state after the k-th
 * entry of the case's own timeline: intake writes the first (version 1) and every action or scheduler step writes
 * exactly one while it bumps the version (services/cases.ts applyEffect). A merge also writes `duplicate_merged` on
 * its TARGET without touching the target's version, so those rows are not counted. Ordered by id (insertion
 * order: the row lock serialises a case's writers), not by `at`, which follows the caller's clock.
 */
export async function changesSince(q: Queryable, caseId: string, version: number): Promise<TimelineEntry[]> {
  const { rows } = await q.query<TimelineRow>(
    `SELECT ${TIMELINE_COLUMNS} FROM case_events WHERE case_id = $1 AND action <> 'duplicate_merged'
      ORDER BY id OFFSET $2 LIMIT $3`,
    [caseId, Math.max(0, version), MAX_CONFLICT_CHANGES],
  )
  return rows.map(toTimeline)
}

export interface CaseFilter {
  statuses?: readonly CaseStatus[]
  /** Family codes match their children too. */
  categories?: readonly string[]
  priorities?: readonly string[]
  sources?: readonly string[]
  overdue?: boolean
  /** Any region id at any level: cases whose resolved chain passes through it. */
  regionId?: string
  from?: Date
  to?: Date
  bbox?: [number, number, number, number]
  assigneeId?: string
  /** Only the cases a caller may read (auth/case-access.ts caseReach), as a condition of the query. */
  reach?: SqlCondition
  limit: number
  offset: number
}

/** Filtered, newest first; returns one row more than `limit` when there is a next page. */
export async function listCases(q: Queryable, f: CaseFilter, now: Date): Promise<{ cases: Case[]; nextOffset: number | null }> {
  const b = new SqlBuilder()
  if (f.statuses) b.when(`c.status = ANY(${b.add(f.statuses)}::text[])`)
  if (f.categories) {
    const cats = b.add(f.categories)
    b.when(`c.category = ANY(${cats}::text[]) OR split_part(c.category, '.', 1) = ANY(${cats}::text[])`)
  }
  if (f.priorities) b.when(`c.priority = ANY(${b.add(f.priorities)}::text[])`)
  if (f.sources) b.when(`c.source = ANY(${b.add(f.sources)}::text[])`)
  if (f.overdue !== undefined) {
    const overdue = `c.status = ANY(${b.add(ESCALATABLE_STATUSES)}::text[]) AND coalesce(c.due_at < ${b.add(now)}, false)`
    b.when(f.overdue ? overdue : `NOT (${overdue})`)
  }
  if (f.regionId) b.when(`c.region_path <@ (SELECT r.path FROM regions r WHERE r.id = ${b.add(f.regionId)})`)
  if (f.from) b.when(`c.reported_at >= ${b.add(f.from)}`)
  if (f.to) b.when(`c.reported_at < ${b.add(f.to)}`)
  if (f.bbox) b.bbox('c.location', f.bbox)
  if (f.assigneeId) b.when(`c.assignee_id = ${b.add(f.assigneeId)}`)
  if (f.reach) b.when(f.reach(b))
  const { rows } = await q.query<CaseRow>(
    `SELECT ${CASE_COLUMNS} FROM cases c ${b.where()}
      ORDER BY c.reported_at DESC, c.code DESC LIMIT ${b.add(f.limit + 1)} OFFSET ${b.add(f.offset)}`,
    b.params,
  )
  const { items, nextOffset } = page(rows, f.limit, f.offset)
  return { cases: items.map((r) => toCase(r, now)), nextOffset }
}

export interface NearbyFilter {
  lon: number
  lat: number
  /** A code; a family matches its children. */
  category?: string
  radiusM: number
  hours: number
  now: Date
  /** What the caller may see (the route's rule: public categories, or the caller's read reach), as a condition on `x`. */
  visible?: SqlCondition
  limit: number
  descriptionChars: number
}

export interface NearbyRow {
  id: string
  code: string
  category: string
  status: CaseStatus
  reportedAt: Date | string
  distanceM: number
  description: string
  supporters: number
}

/**
 * Open cases within `radiusM` metres of a point reported in the `hours` before `now`, nearest first — what a phone
 * shows before its user reports the same thing again. The GIST box is the only condition of the inner scan (the
 * OFFSET 0 fence, as in duplicatesSql), then the geodesic distance decides.
 */
export async function nearbyCases(q: Queryable, f: NearbyFilter): Promise<NearbyRow[]> {
  const b = new SqlBuilder()
  const pt = `ST_SetSRID(ST_MakePoint(${b.add(f.lon)}::float8, ${b.add(f.lat)}::float8), 4326)`
  const box = b.add((f.radiusM / 50) * 1e-3)
  b.when(`x.status = ANY(${b.add(DUPLICATE_STATUSES)}::text[])`)
  const now = b.add(f.now)
  b.when(`x.reported_at > ${now}::timestamptz - make_interval(hours => ${b.add(f.hours)}) AND x.reported_at <= ${now}::timestamptz`)
  b.when(`ST_DWithin(x.location::geography, ${pt}::geography, ${b.add(f.radiusM)})`)
  if (f.category) {
    const cat = b.add(f.category)
    b.when(`x.category = ${cat} OR split_part(x.category, '.', 1) = ${cat}`)
  }
  if (f.visible) b.when(f.visible(b))
  const { rows } = await q.query<NearbyRow>(
    `SELECT x.id, x.code, x.category, x.status, x.reported_at AS "reportedAt",
            round(ST_Distance(x.location::geography, ${pt}::geography)::numeric, 1)::float8 AS "distanceM",
            left(x.description, ${b.add(f.descriptionChars)}) AS description, x.supporters
       FROM (SELECT * FROM cases WHERE location && ST_Expand(${pt}, ${box}::float8) OFFSET 0) x
      ${b.where()}
      ORDER BY 6, x.reported_at DESC
      LIMIT ${b.add(f.limit)}`,
    b.params,
  )
  return rows
}

export interface DuplicateCandidate {
  id: string
  code: string
  status: CaseStatus
  distanceM: number
  reportedAt: string
}

/** The possible duplicates of a case already stored (the simulator's centre checks before registering). */
export async function findPossibleDuplicates(
  q: Queryable,
  c: { id: string; category: string; lon: number; lat: number; at: Date },
  radiusM = DUPLICATE_RADIUS_M,
  hours = DUPLICATE_HOURS,
): Promise<DuplicateCandidate[]> {
  const { rows } = await q.query<DuplicateCandidate & { reportedAt: Date | string }>(
    duplicatesSql({ notId: '$1', lon: '$2', lat: '$3', category: '$4', statuses: '$5', at: '$6', hours: '$7', radiusM: '$8', box: '$9' }),
    [c.id, c.lon, c.lat, c.category, DUPLICATE_STATUSES, c.at, hours, radiusM, (radiusM / 50) * 1e-3],
    { name: 'gc_possible_duplicates' },
  )
  return rows.map((r) => ({ ...r, reportedAt: new Date(r.reportedAt).toISOString() }))
}


/** Makes `actor` a follower of the case; true when they were not one yet. */
export async function addFollower(tx: Queryable, caseId: string, actor: string, since: Date): Promise<boolean> {
  const { rows } = await tx.query('INSERT INTO case_followers (case_id, actor, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1', [caseId, actor, since])
  return rows.length === 1
}

export async function followersOf(q: Queryable, caseId: string): Promise<string[]> {
  const { rows } = await q.query<{ actor: string }>('SELECT actor FROM case_followers WHERE case_id = $1 ORDER BY since, actor', [caseId])
  return rows.map((r) => r.actor)
}

/** Geodesic metres from the case's point to (lon, lat). */
export async function distanceToCase(q: Queryable, caseId: string, lon: number, lat: number): Promise<number> {
  const { rows } = await q.query<{ d: number }>(
    'SELECT ST_Distance(location::geography, ST_SetSRID(ST_MakePoint($2::float8, $3::float8), 4326)::geography)::float8 AS d FROM cases WHERE id = $1',
    [caseId, lon, lat],
  )
  return rows[0].d
}
