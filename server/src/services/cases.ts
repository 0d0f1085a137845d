import { randomUUID } from 'node:crypto'
import { computeDueAt, type Clock, type TimeLimit } from '../../../shared/domain/calendar.ts'
import {
  BOTTOM_OWNING_LEVEL,
  TOP_OWNING_LEVEL,
  REOPEN_MAX_RATING,
  allowedActions,
  nextStatus,
  type CaseAction,
  type Priority,
} from '../../../shared/domain/case-lifecycle.ts'
import { toWgs84 } from '../../../shared/geo/crs.ts'
import type { AnyActionBody, Case, CaseCreate, CaseCreated, TimelineEntry } from '../../../shared/schemas/case.ts'
import type { Queryable, Db } from '../db/types.ts'
import { wakeRelays } from '../repos/events.ts'
import {
  changesSince,
  followersOf,
  insertReportedCase,
  insertTimeline,
  toCase,
  type CaseRow,
  type NewCase,
  type ReportedCase,
} from '../repos/cases.ts'
import { actorList, appendEvent } from '../repos/events.ts'
import { getCaseRow } from './case-reads.ts'
import { photoUrl } from '../repos/photos.ts'
import { permits } from '../auth/case-access.ts'
import { inScope } from '../auth/guards.ts'
import type { AuthUser } from '../auth/roles.ts'
import { HttpError } from './http-error.ts'
import { checkMadeAt } from './made-at.ts'
import { intakeGroupsOf } from './intake-group.ts'
import { attachPhotos } from './photos.ts'

export interface CategoryRow {
  code: string
  department: string
  priority: Priority
  clock: Clock
  expectedLevel: number
  limits: Record<Priority, TimeLimit>
}

const notActive = (code: string, field: string) =>
  new HttpError(400, 'invalid_request', `body.${field} "${code}" is not an active category (see GET /api/categories)`, field)

/** An active category by code, or a 400 naming `field`. */
export async function requireCategory(q: Queryable, code: string, field = 'category'): Promise<CategoryRow> {
  const { rows } = await q.query<CategoryRow>(
    `SELECT code, department, priority, clock, expected_level AS "expectedLevel", limits FROM categories WHERE code = $1 AND active`,
    [code],
  )
  if (!rows[0]) throw notActive(code, field)
  return rows[0]
}

export function dueFor(cat: CategoryRow, priority: Priority, from: Date): Date {
  return computeDueAt(from, cat.limits[priority], cat.clock)
}

export interface ReportContext {
  /** Who reports (the caller); null for anonymous intake. */
  reporter?: string | null
  now: Date
  /**
   * Handled on the spot (小事不出格) by this grid worker, the reporter: the case is taken through register → dispatch
   * (to them, at grid level) → accept → handle in the report's transaction (handleOnTheSpot).
   */
  selfHandled?: { workerId: string; note?: string; photos?: string[] }
  /** Runs inside the report's transaction after everything is written (the idempotency record uses it). */
  inTransaction?: (tx: Queryable, created: CaseCreated) => Promise<void>
}

/** Categories change only when the reference data is synced (at start): intake reads them from memory. */
const CATEGORY_CACHE_MS = 10_000
const categoryCache = new WeakMap<Queryable, { at: number; byCode: Map<string, CategoryRow> }>()

/** The active category `code` (from a per-database cache at most CATEGORY_CACHE_MS old, re-read on a miss). */
async function cachedCategory(db: Queryable, code: string, field = 'category'): Promise<CategoryRow> {
  const hit = categoryCache.get(db)
  const fresh = hit && performance.now() - hit.at < CATEGORY_CACHE_MS ? hit.byCode.get(code) : undefined
  if (fresh) return fresh
  const { rows } = await db.query<CategoryRow>(
    `SELECT code, department, priority, clock, expected_level AS "expectedLevel", limits FROM categories WHERE active`,
  )
  const byCode = new Map(rows.map((r) => [r.code, r]))
  categoryCache.set(db, { at: performance.now(), byCode })
  const cat = byCode.get(code)
  if (!cat) throw notActive(code, field)
  return cat
}

