import { Type } from 'typebox'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import { RegionProfileSchema } from '../../../../shared/schemas/region.ts'
import type { GcApp } from '../../app.ts'
import { regionProfile } from '../../repos/region-profile.ts'

export default async function regionProfileRoutes(app: GcApp) {
  app.get(
    '/api/regions/:id',
    {
      schema: {
        params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_]{1,64}$' }) }),
        response: { 200: RegionProfileSchema, 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const profile = await regionProfile(app.db, req.params.id)
      if (!profile) return reply.code(404).send({ error: 'not_found', message: `no region ${req.params.id}` })
      return profile
    },
  )
}
