import { Type } from 'typebox'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import type { AppInstance } from '../../app-types.ts'
import { requireRole } from '../../auth/guards.ts'
import { issueOpen311Key } from '../../repos/open311-keys.ts'

const IssueBody = Type.Object(
  { appName: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'the app the key is issued to' }) },
  { additionalProperties: false },
)
const IssuedSchema = Type.Object({
  apiKey: Type.String({ description: 'the key, shown this once: only its SHA-256 is stored' }),
  appName: Type.String(),
})

/**
 * POST /api/open311/keys — issues an Open311 api_key to an app (issue #6: POST /open311/v2/requests.json needs one).
 * Admins only; checked on request, before the body is validated: anonymous → 401 (also in AUTH_MODE=dev-header,
 * where a caller without a token has no user), other roles → 403.
 */
export default async function open311KeyRoutes(app: AppInstance) {
  app.addHook('onRequest', async (req) => {
    requireRole(req, ['admin'])
  })

  app.post(
    '/api/open311/keys',
    {
      schema: {
        body: IssueBody,
        response: { 201: IssuedSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (req, reply) => {
      const appName = req.body.appName.trim()
      const apiKey = await issueOpen311Key(app.db, appName, app.now())
      return reply.code(201).send({ apiKey, appName })
    },
  )
}
