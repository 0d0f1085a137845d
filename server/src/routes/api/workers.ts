import { describeValidation } from '../../validation.ts'
import type { FastifyError, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { INPUT_CRS, toWgs84, type InputCrs } from '../../../../shared/geo/crs.ts'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import { LatSchema, LonSchema } from '../../../../shared/schemas/geo.ts'
import {
  LiveWorkerListSchema,
  NearestWorkersSchema,
  PositionBatchResultSchema,
  PositionBatchSchema,
  PositionCreateSchema,
  PositionRecordedSchema,
  TrackLineSchema,
  TrackPointsSchema,
  WORKER_ROLES,
  WORKER_STATUSES,
  WorkerListSchema,
  WorkerSchema,
  WorkerStatusChangedSchema,
  WorkerStatusChangeSchema,
  type WorkerRole,
  type WorkerStatus,
} from '../../../../shared/schemas/worker.ts'
import type { AppInstance } from '../../app-types.ts'
import { getWorker, listLiveWorkers, listWorkers, nearestWorkers, regionExists, workerTrack } from '../../repos/workers.ts'
import { HttpError } from '../../services/http-error.ts'
import { recordPositions, setWorkerStatus, startPositionMaintenance, type PositionMaintenance } from '../../services/workers.ts'
import { callerOf, scopedCaller } from '../caller.ts'
import { parseBbox } from '../ogc/request.ts'
import type { AuthUser } from '../../auth/roles.ts'

const csvOf = (values: readonly string[], what: string, extra: { default?: string } = {}) =>
  Type.String({ pattern: `^(${values.join('|')})(,(${values.join('|')}))*$`, description: `${what}: one or more of ${values.join(', ')}, comma-separated`, ...extra })
const split = <T extends string>(s: string | undefined): T[] | undefined => (s ? ([...new Set(s.split(','))] as T[]) : undefined)

const WorkerId = Type.String({ minLength: 1, maxLength: 64 })
const IdParams = Type.Object({ id: WorkerId }, { additionalProperties: false })
const RegionQuery = Type.String({ minLength: 1, maxLength: 64, description: 'a region id at any level' })
const CrsQuery = Type.Unsafe<InputCrs>({ type: 'string', enum: INPUT_CRS, description: 'CRS of lon/lat (default wgs84)' })

/** Most positions a batch body may carry in bytes (5,000 fixes with long ids and times fit with room to spare). */
const BATCH_BODY_LIMIT = 4 * 1024 * 1024
const HOUR_MS = 3_600_000

/**
 * A 400 naming the field as a client would write it — `positions[12].lat`, not `positions.12.lat` — from the
 * validation error Fastify attached to the request (routes with attachValidation).
 */
function validationFailure(err: FastifyError & { validationContext?: string }): HttpError {
  const { field, message } = describeValidation(err, { style: 'brackets', context: 'body' })
  return new HttpError(400, 'invalid_request', message, field || undefined)
}

function checkValidation(req: FastifyRequest): void {
  const err = (req as FastifyRequest & { validationError?: FastifyError }).validationError
  if (err) throw validationFailure(err)
}

async function requireRegion(app: AppInstance, id: string | undefined): Promise<void> {
  if (id !== undefined && !(await regionExists(app.db, id))) {
    throw new HttpError(400, 'invalid_request', `querystring.region "${id}" is not a region`, 'region')
  }
}

/**
 * Who may read worker data (issue #6): positions, tracks and phone numbers are personal data of the staff.
 * AUTH_MODE=token: anonymous → 401 (the plugin's onRequest hook); dev-header without a token: unscoped, as before.
 * Signed in: every staff role, limited in SQL to the workers of their scope (repos/workers.ts workerScopeSql) — a
 * worker outside it answers 404 `worker_not_found` like a missing one; a `region` filter outside the scope simply
 * finds nobody. Residents → 403.
 */
function staffReader(req: FastifyRequest): AuthUser | null {
  const user = scopedCaller(req)
  if (user?.role === 'resident') throw new HttpError(403, 'forbidden', 'worker data is for staff')
  return user
}

/**
 * Who may send a worker's positions: the grid worker themselves (their phone), or an admin (the account a batch
 * gateway of GPS devices signs in with). Nobody else writes where somebody is — a dispatcher moving a dot on the
 * map would be a forged track. The single-fix route checks the path id; the batch checks every fix.
 */
function requirePositionSender(user: AuthUser, workerIds: readonly string[]): void {
  if (user.role === 'admin') return
  if (user.role !== 'grid_worker') throw new HttpError(403, 'forbidden', 'positions are sent by grid workers (their own) or an admin gateway')
  const other = workerIds.find((id) => id !== user.workerId)
  if (other !== undefined) throw new HttpError(403, 'forbidden', `a grid worker sends only their own positions (${user.workerId}), not ${other}`)
}

function positiveIntFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`)
  return n
}

/**
 * Live resources: positions (single and batch), status, lists, tracks, nearest. Also runs the tracks' retention
 * job in this process (POSITION_RETENTION_DAYS, default 30; a pass at start and every
 * POSITION_MAINTENANCE_INTERVAL_S, default 3600).
 */
export default async function workerRoutes(app: AppInstance) {
  const retentionDays = positiveIntFromEnv('POSITION_RETENTION_DAYS', 30)
  const intervalMs = positiveIntFromEnv('POSITION_MAINTENANCE_INTERVAL_S', 3600) * 1000
  let maintenance: PositionMaintenance | undefined
  app.addHook('onReady', async () => {
    const m = startPositionMaintenance(app.db, {
      retentionDays,
      intervalMs,
      now: () => app.now(),
      onError: (err) => app.log.error({ err }, 'worker positions: maintenance pass failed'),
      onPass: (r) => (r.created.length || r.dropped.length || r.deleted) && app.log.info(`worker positions: created ${r.created.join(', ') || 'none'}, dropped ${r.dropped.join(', ') || 'none'}, ${r.deleted} expired rows deleted`),
    })
    maintenance = m
    await m.first
  })
  app.addHook('onClose', async () => maintenance?.stop())
  // AUTH_MODE=token: every worker route answers an anonymous caller 401, before validation (this plugin only).
  app.addHook('onRequest', async (req) => {
    scopedCaller(req)
  })

  app.post(
    '/api/workers/positions',
    {
      bodyLimit: BATCH_BODY_LIMIT,
      attachValidation: true,
      schema: { body: PositionBatchSchema, response: { 200: PositionBatchResultSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 422: ErrorSchema } },
    },
    async (req) => {
      const user = scopedCaller(req)
      if (user && user.role !== 'admin' && user.role !== 'grid_worker') requirePositionSender(user, [])
      checkValidation(req)
      if (user) requirePositionSender(user, req.body.positions.map((p) => p.workerId))
      const { positions, crs } = req.body
      const { chains: _c, liveFlags: _l, ...result } = await recordPositions(app.db, positions, { now: app.now(), crs })
      return result
    },
  )

  app.post(
    '/api/workers/:id/positions',
    {
      attachValidation: true,
      schema: { params: IdParams, body: PositionCreateSchema, response: { 200: PositionRecordedSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema } },
    },
    async (req) => {
      const user = scopedCaller(req)
      if (user) requirePositionSender(user, [req.params.id])
      checkValidation(req)
      const { crs, ...fix } = req.body
      const workerId = req.params.id
      const now = app.now()
      let r
      try {
        r = await recordPositions(app.db, [{ ...fix, workerId }], { now, crs, field: (_i, name) => name })
      } catch (err) {
        if (err instanceof HttpError && err.code === 'unknown_worker') throw new HttpError(404, 'worker_not_found', `no worker ${workerId}`)
        throw err
      }
      return {
        workerId,
        at: new Date(fix.at === undefined ? now.getTime() : Date.parse(fix.at)).toISOString(),
        gridId: r.grids[0],
        regions: r.chains[0],
        outsideCoverage: r.grids[0] === null,
        stored: r.stored === 1,
        live: r.liveFlags[0],
      }
    },
  )

  app.post(
    '/api/workers/:id/status',
    {
      attachValidation: true,
      schema: {
        params: IdParams,
        body: WorkerStatusChangeSchema,
        headers: Type.Object({ 'x-actor': Type.Optional(Type.String()) }),
        response: { 200: WorkerStatusChangedSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (req) => {
      // Status (on/off duty, busy): the worker themselves, or an admin/dispatcher for a worker in their scope (a
      // worker outside it: 404 like a missing one).
      const user = scopedCaller(req)
      if (user) {
        const self = user.role === 'grid_worker' && user.workerId === req.params.id
        if (!self && user.role !== 'admin' && user.role !== 'dispatcher') {
          throw new HttpError(403, 'forbidden', 'a worker status is set by the worker, a dispatcher or an admin')
        }
        if (!self && !(await getWorker(app.db, req.params.id, user))) throw new HttpError(404, 'worker_not_found', `no worker ${req.params.id}`)
      }
      checkValidation(req)
      return setWorkerStatus(app.db, req.params.id, req.body.status, { by: callerOf(req) })
    },
  )

  app.get(
    '/api/workers',
    {
      schema: {
        querystring: Type.Object(
          {
            region: Type.Optional(RegionQuery),
            status: Type.Optional(csvOf(WORKER_STATUSES, 'statuses')),
            role: Type.Optional(csvOf(WORKER_ROLES, 'roles')),
            bbox: Type.Optional(Type.String({ description: 'minLon,minLat,maxLon,maxLat (WGS84), on the live position' })),
            limit: Type.Integer({ minimum: 1, maximum: 20000, default: 500, description: 'page size, ordered by id' }),
            offset: Type.Integer({ minimum: 0, default: 0 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: WorkerListSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (req, reply) => {
      const user = staffReader(req)
      const q = req.query
      await requireRegion(app, q.region)
      const now = app.now()
      const page = await listWorkers(app.db, {
        within: user ?? undefined,
        regionId: q.region,
        statuses: split<WorkerStatus>(q.status),
        roles: split<WorkerRole>(q.role),
        bbox: parseBbox(q.bbox),
        limit: q.limit,
        offset: q.offset,
      })
      reply.header('cache-control', 'no-cache')
      return { now: now.toISOString(), ...page }
    },
  )

  app.get(
    '/api/workers/live',
    {
      schema: {
        querystring: Type.Object({ region: Type.Optional(RegionQuery) }, { additionalProperties: false }),
        response: { 200: LiveWorkerListSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (req, reply) => {
      // The wall's snapshot of who is where: the same reach as GET /api/workers, only what the map draws.
      const user = staffReader(req)
      await requireRegion(app, req.query.region)
      const now = app.now()
      const workers = await listLiveWorkers(app.db, { within: user ?? undefined, regionId: req.query.region })
      reply.header('cache-control', 'no-cache')
      return { now: now.toISOString(), workers }
    },
  )

  app.get(
    '/api/workers/nearest',
    {
      schema: {
        querystring: Type.Object(
          {
            lon: LonSchema,
            lat: LatSchema,
            crs: Type.Optional(CrsQuery),
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
            status: csvOf(WORKER_STATUSES, 'statuses (default on_duty: who can be sent)', { default: 'on_duty' }),
            role: Type.Optional(csvOf(WORKER_ROLES, 'roles')),
            maxAgeS: Type.Optional(Type.Integer({ minimum: 1, description: 'only workers whose live position is at most this old' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: NearestWorkersSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (req) => {
      const user = staffReader(req)
      const q = req.query
      const [lon, lat] = toWgs84(q.lon, q.lat, q.crs)
      const now = app.now()
      const workers = await nearestWorkers(app.db, {
        within: user ?? undefined,
        lon,
        lat,
        limit: q.limit,
        statuses: split<WorkerStatus>(q.status),
        roles: split<WorkerRole>(q.role),
        seenSince: q.maxAgeS === undefined ? undefined : new Date(now.getTime() - q.maxAgeS * 1000),
      })
      return { now: now.toISOString(), workers }
    },
  )

  app.get('/api/workers/:id', { schema: { params: IdParams, response: { 200: WorkerSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema } } }, async (req, reply) => {
    const worker = await getWorker(app.db, req.params.id, staffReader(req) ?? undefined)
    if (!worker) throw new HttpError(404, 'worker_not_found', `no worker ${req.params.id}`)
    reply.header('cache-control', 'no-cache')
    return worker
  })

  app.get(
    '/api/workers/:id/track',
    {
      schema: {
        params: IdParams,
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ format: 'date-time', description: 'inclusive; default: 24 h before `to`' })),
            to: Type.Optional(Type.String({ format: 'date-time', description: 'exclusive; default: now' })),
            format: Type.Unsafe<'line' | 'points'>({ type: 'string', enum: ['line', 'points'], default: 'line' }),
            limit: Type.Integer({ minimum: 1, maximum: 50000, default: 10000, description: 'at most this many fixes, oldest first' }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Union([TrackLineSchema, TrackPointsSchema]), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (req) => {
      const { id } = req.params
      const q = req.query
      const to = q.to ? new Date(q.to) : app.now()
      const from = q.from ? new Date(q.from) : new Date(to.getTime() - 24 * HOUR_MS)
      if (from >= to) throw new HttpError(400, 'invalid_request', 'querystring.from must be before querystring.to', 'from')
      if (!(await getWorker(app.db, id, staffReader(req) ?? undefined))) throw new HttpError(404, 'worker_not_found', `no worker ${id}`)
      const { points, truncated } = await workerTrack(app.db, id, from, to, q.limit)
      const window = { workerId: id, from: from.toISOString(), to: to.toISOString(), count: points.length, truncated }
      if (q.format === 'points') {
        return {
          type: 'FeatureCollection' as const,
          features: points.map((p) => ({
            type: 'Feature' as const,
            geometry: { type: 'Point' as const, coordinates: [p.lon, p.lat] as [number, number] },
            properties: { at: new Date(p.at).toISOString(), gridId: p.gridId, accuracyM: p.accuracyM, status: p.status },
          })),
          properties: window,
        }
      }
      return {
        type: 'Feature' as const,
        id,
        // RFC 7946: a LineString has two or more positions.
        geometry: points.length >= 2 ? { type: 'LineString' as const, coordinates: points.map((p) => [p.lon, p.lat] as [number, number]) } : null,
        properties: { ...window, times: points.map((p) => p.at), grids: points.map((p) => p.gridId) },
      }
    },
  )
}