/**
 * Reports a case: resolves the point to its region chain with PostGIS, applies the category's department,
 * priority, expected level and time limit, attaches uploaded photos, writes the case, its timeline row and the
 * `case:created` event — all in ONE transaction. A point outside every grid → 422 and nothing is written.
 *
 * Without photos or an in-transaction hook that transaction is a single statement (repos/cases.ts, INTAKE_SQL, which
 * also finds the possible duplicates), shared with the reports arriving meanwhile (services/intake-group.ts); with
 * them, the same statement for this report alone, inside the transaction. The category comes from memory. The case
 * (and the event's payload) is built here from the same values the statement writes, so nothing is read back.
 */
export async function reportCase(db: Db, input: CaseCreate, ctx: ReportContext): Promise<CaseCreated> {
  const { crs, photos = [], madeAt: madeAtRaw, ...fields } = input
  const [lon, lat] = toWgs84(input.lon, input.lat, crs)
  const now = ctx.now
  const madeAt = checkMadeAt(madeAtRaw, now)
  const cat = await cachedCategory(db, fields.category)
  const { selfHandled: _onTheSpot, ...reported } = fields
  const priority = reported.priority ?? cat.priority
  const source = reported.source ?? 'resident'
  const selfHandled = ctx.selfHandled !== undefined
  // Handled in the grid: it stays owned by the grid whatever level its category expects.
  const owningLevel = selfHandled ? BOTTOM_OWNING_LEVEL : cat.expectedLevel
  const id = randomUUID()
  const dueAt = dueFor(cat, priority, now)
  // The case as GET /api/cases/:id will show it, but for its code and region chain (the statement's).
  const draft = toCase(
    {
      id, code: '', status: 'reported', category: cat.code, priority, source, description: reported.description,
      address: reported.address ?? null, lon, lat, owningLevel, department: cat.department,
      assigneeId: null, reporter: ctx.reporter ?? null, reportedAt: now, madeAt, updatedAt: now, dueAt, escalations: 0, selfHandled, supporters: 0,
      registeredAt: null, dispatchedAt: null, acceptedAt: null, handledAt: null, verifiedAt: null, closedAt: null,
      ratedAt: null, rating: null, ratingComment: null, reopenRequestedAt: null, mergedInto: null, version: 1, regions: [],
      levelStartedAt: now, handlerId: null, regionPath: '',
    },
    now,
  )
  const { code: _code, regions: _regions, ...event } = draft
  const newCase: NewCase = {
    id, category: cat.code, priority, description: reported.description, address: reported.address ?? null, lon, lat,
    source, reporter: ctx.reporter ?? null, department: cat.department, owningLevel, selfHandled,
    reportedAt: now, madeAt, dueAt, actor: ctx.reporter ?? source,
    attachments: photos.map((p) => photoUrl(String(p).toLowerCase())), timelineData: { source }, event,
  }
  const outcome = (r: ReportedCase): CaseCreated => {
    if (!r.categoryActive) {
      categoryCache.delete(db)
      throw notActive(cat.code, 'category')
    }
    if (r.code === null) throw new HttpError(422, 'outside_grid', `the point (${lon}, ${lat}) lies outside every grid`, 'lon')
    return { ...draft, code: r.code, regions: r.regions, possibleDuplicates: r.possibleDuplicates }
  }
  // Without photos or a hook, the report is one statement, its own transaction — written together with the reports
  // that arrive meanwhile (services/intake-group.ts). The relays are woken once it has committed (wakeRelays).
  const created =
    photos.length === 0 && !ctx.inTransaction && !ctx.selfHandled
      ? outcome(await intakeGroupsOf(db).write(newCase))
      : await db.transaction(async (tx) => {
          const reportedCase = outcome(await insertReportedCase(tx, newCase))
          await attachPhotos(tx, id, photos, 'photos', ctx.reporter ?? null)
          const c = ctx.selfHandled ? await handleOnTheSpot(tx, reportedCase, ctx.selfHandled, { now, madeAt }) : reportedCase
          await ctx.inTransaction?.(tx, c)
          return c
        })
  wakeRelays(db)
  return created
}

