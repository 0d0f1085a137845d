import { Type, type Static, type TSchema } from 'typebox'
import { CASE_ACTIONS, CASE_SOURCES, PRIORITIES, allowedActions, reopenRequestable, type CaseAction } from '../../../../shared/domain/case-lifecycle.ts'
import { CASE_STATUSES, OPEN_STATUSES, type CaseStatus } from '../../../../shared/domain/case-status.ts'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import {
  ACTION_BODIES,
  MAX_NEARBY,
  NEARBY_DESCRIPTION_CHARS,
  NearbyCasesSchema,
  NearbyQuerySchema,
  SupplementCreateSchema,
  SupplementCreatedSchema,
  type TimelineEntry,
  CaseCreateSchema,
  CaseCreatedSchema,
  CaseDetailSchema,
  CaseListSchema,
  CaseConflictSchema,
  CaseSchema,
  type AnyActionBody,
  type Case,
  type CaseCreated,
} from '../../../../shared/schemas/case.ts'
import type { AppInstance } from '../../app-types.ts'
import { getTimeline, nearbyCases, toCase } from '../../repos/cases.ts'
import type { SqlCondition } from '../../repos/sql.ts'
import { SENSITIVE_FAMILIES, publicCategorySql } from '../../auth/public-data.ts'
import { caseReachSql } from '../../auth/case-access.ts'
import { toWgs84 } from '../../../../shared/geo/crs.ts'
import type { FastifyRequest } from 'fastify'
import { getCaseRow, listCases, type CaseListFilter } from '../../services/case-reads.ts'
import { actorOf, type AuthUser } from '../../auth/roles.ts'
import { listCasePhotos } from '../../repos/photos.ts'
import { performAction, reportCase } from '../../services/cases.ts'
import { addSupplement } from '../../services/supplements.ts'
import { HttpError } from '../../services/http-error.ts'
import {
  claimKey,
  completeKey,
  parseIdempotencyKey,
  releaseKey,
  requestHash,
  withIdempotencyKey,
  type IdempotentRequest,
} from '../../services/idempotency.ts'
import { parseBbox } from '../ogc/request.ts'
import { permits } from '../../auth/case-access.ts'
import { callerOf, requireActor, scopedCaller } from '../caller.ts'
import { requireUser } from '../../auth/guards.ts'

const csvOf = (values: readonly string[], what: string) =>
  Type.String({ pattern: `^(${values.join('|')})(,(${values.join('|')}))*$`, description: `${what}: one or more of ${values.join(', ')}, comma-separated` })

/** GET /api/cases's query; exports (routes/api/exports.ts) take the same filters. */
export const ListQuery = Type.Object(
  {
    status: Type.Optional(csvOf(['open', ...CASE_STATUSES], '"open" (every status somebody still has to act on) or statuses')),
    category: Type.Optional(Type.String({ pattern: '^[a-z0-9_.]+(,[a-z0-9_.]+)*$', description: 'category codes; a family matches its children' })),
    priority: Type.Optional(csvOf(PRIORITIES, 'priorities')),
    source: Type.Optional(csvOf(CASE_SOURCES, 'sources')),
    overdue: Type.Optional(Type.Boolean({ description: 'true: open cases past their limit; false: the others' })),
    region: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'a region id at any level' })),
    assignee: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'reported at or after' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'reported before' })),
    bbox: Type.Optional(Type.String({ description: 'minLon,minLat,maxLon,maxLat (WGS84)' })),
    limit: Type.Integer({ minimum: 1, maximum: 20000, default: 500, description: 'page size, newest first' }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false })

type CaseQuery = Static<typeof ListQuery>

/** The filters of a case list query (GET /api/cases, exports), limited to what `user` may read. 400 naming the field. */
export function caseFilterOf(q: Omit<CaseQuery, 'limit' | 'offset'>, user: AuthUser | null | undefined): Omit<CaseListFilter, 'limit' | 'offset'> {
  const split = (s: string | undefined) => (s ? s.split(',') : undefined)
  const statuses = q.status
    ? [...new Set(q.status.split(',').flatMap((s) => (s === 'open' ? OPEN_STATUSES : [s as CaseStatus])))]
    : OPEN_STATUSES
  const from = q.from ? new Date(q.from) : undefined
  const to = q.to ? new Date(q.to) : undefined
  if (from && to && from >= to) throw new HttpError(400, 'invalid_request', 'querystring.from must be before querystring.to', 'from')
  return {
    statuses,
    categories: split(q.category),
    priorities: split(q.priority),
    sources: split(q.source),
    overdue: q.overdue,
    regionId: q.region,
    assigneeId: q.assignee,
    readableBy: user,
    from,
    to,
    bbox: parseBbox(q.bbox),
  }
}

/** If-Match: "3", W/"3" or 3 → 3. */
function parseIfMatch(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(raw)
  if (!m) throw new HttpError(400, 'invalid_request', 'header If-Match must be the case version as an entity tag, e.g. "3"', 'If-Match')
  return Number(m[1])
}

const etag = (version: number) => `"${version}"`

