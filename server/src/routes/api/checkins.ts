import { Type } from 'typebox'
import { CheckinCollectionSchema, CheckinCreateSchema, CheckinListQuerySchema, CheckinSchema, type Checkin } from '../../../../shared/schemas/checkin.ts'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import type { AppInstance } from '../../app-types.ts'
import { CHECKIN_WRITERS, checkinReachSql, readsCheckins } from '../../auth/checkin-access.ts'
import { regionExists } from '../../repos/workers.ts'
import { checkinCollection, recordCheckin } from '../../services/checkins.ts'
import { HttpError } from '../../services/http-error.ts'
import { parseIdempotencyKey, requestHash, withIdempotencyKey } from '../../services/idempotency.ts'
import { requireActor, scopedCaller } from '../caller.ts'

const DAY_MS = 86_400_000

/**
 * Patrol check-ins (走访打卡): POST /api/checkins from the field app (its offline queue replays it with its
 * Idempotency-Key), GET /api/checkins for the maps of the staff. Who may do what: auth/checkin-access.ts.
 */
export default async function checkinRoutes(app: AppInstance) {
  // AUTH_MODE=token: anonymous → 401 before validation (this plugin only).
  app.addHook('onRequest', async (req) => {
    scopedCaller(req)
  })

  app.post(
    '/api/checkins',
    {
      schema: {
        body: CheckinCreateSchema,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        response: { 201: CheckinSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema },
      },
    },
    async (req, reply) => {
      const user = scopedCaller(req)
      const { workerId: named, ...input } = req.body
      let workerId: string
      if (user) {
        if (!CHECKIN_WRITERS.includes(user.role)) throw new HttpError(403, 'forbidden', 'check-ins are recorded by grid workers (their own) or an admin gateway')
        if (user.role === 'grid_worker') {
          if (named !== undefined && named !== user.workerId) {
            throw new HttpError(403, 'forbidden', `a grid worker records only their own check-ins (${user.workerId}), not ${named}`, 'workerId')
          }
          workerId = user.workerId!
        } else if (named === undefined) {
          throw new HttpError(400, 'invalid_request', 'body.workerId is required: whose check-in this is', 'workerId')
        } else workerId = named
      } else {
        // The unscoped dev-header stand-in names the worker.
        if (named === undefined) throw new HttpError(400, 'invalid_request', 'body.workerId is required: whose check-in this is', 'workerId')
        workerId = named
      }
      const actor = requireActor(req)
      const now = app.now()
      const key = parseIdempotencyKey(req.headers['idempotency-key'])
      const idem = key ? { scope: actor, key, hash: requestHash('POST', '/api/checkins', req.body) } : undefined
      const outcome = await withIdempotencyKey(app.db, idem, now, (record) =>
        recordCheckin(app.db, input, { workerId, actor, now, inTransaction: record && ((tx, checkin) => record(tx, 201, checkin)) }),
      )
      if (outcome.kind === 'replay') return reply.code(outcome.statusCode as 201).header('idempotent-replayed', 'true').send(outcome.body as Checkin)
      return reply.code(201).send(outcome.result)
    },
  )

  app.get(
    '/api/checkins',
    { schema: { querystring: CheckinListQuerySchema, response: { 200: CheckinCollectionSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema } } },
    async (req) => {
      const user = scopedCaller(req)
      if (user && !readsCheckins(user)) throw new HttpError(403, 'forbidden', 'check-ins are for staff')
      const q = req.query
      const now = app.now()
      const to = q.to ? new Date(q.to) : now
      const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS)
      if (from >= to) throw new HttpError(400, 'invalid_request', 'querystring.from must be before querystring.to', 'from')
      if (q.region !== undefined && !(await regionExists(app.db, q.region))) {
        throw new HttpError(400, 'invalid_request', `querystring.region "${q.region}" is not a region`, 'region')
      }
      return checkinCollection(app.db, {
        regionId: q.region,
        workerId: q.worker,
        from,
        to,
        toInclusive: q.to === undefined,
        reach: user ? (b) => checkinReachSql(user, b) : undefined,
        limit: q.limit,
      })
    },
  )
}