export interface ActionContext {
  actor: string
  /**
   * The signed-in caller: the case must be one they can read (else 404, as if missing) and the action one their
   * role may take on it (else 403) — auth/case-access.ts. Absent for the unscoped dev-header stand-in and the scheduler.
   */
  user?: AuthUser | null
  now: Date
  /** Version from If-Match; the body's `version` field is the other way to send it. */
  ifMatch?: number
  /** Runs inside the action's transaction after everything is written (the idempotency record uses it). */
  inTransaction?: (tx: Queryable, result: ActionResult) => Promise<void>
  /** Added to the timeline entry's data (handleOnTheSpot marks its steps). */
  data?: Record<string, unknown>
  /** How the body's photos are named in a 422 (default `photos`). */
  photoField?: string
}

export interface ActionResult {
  case: Case
  entry: TimelineEntry
}

/** Columns an action may set (the UPDATE is built from this map only). */
type Updates = Partial<Record<
  | 'status' | 'priority' | 'category' | 'department' | 'assignee_id' | 'handler_id' | 'owning_level' | 'level_started_at'
  | 'due_at' | 'registered_at' | 'dispatched_at' | 'accepted_at' | 'handled_at' | 'verified_at' | 'closed_at'
  | 'rated_at' | 'rating' | 'rating_comment' | 'merged_into' | 'escalations' | 'overdue_flagged_at' | 'supporters'
  | 'reopen_requested_at',
  unknown
>>

interface Effect {
  set: Updates
  note?: string | null
  photos?: string[]
  toLevel?: number
  data?: Record<string, unknown>
}

const NEEDS_ASSIGNMENT = 'needs a department or an assignee (or both)'

async function requireDepartment(q: Queryable, code: string): Promise<void> {
  const { rows } = await q.query('SELECT 1 FROM departments WHERE code = $1 AND active', [code])
  if (!rows[0]) throw new HttpError(400, 'invalid_request', `body.department "${code}" is not a department`, 'department')
}

/**
 * The worker a dispatch or reassignment names, checked against the same reach as the case: a scoped caller may name
 * only a worker inside their own scope (a dispatcher of one district cannot send a case to a worker of another —
 * 422 `assignee_out_of_reach`, as the caller's scope bounds what they steer). A worker outside the case's district is
 * cross-district assistance: only a caller whose reach covers both districts (the city level) can send one, and the
 * timeline records it (`crossDistrict`).
 */
async function requireAssignee(q: Queryable, id: string, row: CaseRow, user: AuthUser | null | undefined): Promise<{ crossDistrict?: { from: string; to: string } }> {
  const { rows } = await q.query<{ path: string | null }>(
    'SELECT r.path::text AS path FROM workers w LEFT JOIN regions r ON r.id = w.region_id WHERE w.id = $1',
    [id],
  )
  if (!rows[0]) throw new HttpError(400, 'invalid_request', `body.assigneeId "${id}" is not a worker`, 'assigneeId')
  const path = rows[0].path
  if (user && !inScope(user, path)) {
    throw new HttpError(422, 'assignee_out_of_reach', `body.assigneeId: worker ${id} works outside your jurisdiction; send the case to a worker of your own area or escalate it`, 'assigneeId')
  }
  const caseDistrict = row.regionPath.split('.')[0]
  const workerDistrict = path?.split('.')[0]
  return workerDistrict && workerDistrict !== caseDistrict ? { crossDistrict: { from: caseDistrict, to: workerDistrict } } : {}
}

async function assignment(tx: Queryable, row: CaseRow, body: AnyActionBody, action: CaseAction, user: AuthUser | null | undefined) {
  if (!body.department && !body.assigneeId) throw new HttpError(400, 'invalid_request', `${action} ${NEEDS_ASSIGNMENT}`, 'department')
  const set: Updates = {}
  if (body.department) {
    await requireDepartment(tx, body.department)
    set.department = body.department
  }
  let reach: { crossDistrict?: { from: string; to: string } } = {}
  if (body.assigneeId) {
    reach = await requireAssignee(tx, body.assigneeId, row, user)
    set.assignee_id = body.assigneeId
  } else {
    set.assignee_id = null
  }
  return { set, ...reach }
}

