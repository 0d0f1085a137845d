import { Type } from 'typebox'
import { INPUT_CRS, toWgs84, type InputCrs } from '../../../../shared/geo/crs.ts'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import { LatSchema, LonSchema } from '../../../../shared/schemas/geo.ts'
import { RegionRefSchema, ResolveResultSchema } from '../../../../shared/schemas/region.ts'
import type { AppInstance } from '../../app-types.ts'
import { regionResolver } from '../../repos/resolve/resolver.ts'
import { resolvePoints, resolvePointsJson } from '../../repos/resolve/sql-fallback.ts'

/** Most points one batch may carry: one query, answered in well under a second. */
export const MAX_BATCH_POINTS = 10_000

const CrsSchema = Type.Unsafe<InputCrs>({
  type: 'string',
  enum: INPUT_CRS,
  default: 'wgs84',
  description: 'CRS of the input coordinates; gcj02 (Chinese map apps) is converted to WGS84',
})
const AsOfSchema = Type.String({ format: 'date-time', description: 'resolve against the boundaries valid at this time' })

export default async function resolveRoutes(app: AppInstance) {
  // Current boundaries: through this process's cell index (repos/resolve.ts), built in the background from the
  // start; until it is ready, and whenever the regions have changed since it was built, by SQL alone.
  const resolver = regionResolver(app.db)
  resolver.onError ??= (err) => app.log.error({ err }, 'resolve: building the cell index failed; resolving by SQL alone')
  app.addHook('onReady', async () => resolver.warm())

  app.get(
    '/api/regions/resolve',
    {
      schema: {
        querystring: Type.Object(
          { lon: LonSchema, lat: LatSchema, crs: Type.Optional(CrsSchema), asOf: Type.Optional(AsOfSchema) },
          { additionalProperties: false },
        ),
        response: { 200: ResolveResultSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const { lon, lat, crs, asOf } = req.query
      const [x, y] = toWgs84(lon, lat, crs)
      const regions = asOf ? (await resolvePoints(app.db, [[x, y]], new Date(asOf)))[0].regions : await resolver.resolveOne(x, y)
      if (!regions?.length) {
        return reply.code(404).send({ error: 'outside_coverage', message: 'no region contains this point' })
      }
      return { regions }
    },
  )

  app.post(
    '/api/regions/resolve',
    {
      bodyLimit: 1024 * 1024,
      schema: {
        body: Type.Object(
          {
            points: Type.Array(Type.Tuple([LonSchema, LatSchema]), { minItems: 1, maxItems: MAX_BATCH_POINTS, description: '[lon, lat] pairs' }),
            crs: Type.Optional(CrsSchema),
            asOf: Type.Optional(AsOfSchema),
          },
          { additionalProperties: false },
        ),
        response: {
          // The body is built by PostgreSQL and sent as it is: typed as text here, documented with its shape.
          200: Type.Unsafe<string>(
            Type.Object({
              /** In input order: the chain district → finest region, or null outside every region. */
              results: Type.Array(Type.Union([Type.Array(RegionRefSchema), Type.Null()])),
            }),
          ),
          400: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const { points, crs, asOf } = req.body
      const wgs = crs && crs !== 'wgs84' ? points.map(([lon, lat]) => toWgs84(lon, lat, crs)) : points
      // The array comes as JSON text (chains pre-serialised in the index, or built by PostgreSQL), sent as it is.
      const results = asOf ? await resolvePointsJson(app.db, wgs, new Date(asOf)) : await resolver.resolveJson(wgs)
      return reply.type('application/json; charset=utf-8').send(`{"results":${results}}`)
    },
  )
}