/**
 * What GET /api/cases/nearby (and a supplement, which adds to what it showed) lets a caller find: a case of a public
 * category (the ones Open311 lists, auth/public-data.ts) for anyone; any other case only for a signed-in caller who
 * may read it (staff of its area, its reporter or follower). Undefined: everything — the unscoped dev-header caller.
 */
export function nearbyVisibility(req: FastifyRequest, alias = 'x'): SqlCondition | undefined {
  const user = req.user
  if (!user && (req.server.auth?.options.mode ?? 'dev-header') === 'dev-header') return undefined
  return (b) => {
    const open = publicCategorySql(`${alias}.category`, b.add(SENSITIVE_FAMILIES))
    return user ? `${open} OR (${caseReachSql(user, 'read', b, alias)})` : open
  }
}

export default async function caseRoutes(app: AppInstance) {
  // AUTH_MODE=token: no case route but intake answers an anonymous caller, not even with a validation error (this
  // plugin's routes only; the auth hook on the root has already set req.user). The handlers ask scopedCaller again.
  // Intake stays open: an anonymous report (随手拍 without an account) is recorded with reporter null and can be
  // neither read back nor rated by its sender — reporting discloses no case data.
  // The nearby lookup is public too: a phone asks it before reporting, signed in or not (it shows nothing personal).
  app.addHook('onRequest', async (req) => {
    if (req.method === 'POST' && req.routeOptions.url === '/api/cases') return
    if ((req.method === 'GET' || req.method === 'HEAD') && req.routeOptions.url === '/api/cases/nearby') return
    scopedCaller(req)
  })

  app.post(
    '/api/cases',
    {
      schema: {
        body: CaseCreateSchema,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        response: { 201: CaseCreatedSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema },
      },
    },
    async (req, reply) => {
      // Anyone may report, anywhere (auth/case-access.ts): signed in, anonymously, or (dev-header) as X-Actor.
      // Handled on the spot: only a signed-in grid worker, for what they report themselves.
      let selfHandled: { workerId: string; note?: string; photos?: string[] } | undefined
      if (req.body.selfHandled) {
        const user = requireUser(req)
        if (user.role !== 'grid_worker' || !user.workerId) {
          throw new HttpError(403, 'forbidden', `body.selfHandled: only a grid worker handles on the spot what they report; you are ${user.role}`, 'selfHandled')
        }
        selfHandled = { workerId: user.workerId, ...req.body.selfHandled }
      }
      const now = app.now()
      const key = parseIdempotencyKey(req.headers['idempotency-key'])
      const reporter = callerOf(req)
      const idem: IdempotentRequest | undefined = key
        ? { scope: reporter ?? `ip:${req.ip}`, key, hash: requestHash('POST', '/api/cases', req.body) }
        : undefined
      if (idem) {
        const claim = await claimKey(app.db, idem, now)
        if (claim.kind === 'replay') {
          return reply.code(claim.statusCode as 201).header('idempotent-replayed', 'true').send(claim.body as CaseCreated)
        }
      }
      try {
        const created = await reportCase(app.db, req.body, {
          reporter,
          now,
          selfHandled,
          inTransaction: idem ? (tx, result) => completeKey(tx, idem, 201, result) : undefined,
        })
        return reply.code(201).header('etag', etag(created.version)).header('location', `/api/cases/${created.id}`).send(created)
      } catch (err) {
        if (idem) await releaseKey(app.db, idem)
        throw err
      }
    },
  )

  app.get('/api/cases', { schema: { querystring: ListQuery, response: { 200: CaseListSchema, 400: ErrorSchema, 401: ErrorSchema } } }, async (req) => {
    const user = scopedCaller(req)
    const q = req.query
    const filter = caseFilterOf(q, user)
    // The log position of this list: taken BEFORE the query (after the relay has caught up with what is committed),
    // so that every event up to it is in the query's snapshot; events after it may be too, and clients drop what
    // they already hold by version. See realtime/relay.ts.
    await app.relay.drain()
    const seq = app.relay.position
    const list = await listCases(app.db, { ...filter, limit: q.limit, offset: q.offset }, app.now())
    return { ...list, seq }
  })

  app.get(
    '/api/cases/nearby',
    { schema: { querystring: NearbyQuerySchema, response: { 200: NearbyCasesSchema, 400: ErrorSchema } } },
    async (req, reply) => {
      const q = req.query
      const [lon, lat] = toWgs84(q.lon, q.lat, q.crs)
      const rows = await nearbyCases(app.db, {
        lon,
        lat,
        category: q.category,
        radiusM: q.radiusM,
        hours: q.hours,
        now: app.now(),
        visible: nearbyVisibility(req),
        limit: MAX_NEARBY,
        descriptionChars: NEARBY_DESCRIPTION_CHARS,
      })
      reply.header('cache-control', 'no-store')
      return { cases: rows.map((r) => ({ ...r, reportedAt: new Date(r.reportedAt).toISOString() })) }
    },
  )

  app.get(
    '/api/cases/:id',
    { schema: { params: IdParams, response: { 200: CaseDetailSchema, 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema } } },
    async (req, reply) => {
      const user = scopedCaller(req)
      // Out of the caller's reach is the same 404 as missing: the reach is a condition of the query.
      const row = await getCaseRow(app.db, req.params.id, false, user)
      if (!row) throw new HttpError(404, 'case_not_found', `no case ${req.params.id}`)
      const [all, photos] = await Promise.all([getTimeline(app.db, row.id), listCasePhotos(app.db, row.id)])
      // A resident who reads the case only as a follower does not get the Open311 intake record: it holds the
      // reporter's contact details (for staff and for the reporter themselves).
      const follower = user?.role === 'resident' && row.reporter !== actorOf(user)
      const timeline = follower ? all.filter((e) => !('open311' in e.data)) : all
      reply.header('etag', etag(row.version)).header('cache-control', 'no-cache')
      return {
        ...toCase(row, app.now()),
        timeline,
        photos: photos.map((p) => ({ id: p.id, url: p.url })),
        // What the status allows and, for a signed-in caller, what their role may do to this case (the web's buttons).
        allowedActions: allowedActions(row.status).filter(
          (a) =>
            (!user || permits(user, a, row)) &&
            // Asking for a reopen is offered only where it would be taken: a low rating not yet contested, by its reporter.
            (a !== 'request_reopen' || (reopenRequestable(row) && (!user || row.reporter === actorOf(user)))),
        ),
      }
    },
  )

  app.post(
    '/api/cases/:id/supplements',
    {
      schema: {
        params: IdParams,
        body: SupplementCreateSchema,
        headers: Type.Object({ 'x-actor': Type.Optional(Type.String()), 'idempotency-key': Type.Optional(Type.String()) }),
        response: { 201: SupplementCreatedSchema, 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema },
      },
    },
    async (req, reply) => {
      // Anyone who could find the case near them (GET /api/cases/nearby) may add to it: signed in, or X-Actor in dev-header.
      scopedCaller(req)
      const actor = requireActor(req)
      const now = app.now()
      const key = parseIdempotencyKey(req.headers['idempotency-key'])
      const path = `/api/cases/${req.params.id}/supplements`
      const idem = key ? { scope: actor, key, hash: requestHash('POST', path, req.body) } : undefined
      const outcome = await withIdempotencyKey(app.db, idem, now, (record) =>
        addSupplement(app.db, req.params.id, req.body, {
          actor,
          now,
          findable: nearbyVisibility(req, 'c'),
          inTransaction: record && ((tx, result) => record(tx, 201, result)),
        }),
      )
      if (outcome.kind === 'replay') {
        const stored = outcome.body as { case: Case; entry: TimelineEntry }
        return reply.code(outcome.statusCode as 201).header('idempotent-replayed', 'true').send(stored)
      }
      return reply.code(201).header('etag', etag(outcome.result.case.version)).send(outcome.result)
    },
  )

  for (const action of CASE_ACTIONS) {
    app.post(
      `/api/cases/:id/actions/${action}`,
      {
        schema: {
          params: IdParams,
          body: ACTION_BODIES[action] as TSchema,
          headers: Type.Object({
            'if-match': Type.Optional(Type.String()),
            'x-actor': Type.Optional(Type.String()),
            'idempotency-key': Type.Optional(Type.String()),
          }),
          response: { 200: CaseSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 412: CaseConflictSchema, 422: ErrorSchema, 428: ErrorSchema },
        },
      },
      async (req, reply) => {
        const user = scopedCaller(req)
        const body = req.body as AnyActionBody
        const ifMatch = parseIfMatch(req.headers['if-match'])
        if (ifMatch !== undefined && body.version !== undefined && ifMatch !== body.version) {
          throw new HttpError(400, 'invalid_request', `If-Match (${ifMatch}) and body.version (${body.version}) disagree`, 'version')
        }
        const actor = requireActor(req)
        const now = app.now()
        // Idempotency-Key (the phone's offline queue replays actions after a dropped link): per caller, the request
        // being the case, the action, the body and the If-Match version. A replay of an action that succeeded gets
        // its first 200 again — not the 412 its old version would now earn.
        const key = parseIdempotencyKey(req.headers['idempotency-key'])
        const path = `/api/cases/${req.params.id}/actions/${action}`
        const idem = key ? { scope: actor, key, hash: requestHash('POST', path, { body, ifMatch: ifMatch ?? null }) } : undefined
        const outcome = await withIdempotencyKey(app.db, idem, now, (record) =>
          performAction(app.db, req.params.id, action as CaseAction, body, {
            actor,
            user,
            now,
            ifMatch,
            inTransaction: record && ((tx, result) => record(tx, 200, result.case)),
          }),
        )
        if (outcome.kind === 'replay') {
          const stored = outcome.body as Case
          return reply.code(outcome.statusCode as 200).header('idempotent-replayed', 'true').header('etag', etag(stored.version)).send(stored)
        }
        return reply.header('etag', etag(outcome.result.case.version)).send(outcome.result.case)
      },
    )
  }
  app.post('/api/cases/:id/actions/:action', async (req, reply) => {
    const { action } = req.params as { action: string }
    return reply.code(404).send({ error: 'unknown_action', message: `no action "${action}"; actions: ${CASE_ACTIONS.join(', ')}` })
  })
}