/** The escalation step shared by the whistle (an action) and the scheduler: one level up, with a fresh limit. */
export async function escalationEffect(tx: Queryable, row: CaseRow, now: Date): Promise<Effect> {
  if (row.owningLevel <= TOP_OWNING_LEVEL) {
    throw new HttpError(409, 'top_level', `case ${row.code} is already owned by the district level and cannot climb further`)
  }
  const cat = await requireCategory(tx, row.category)
  const toLevel = row.owningLevel - 1
  return {
    set: {
      owning_level: toLevel,
      level_started_at: now,
      due_at: dueFor(cat, row.priority, now),
      escalations: row.escalations + 1,
      overdue_flagged_at: null,
    },
    toLevel,
  }
}

async function effectOf(tx: Queryable, row: CaseRow, action: CaseAction, body: AnyActionBody, ctx: ActionContext): Promise<Effect> {
  const now = ctx.now
  switch (action) {
    case 'register': {
      const set: Updates = { registered_at: now }
      if (body.category || body.priority) {
        const cat = await requireCategory(tx, body.category ?? row.category)
        const priority = body.priority ?? row.priority
        set.category = cat.code
        set.priority = priority
        // Re-classified at registration: the limit is re-read for the new category/priority, from when the level took it.
        set.due_at = dueFor(cat, priority, new Date(row.levelStartedAt ?? row.reportedAt!))
        if (body.category && body.category !== row.category) set.department = cat.department
      }
      return { set, note: body.note, data: { priority: set.priority ?? row.priority, category: set.category ?? row.category } }
    }
    case 'reject':
      return { set: {}, note: body.reason }
    case 'dispatch':
    case 'reassign': {
      const { set, crossDistrict } = await assignment(tx, row, body, action, ctx.user)
      set.dispatched_at = now
      set.accepted_at = null
      return {
        set,
        note: action === 'dispatch' ? body.note : body.reason,
        data: {
          department: set.department ?? row.department,
          assigneeId: set.assignee_id,
          previousAssigneeId: row.assigneeId,
          ...(crossDistrict ? { crossDistrict } : {}),
        },
      }
    }
    case 'accept':
      if (row.assigneeId && row.assigneeId !== ctx.actor) {
        throw new HttpError(403, 'not_assignee', `only the assigned worker ${row.assigneeId} can accept case ${row.code}`)
      }
      return { set: { accepted_at: now }, note: body.note }
    case 'handle':
      return { set: { handled_at: now, handler_id: ctx.actor }, note: body.note, photos: body.photos }
    case 'verify': {
      if (row.handlerId === ctx.actor) {
        throw new HttpError(403, 'verifier_is_handler', `the verifier must be someone other than the handler (${ctx.actor})`)
      }
      return { set: { verified_at: now }, note: body.note, photos: body.photos }
    }
    case 'send_back':
      return { set: { handled_at: null, handler_id: null }, note: body.reason, photos: body.photos }
    case 'close':
      return { set: { closed_at: now }, note: body.note }
    case 'rate':
      if (row.reporter === null) throw new HttpError(403, 'not_reporter', `case ${row.code} was reported anonymously: nobody can rate it`)
      if (row.reporter !== ctx.actor) throw new HttpError(403, 'not_reporter', `only the reporter can rate case ${row.code}`)
      return { set: { rating: body.rating, rating_comment: body.comment ?? null, rated_at: now }, note: body.comment, data: { rating: body.rating } }
    case 'request_reopen':
      if (row.reporter === null || row.reporter !== ctx.actor) {
        throw new HttpError(403, 'not_reporter', `only the reporter can ask for case ${row.code} to be done again`)
      }
      if (row.rating === null || row.rating > REOPEN_MAX_RATING) {
        throw new HttpError(409, 'reopen_not_allowed', `only a case rated ${REOPEN_MAX_RATING} or lower can be done again (rated ${row.rating})`)
      }
      if (row.reopenRequestedAt !== null) {
        throw new HttpError(409, 'reopen_already_requested', `case ${row.code}: you asked for it to be done again at ${new Date(row.reopenRequestedAt).toISOString()}; the dispatcher decides`)
      }
      return { set: { reopen_requested_at: now }, note: body.reason, photos: body.photos, data: { rating: row.rating } }
    case 'reopen': {
      if (row.rating === null || row.rating > REOPEN_MAX_RATING) {
        throw new HttpError(409, 'reopen_not_allowed', `only a case rated ${REOPEN_MAX_RATING} or lower can be reopened (rated ${row.rating})`)
      }
      const cat = await requireCategory(tx, row.category)
      return {
        set: {
          level_started_at: now,
          due_at: dueFor(cat, row.priority, now),
          handled_at: null,
          handler_id: null,
          verified_at: null,
          closed_at: null,
          rated_at: null,
          rating: null,
          rating_comment: null,
          accepted_at: now,
          reopen_requested_at: null,
        },
        note: body.reason,
        data: { previousRating: row.rating, ...(row.reopenRequestedAt !== null ? { requestedAt: new Date(row.reopenRequestedAt).toISOString() } : {}) },
      }
    }
    case 'escalate':
      return { ...(await escalationEffect(tx, row, now)), note: body.reason, data: { trigger: 'whistle' } }
    case 'merge': {
      if (body.into === row.id) throw new HttpError(422, 'invalid_merge', 'body.into must be another case', 'into')
      // A target the caller cannot read does not exist for them either.
      const target = await getCaseRow(tx, body.into!, false, ctx.user)
      if (!target) throw new HttpError(422, 'invalid_merge', `body.into: no case ${body.into}`, 'into')
      if (['rejected', 'merged'].includes(target.status)) {
        throw new HttpError(422, 'invalid_merge', `body.into: case ${target.code} is ${target.status} and cannot take duplicates`, 'into')
      }
      await insertTimeline(tx, {
        caseId: target.id,
        at: now,
        actor: ctx.actor,
        action: 'duplicate_merged',
        fromStatus: target.status,
        toStatus: target.status,
        note: body.note ?? null,
        data: { duplicateId: row.id, duplicateCode: row.code },
      })
      return { set: { merged_into: target.id }, note: body.note, data: { into: target.id, intoCode: target.code } }
    }
    case 'note':
      return { set: {}, note: body.note, photos: body.photos }
  }
}

