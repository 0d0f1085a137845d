import { Type } from 'typebox'
import type { AppInstance } from '../../app-types.ts'

export default async function healthRoutes(app: AppInstance) {
  app.get(
    '/api/health',
    {
      // Load balancers and monitors poll it: outside the general rate limit.
      config: { rateLimit: false },
      schema: {
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            db: Type.Union([Type.Literal('embedded'), Type.Literal('postgres')]),
            postgis: Type.String(),
          }),
        },
      },
    },
    async () => {
      const { rows } = await app.db.query<{ v: string }>('SELECT postgis_lib_version() AS v')
      return { status: 'ok' as const, db: app.db.mode, postgis: rows[0].v }
    },
  )
}
