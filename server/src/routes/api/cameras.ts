import { Type } from 'typebox'
import {
  CAMERA_KINDS,
  CAMERA_STATUSES,
  CameraListSchema,
  CameraStatusChangedSchema,
  CameraStatusChangeSchema,
  type CameraStatus,
} from '../../../../shared/schemas/camera.ts'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import type { AppInstance } from '../../app-types.ts'
import { cameraReachable, listCameras, regionExists } from '../../repos/workers.ts'
import { HttpError } from '../../services/http-error.ts'
import { setCameraStatus } from '../../services/workers.ts'
import { callerOf, scopedCaller } from '../caller.ts'
import { parseBbox } from '../ogc/request.ts'

const csvOf = (values: readonly string[], what: string) =>
  Type.String({ pattern: `^(${values.join('|')})(,(${values.join('|')}))*$`, description: `${what}: one or more of ${values.join(', ')}, comma-separated` })
const split = <T extends string>(s: string | undefined): T[] | undefined => (s ? ([...new Set(s.split(','))] as T[]) : undefined)

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false })

/** Cameras: the list (by region at any level, status, kind, bbox) and their online/offline status, pushed live. */
/**
 * Issue #6: AUTH_MODE=token answers anonymous callers 401 (the hook); dev-header without a token is unscoped, as
 * before. Signed in: the list is limited in SQL to the cameras in the caller's scope (residents → 403: stream URLs
 * are for staff); a status change is for admins and dispatchers, on a camera in their scope (else 404 like a
 * missing one).
 */
export default async function cameraRoutes(app: AppInstance) {
  app.addHook('onRequest', async (req) => {
    scopedCaller(req)
  })

  app.get(
    '/api/cameras',
    {
      schema: {
        querystring: Type.Object(
          {
            region: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'a region id at any level' })),
            status: Type.Optional(csvOf(CAMERA_STATUSES, 'statuses')),
            kind: Type.Optional(csvOf(CAMERA_KINDS, 'kinds')),
            bbox: Type.Optional(Type.String({ description: 'minLon,minLat,maxLon,maxLat (WGS84)' })),
            limit: Type.Integer({ minimum: 1, maximum: 20000, default: 2000, description: 'page size, ordered by id' }),
            offset: Type.Integer({ minimum: 0, default: 0 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: CameraListSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (req, reply) => {
      const user = scopedCaller(req)
      if (user?.role === 'resident') throw new HttpError(403, 'forbidden', 'cameras are for staff')
      const q = req.query
      if (q.region !== undefined && !(await regionExists(app.db, q.region))) {
        throw new HttpError(400, 'invalid_request', `querystring.region "${q.region}" is not a region`, 'region')
      }
      reply.header('cache-control', 'no-cache')
      return listCameras(app.db, {
        within: user ?? undefined,
        regionId: q.region,
        statuses: split<CameraStatus>(q.status),
        kinds: split(q.kind),
        bbox: parseBbox(q.bbox),
        limit: q.limit,
        offset: q.offset,
      })
    },
  )

  app.post(
    '/api/cameras/:id/status',
    {
      schema: {
        params: IdParams,
        body: CameraStatusChangeSchema,
        headers: Type.Object({ 'x-actor': Type.Optional(Type.String()) }),
        response: { 200: CameraStatusChangedSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (req) => {
      const user = scopedCaller(req)
      if (user) {
        if (user.role !== 'admin' && user.role !== 'dispatcher') throw new HttpError(403, 'forbidden', 'a camera status is set by a dispatcher or an admin')
        if (!(await cameraReachable(app.db, req.params.id, user))) throw new HttpError(404, 'camera_not_found', `no camera ${req.params.id}`)
      }
      return setCameraStatus(app.db, req.params.id, req.body.status, { by: callerOf(req) })
    },
  )
}