/**
 * Performs one action on one case in ONE transaction: lock the row, check the version (428 missing, 412 stale),
 * check the status allows it (409 with the allowed actions), apply the guards, update the case (version + 1),
 * append the timeline row and the `case:updated` event. Two dispatchers acting on the same version: exactly one wins.
 */
export async function performAction(db: Db, caseId: string, action: CaseAction, body: AnyActionBody, ctx: ActionContext): Promise<ActionResult> {
  const madeAt = checkMadeAt(body.madeAt, ctx.now)
  return db.transaction((tx) => performActionIn(tx, caseId, action, body, ctx, madeAt))
}

/** performAction inside a transaction the caller holds (`madeAt` already checked). */
async function performActionIn(tx: Queryable, caseId: string, action: CaseAction, body: AnyActionBody, ctx: ActionContext, madeAt: Date | null): Promise<ActionResult> {
  const row = await getCaseRow(tx, caseId, true, ctx.user)
  if (!row) throw new HttpError(404, 'case_not_found', `no case ${caseId}`)
  if (ctx.user && !permits(ctx.user, action, row)) {
    throw new HttpError(403, 'forbidden', `a ${ctx.user.role} may not ${action} case ${row.code}`)
  }
  const version = body.version ?? ctx.ifMatch
  if (version === undefined) {
    throw new HttpError(428, 'version_required', `send the case version you acted on (If-Match: "${row.version}" or body.version)`, 'version')
  }
  if (version !== row.version) {
    // Who changed what since the caller's version, and the case as it is now (issue #8): the caller can show the
    // conflict and decide again without another request. Only after the reach and role checks above.
    const changes = version < row.version ? await changesSince(tx, row.id, version) : []
    throw new HttpError(412, 'version_mismatch', `case ${row.code} is at version ${row.version}, not ${version}: reload it and try again`, 'version', {
      currentVersion: row.version,
      changes,
      case: toCase(row, ctx.now),
    })
  }
  const allowed = allowedActions(row.status)
  if (!allowed.includes(action)) {
    throw new HttpError(409, 'action_not_allowed', `"${action}" is not allowed while case ${row.code} is ${row.status}; allowed: ${allowed.join(', ')}`, undefined, {
      allowed,
    })
  }
  const effect = await effectOf(tx, row, action, body, ctx)
  effect.data = { ...effect.data, ...ctx.data, ...(madeAt ? { madeAt: madeAt.toISOString() } : {}) }
  const result = await applyEffect(tx, row, action, effect, ctx)
  await ctx.inTransaction?.(tx, result)
  return result
}

