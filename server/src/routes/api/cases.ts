import { Type } from 'typebox'
import { OPEN_STATUSES, CASE_STATUSES, type CaseStatus } from '../../../../shared/domain/case-status.ts'
import { CaseCreateSchema, CaseListSchema, CaseSchema } from '../../../../shared/schemas/case.ts'
import type { GcApp } from '../../app.ts'
import { listCasesByStatus } from '../../repos/cases.ts'
import { reportCase } from '../../services/cases.ts'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'

const StatusFilter = Type.Unsafe<'open' | CaseStatus>({
  type: 'string',
  enum: ['open', ...CASE_STATUSES],
  description: '"open" (every status somebody still has to act on) or one status',
})

export default async function caseRoutes(app: GcApp) {
  app.post(
    '/api/cases',
    { schema: { body: CaseCreateSchema, response: { 201: CaseSchema, 400: ErrorSchema, 422: ErrorSchema } } },
    async (req, reply) => {
      const created = await reportCase(app.db, req.body, { source: 'api' })
      return reply.code(201).send(created)
    },
  )

  app.get(
    '/api/cases',
    {
      schema: {
        querystring: Type.Object(
          {
            status: Type.Optional(StatusFilter),
            limit: Type.Integer({ minimum: 1, maximum: 20000, default: 5000, description: 'newest first; at most this many' }),
          },
          { additionalProperties: false },
        ),
        response: { 200: CaseListSchema },
      },
    },
    async (req) => {
      const { status = 'open', limit } = req.query
      const statuses: readonly CaseStatus[] = status === 'open' ? OPEN_STATUSES : [status]
      return { cases: await listCasesByStatus(app.db, statuses, limit) }
    },
  )
}
