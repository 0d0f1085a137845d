import { Type } from 'typebox'
import { WORKER_STATUSES, type WorkerStatus } from '../../../../shared/schemas/worker.ts'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import {
  BulkActionSchema,
  BulkResultSchema,
  CandidatesSchema,
  DEFAULT_CAMERA_RADIUS_M,
  STALE_POSITION_S,
  type BulkItemResult,
} from '../../../../shared/schemas/dispatch.ts'
import type { AnyActionBody } from '../../../../shared/schemas/case.ts'
import type { AppInstance } from '../../app-types.ts'
import { permits, rolesFor } from '../../auth/case-access.ts'
import { camerasNear, workerLoads } from '../../repos/candidates.ts'
import { getCaseRow } from '../../services/case-reads.ts'
import { nearestWorkers } from '../../repos/workers.ts'
import { performAction } from '../../services/cases.ts'
import { HttpError } from '../../services/http-error.ts'
import type { Case } from '../../../../shared/schemas/case.ts'
import type { TimelineEntry } from '../../../../shared/schemas/case.ts'
import { requireActor, scopedCaller } from '../caller.ts'

const csvOf = (values: readonly string[], what: string, extra: Record<string, unknown> = {}) =>
  Type.String({ pattern: `^(${values.join('|')})(,(${values.join('|')}))*$`, description: `${what}: one or more of ${values.join(', ')}, comma-separated`, ...extra })

/**
 * The dispatcher's workspace (issue #8):
 * - GET /api/cases/:id/candidates — the nearest workers (KNN, geodesic distance, their load, last-seen age, on duty
 *   or not) and the cameras within a radius with their stream addresses (视频联动). Reach: the case must be readable
 *   (else 404 like a missing one) and the role one of CASE_ACCESS.candidates (else 403); workers and cameras are
 *   limited to the caller's scope.
 * - POST /api/cases/actions/bulk — one action on several cases, each with its own version and its own transaction
 *   (services/cases.ts performAction): per-case results, never all-or-nothing, so one conflict does not undo the
 *   others and each conflict says who changed what.
 */
export default async function dispatchRoutes(app: AppInstance) {
  // AUTH_MODE=token: anonymous callers 401 before validation (this plugin's routes only).
  app.addHook('onRequest', async (req) => {
    scopedCaller(req)
  })

  app.get(
    '/api/cases/:id/candidates',
    {
      schema: {
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 50, default: 10, description: 'workers, nearest first' }),
            status: csvOf(WORKER_STATUSES, 'worker statuses (default on_duty,busy: who could be sent)', { default: 'on_duty,busy' }),
            maxAgeS: Type.Optional(Type.Integer({ minimum: 1, description: 'only workers whose live position is at most this old' })),
            radiusM: Type.Number({ minimum: 1, maximum: 5000, default: DEFAULT_CAMERA_RADIUS_M, description: 'camera radius, metres' }),
            cameraLimit: Type.Integer({ minimum: 0, maximum: 100, default: 20 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: CandidatesSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const user = scopedCaller(req)
      const row = await getCaseRow(app.db, req.params.id, false, user)
      if (!row) throw new HttpError(404, 'case_not_found', `no case ${req.params.id}`)
      if (user && !permits(user, 'candidates', row)) throw new HttpError(403, 'forbidden', `a ${user.role} does not see the candidates of a case`)
      const q = req.query
      const now = app.now()
      const statuses = [...new Set(q.status.split(','))] as WorkerStatus[]
      const [workers, cameras] = await Promise.all([
        nearestWorkers(app.db, {
          lon: row.lon,
          lat: row.lat,
          limit: q.limit,
          statuses,
          seenSince: q.maxAgeS === undefined ? undefined : new Date(now.getTime() - q.maxAgeS * 1000),
          within: user ?? undefined,
        }),
        q.cameraLimit === 0 ? [] : camerasNear(app.db, { lon: row.lon, lat: row.lat, radiusM: q.radiusM, limit: q.cameraLimit, within: user ?? undefined }),
      ])
      const loads = await workerLoads(app.db, workers.map((w) => w.id))
      reply.header('cache-control', 'no-cache')
      return {
        now: now.toISOString(),
        caseId: row.id,
        code: row.code,
        version: row.version,
        point: [row.lon, row.lat] as [number, number],
        radiusM: q.radiusM,
        workers: workers.map((w) => {
          const age = w.lastSeenAt === null ? null : Math.max(0, Math.floor((now.getTime() - Date.parse(w.lastSeenAt)) / 1000))
          return { ...w, load: loads.get(w.id) ?? 0, lastSeenAgeS: age, onDuty: w.status === 'on_duty', stale: age === null || age > STALE_POSITION_S }
        }),
        cameras,
      }
    },
  )

  app.post(
    '/api/cases/actions/bulk',
    {
      schema: {
        body: BulkActionSchema,
        headers: Type.Object({ 'x-actor': Type.Optional(Type.String()) }),
        response: { 200: BulkResultSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (req) => {
      const user = scopedCaller(req)
      const b = req.body
      if (user && !rolesFor(b.action).includes(user.role)) throw new HttpError(403, 'forbidden', `a ${user.role} may not ${b.action} cases`)
      const actor = requireActor(req)
      // The body is checked once for all items (a 400 names the field), so every item fails or succeeds on its case alone.
      if ((b.action === 'dispatch' || b.action === 'reassign') && !b.department && !b.assigneeId) {
        throw new HttpError(400, 'invalid_request', `${b.action} needs body.department or body.assigneeId (or both)`, 'department')
      }
      if ((b.action === 'reassign' || b.action === 'escalate') && !b.reason) {
        throw new HttpError(400, 'invalid_request', `${b.action} needs body.reason`, 'reason')
      }
      if (b.action === 'escalate' && (b.department || b.assigneeId)) {
        throw new HttpError(400, 'invalid_request', 'escalate takes no department or assignee', b.department ? 'department' : 'assigneeId')
      }
      const seen = new Set<string>()
      for (const [i, item] of b.items.entries()) {
        const id = item.id.toLowerCase()
        if (seen.has(id)) throw new HttpError(400, 'invalid_request', `body.items[${i}].id repeats case ${item.id}`, `items[${i}].id`)
        seen.add(id)
      }
      const fields: AnyActionBody =
        b.action === 'escalate'
          ? { reason: b.reason }
          : b.action === 'reassign'
            ? { department: b.department, assigneeId: b.assigneeId, reason: b.reason }
            : { department: b.department, assigneeId: b.assigneeId, note: b.note }
      const results: BulkItemResult[] = []
      for (const item of b.items) {
        try {
          // Its own transaction per case; the version comes only from the item (none → 428 for this item).
          const r = await performAction(app.db, item.id, b.action, { ...fields, version: item.version }, { actor, user, now: app.now() })
          results.push({ id: item.id, ok: true, status: 200, case: r.case })
        } catch (err) {
          if (!(err instanceof HttpError)) throw err
          const extra = (err.extra ?? {}) as { currentVersion?: number; changes?: TimelineEntry[]; case?: Case }
          results.push({
            id: item.id,
            ok: false,
            status: err.statusCode,
            error: err.code,
            message: err.message,
            ...(err.field ? { field: err.field } : {}),
            ...(extra.currentVersion !== undefined ? { currentVersion: extra.currentVersion } : {}),
            ...(extra.changes ? { changes: extra.changes } : {}),
            ...(extra.case ? { case: extra.case } : {}),
          })
        }
      }
      const succeeded = results.filter((r) => r.ok).length
      return { action: b.action, succeeded, failed: results.length - succeeded, results }
    },
  )
}