/**
 * 小事不出格 — handled on the spot: the grid worker who reports a small problem has already dealt with it. Inside the
 * report's transaction the case is registered, dispatched to that worker (it is owned by the grid: intake gave it
 * level 4), accepted and handled — each step its own timeline row by the worker with `data.selfHandled: true`, its
 * own version and `case:updated`, exactly as if done one by one (the after-photos and the note on the handle row).
 * It ends `handled`, waiting for verification by someone else: the verifier ≠ handler rule holds. The steps are the
 * service's own (no caller reach: the worker may not register or dispatch, the flow does it for them).
 */
async function handleOnTheSpot(
  tx: Queryable,
  created: CaseCreated,
  how: NonNullable<ReportContext['selfHandled']>,
  t: { now: Date; madeAt: Date | null },
): Promise<CaseCreated> {
  const ctx: ActionContext = { actor: how.workerId, user: null, now: t.now, data: { selfHandled: true }, photoField: 'selfHandled.photos' }
  const steps: Array<[CaseAction, AnyActionBody]> = [
    ['register', {}],
    ['dispatch', { assigneeId: how.workerId }],
    ['accept', {}],
    ['handle', { note: how.note, photos: how.photos }],
  ]
  let version = created.version
  let last: ActionResult | undefined
  for (const [action, body] of steps) {
    last = await performActionIn(tx, created.id, action, { ...body, version }, ctx, t.madeAt)
    version = last.case.version
  }
  return { ...last!.case, possibleDuplicates: created.possibleDuplicates }
}

/**
 * Whose personal channel a case event goes to (events.actors): the assignee after it, the assignee before it (a
 * case taken away from a worker tells them so), the reporter and the followers.
 */
async function personalActors(tx: Queryable, before: CaseRow, after: Case): Promise<string[] | null> {
  const followers = after.supporters > 0 ? await followersOf(tx, after.id) : []
  return actorList(after.assigneeId, before.assigneeId, after.reporter, ...followers)
}

/** Writes an effect: the case row (version + 1), timeline, photos and the outbox event. */
export async function applyEffect(tx: Queryable, row: CaseRow, action: CaseAction | 'overdue' | 'supplement', effect: Effect, ctx: { actor: string; now: Date; photoField?: string }): Promise<ActionResult> {
  const to = action === 'overdue' || action === 'supplement' ? row.status : nextStatus(action, row.status)
  const set: Updates = { ...effect.set, status: to }
  const cols = Object.keys(set) as (keyof Updates)[]
  const params: unknown[] = [row.id, row.version, ctx.now, ...cols.map((c) => set[c])]
  const assignments = cols.map((c, i) => `${c} = $${i + 4}`).join(', ')
  const updated = await tx.query(
    `UPDATE cases SET ${assignments}, version = version + 1, updated_at = $3 WHERE id = $1 AND version = $2 RETURNING id`,
    params,
  )
  if (updated.rows.length !== 1) throw new HttpError(412, 'version_mismatch', `case ${row.code} changed meanwhile: reload it and try again`, 'version')
  const attached = effect.photos?.length ? await attachPhotos(tx, row.id, effect.photos, ctx.photoField ?? 'photos', ctx.actor) : []
  const entry = await insertTimeline(tx, {
    caseId: row.id,
    at: ctx.now,
    actor: ctx.actor,
    action,
    fromStatus: row.status,
    toStatus: to,
    fromLevel: effect.toLevel !== undefined ? row.owningLevel : null,
    toLevel: effect.toLevel ?? null,
    note: effect.note ?? null,
    attachments: attached.map((p) => photoUrl(p.id)),
    data: effect.data ?? {},
  })
  const after = toCase((await getCaseRow(tx, row.id))!, ctx.now)
  await appendEvent(tx, 'case:updated', row.regionPath, { case: after, action, entry }, await personalActors(tx, row, after))
  return { case: after, entry }
}
