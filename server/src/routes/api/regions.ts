import { Type } from 'typebox'
import { ResolveResultSchema } from '../../../../shared/schemas/region.ts'
import { LatSchema, LonSchema } from '../../../../shared/schemas/geo.ts'
import type { GcApp } from '../../app.ts'
import { regionsGeoJson, resolvePoint } from '../../repos/regions.ts'

const ErrorSchema = Type.Object({ error: Type.String(), message: Type.Optional(Type.String()), field: Type.Optional(Type.String()) })

export default async function regionRoutes(app: GcApp) {
  app.get(
    '/api/regions',
    {
      schema: {
        querystring: Type.Object(
          {
            level: Type.Integer({ minimum: 1, maximum: 5, description: '1 district, 2 street, 3 community, 4 grid, 5 micro-grid' }),
            parentId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_]{1,64}$' })),
          },
          { additionalProperties: false },
        ),
        // Body is a GeoJSON FeatureCollection serialised by PostGIS and sent as it is.
        response: { 200: Type.Unsafe<unknown>({ type: 'string', description: 'GeoJSON FeatureCollection (RFC 7946)' }) },
      },
    },
    async (req, reply) => {
      const fc = await regionsGeoJson(app.db, req.query.level, req.query.parentId)
      return reply.type('application/geo+json; charset=utf-8').send(fc)
    },
  )

  app.get(
    '/api/regions/resolve',
    {
      schema: {
        querystring: Type.Object({ lon: LonSchema, lat: LatSchema }, { additionalProperties: false }),
        response: { 200: ResolveResultSchema, 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const { regions } = await resolvePoint(app.db, req.query.lon, req.query.lat)
      if (regions.length === 0) {
        return reply.code(404).send({ error: 'outside_coverage', message: 'no region contains this point' })
      }
      return { regions }
    },
  )
}

export { ErrorSchema }
