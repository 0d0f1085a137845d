import { Type } from 'typebox'
import type { AppInstance } from '../../app-types.ts'
import { regionsGeoJson } from '../../repos/regions.ts'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'

export default async function regionRoutes(app: AppInstance) {
  app.get(
    '/api/regions',
    {
      schema: {
        querystring: Type.Object(
          {
            level: Type.Integer({ minimum: 1, maximum: 5, description: '1 district, 2 street, 3 community, 4 grid, 5 micro-grid' }),
            parentId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_]{1,64}$' })),
            asOf: Type.Optional(Type.String({ format: 'date-time', description: 'ISO date-time: the boundaries in force then (动态调整)' })),
          },
          { additionalProperties: false },
        ),
        // Body is a GeoJSON FeatureCollection serialised by PostGIS and sent as it is (text: never re-serialised).
        response: {
          200: {
            description: 'GeoJSON FeatureCollection (RFC 7946), properties id, name, level, parentId',
            content: { 'application/geo+json': { schema: Type.Unsafe<unknown>({ type: 'object' }) } },
          },
          400: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const fc = await regionsGeoJson(app.db, req.query.level, req.query.parentId, req.query.asOf)
      return reply.type('application/geo+json; charset=utf-8').send(fc)
    },
  )
}
