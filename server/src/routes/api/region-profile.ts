import { Type } from 'typebox'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import { RegionProfileSchema } from '../../../../shared/schemas/region.ts'
import type { AppInstance } from '../../app-types.ts'
import { regionProfile } from '../../repos/region-profile.ts'
import { regionPerformance } from '../../services/region-performance.ts'
import { inScope } from '../../auth/guards.ts'

export default async function regionProfileRoutes(app: AppInstance) {
  app.get(
    '/api/regions/:id',
    {
      schema: {
        params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_]{1,64}$' }) }),
        response: { 200: RegionProfileSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const now = app.now()
      const profile = await regionProfile(app.db, req.params.id, now)
      if (!profile) return reply.code(404).send({ error: 'not_found', message: `no region ${req.params.id}` })
      // The grid card is public (boundaries, counts, who the chief is). Who serves here — the chief's phone number,
      // the members — and how the region performs are for staff whose scope holds the region (the reach of cases,
      // GET /api/stats and /api/workers); residents, anonymous callers and staff of other areas get the card only.
      // In AUTH_MODE=dev-header a caller without a token is the unscoped stand-in and sees it, as everywhere else.
      // The rank lists the siblings' scores (aggregates only).
      const path = profile.chain.map((r) => r.id).join('.')
      const reaches = req.user ? req.user.role !== 'resident' && inScope(req.user, path) : app.auth.options.mode === 'dev-header'
      if (!reaches) {
        const chief = profile.staff.chief && { ...profile.staff.chief, phone: null }
        return { ...profile, staff: { ...profile.staff, chief }, members: null, performance: null }
      }
      return { ...profile, performance: await regionPerformance(app.db, profile, now) }
    },
  )
}
