import { scopedCaller } from '../caller.ts'
import { HttpError } from '../../services/http-error.ts'
import type { FastifyError } from 'fastify'
import { Type } from 'typebox'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import type { AppInstance } from '../../app-types.ts'
import { importRegions, ImportInvalidError, type ImportSource } from '../../services/region-import.ts'
import { DEFAULT_TOLERANCE_M2, MAX_IMPORT_BYTES } from '../../services/region-import-types.ts'

export const ImportProblemSchema = Type.Object({
  featureId: Type.Union([Type.String(), Type.Null()], { description: "the feature's id (a gap: the parent's); null for the whole file" }),
  index: Type.Optional(Type.Integer({ description: '0-based position of the feature in the file' })),
  field: Type.Optional(Type.String()),
  code: Type.String({ description: 'machine-readable: missing_field, invalid_geometry, overlap, gap, … (region-import-types.ts)' }),
  reason: Type.String(),
  location: Type.Optional(Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: '[lon, lat] of the problem' })),
  areaM2: Type.Optional(Type.Number()),
  otherId: Type.Optional(Type.String({ description: 'the other region involved (sibling, parent, child)' })),
})

const ImportReportSchema = Type.Object({
  dryRun: Type.Boolean(),
  valid: Type.Literal(true),
  created: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  repathed: Type.Integer({ description: 'regions not in the file whose path changed because an ancestor moved' }),
})

const ImportInvalidSchema = Type.Object({
  error: Type.Literal('import_invalid'),
  message: Type.String(),
  problems: Type.Array(ImportProblemSchema),
})

const ZIP_TYPES = ['application/zip', 'application/x-zip-compressed']
const MIB = MAX_IMPORT_BYTES / 1024 / 1024

/**
 * POST /api/regions/import — a GeoJSON FeatureCollection (application/json or application/geo+json) or a zipped
 * Shapefile sent as the raw body (application/zip). The file's content is checked by the import itself, which
 * reports every problem at once (422), so the body schema accepts any document.
 */
export default async function regionImportRoutes(app: AppInstance) {
  app.addContentTypeParser('application/geo+json', { parseAs: 'string', bodyLimit: MAX_IMPORT_BYTES }, app.getDefaultJsonParser('error', 'error'))
  app.addContentTypeParser(ZIP_TYPES, { parseAs: 'buffer', bodyLimit: MAX_IMPORT_BYTES }, (_req, body, done) => done(null, body))

  // Encapsulated to this plugin: clear bodies for the transport errors of a file upload; the rest goes on to the
  // app's error handler (an error thrown here is handed to the parent handler).
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: 'payload_too_large', message: `the body is larger than ${MIB} MiB: split the import` })
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send({ error: 'unsupported_media_type', message: `send application/json, application/geo+json or ${ZIP_TYPES.join(' / ')}` })
    }
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return reply.code(400).send({ error: 'invalid_json', message: err.message })
    }
    throw err
  })

  // Region boundaries decide everybody's scope: only an admin replaces them (issue #6). Checked on request, before
  // up to 64 MiB of body is read. AUTH_MODE=token: anonymous → 401; dev-header without a token: as before identity.
  app.addHook('onRequest', async (req) => {
    const user = scopedCaller(req)
    if (user && user.role !== 'admin') throw new HttpError(403, 'forbidden', 'region imports are for admins')
  })

  app.post(
    '/api/regions/import',
    {
      bodyLimit: MAX_IMPORT_BYTES,
      schema: {
        querystring: Type.Object(
          {
            dryRun: Type.Boolean({ default: false, description: 'validate and report; write nothing' }),
            repair: Type.Boolean({ default: false, description: 'ST_MakeValid invalid polygons when the area is kept' }),
            toleranceM2: Type.Number({ minimum: 0, maximum: 1_000_000, default: DEFAULT_TOLERANCE_M2, description: 'area tolerance of the topology checks, m²' }),
          },
          { additionalProperties: false },
        ),
        body: Type.Unknown({ description: `GeoJSON FeatureCollection, or a zipped Shapefile (.shp/.dbf/.prj) as application/zip; at most ${MIB} MiB` }),
        response: { 200: ImportReportSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 413: ErrorSchema, 415: ErrorSchema, 422: ImportInvalidSchema },
      },
    },
    async (req, reply) => {
      const isZip = ZIP_TYPES.includes((req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase())
      const source: ImportSource = isZip ? { kind: 'zip', data: req.body as Buffer } : { kind: 'geojson', data: req.body }
      try {
        return await importRegions(app.db, source, req.query)
      } catch (err) {
        if (err instanceof ImportInvalidError) {
          return reply.code(422).send({ error: 'import_invalid', message: err.message, problems: err.problems })
        }
        throw err
      }
    },
  )
}
