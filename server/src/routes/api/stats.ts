import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import {
  HeatQuerySchema,
  HeatSchema,
  HourlyQuerySchema,
  HourlySchema,
  LoopQuerySchema,
  LoopStatsSchema,
  OverviewQuerySchema,
  OverviewSchema,
  RankingQuerySchema,
  RankingSchema,
} from '../../../../shared/schemas/stats.ts'
import type { AppInstance } from '../../app-types.ts'
import { heat, hourly, loopStats, overview, ranking } from '../../services/stats.ts'
import type { FastifyRequest } from 'fastify'
import { seesEverything } from '../../auth/guards.ts'
import type { AuthUser } from '../../auth/roles.ts'
import { HttpError } from '../../services/http-error.ts'
import { scopedCaller } from '../caller.ts'

/**
 * Who asks and for which region (issue #6). Statistics are case data: AUTH_MODE=token answers anonymous callers 401;
 * dev-header without a token is unscoped, as before identity. A signed-in caller:
 * - resident → 403 (their own cases are all they may see, and aggregates over others' are not theirs);
 * - `region` given: it must lie in their scope, else 404 `region_not_found` exactly like a region that does not
 *   exist (checked in the region's query, services/stats-filter.ts requireRegion);
 * - no `region`: clamped to their scope region (admin/commander without a scope: everything, as before). A scoped
 *   role without a scope region reaches nothing: 403.
 */
function statsScope(req: FastifyRequest, region: string | undefined): { regionId: string | undefined; within?: AuthUser } {
  const user = scopedCaller(req)
  if (!user) return { regionId: region }
  if (user.role === 'resident') throw new HttpError(403, 'forbidden', 'statistics are for staff; residents see their own cases under /api/cases')
  if (region !== undefined || seesEverything(user)) return { regionId: region, within: user }
  if (!user.scopeRegionId) throw new HttpError(403, 'forbidden', 'your account has no scope region: ask an administrator')
  return { regionId: user.scopeRegionId, within: user }
}

/**
 * Loop statistics (闭环统计): GET /api/stats/loop — 办结率, on-time rate, stage durations, satisfaction, 小事不出格
 * for the cases reported in a window under a region and category, optionally by category, child region or day;
 * GET /api/stats/overview — live KPIs for the wall. Definitions: server/src/services/stats.ts.
 */
export default async function statsRoutes(app: AppInstance) {
  // AUTH_MODE=token: anonymous → 401 before validation (this plugin's routes only).
  app.addHook('onRequest', async (req) => {
    scopedCaller(req)
  })
  const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema }

  app.get(
    '/api/stats/loop',
    { schema: { querystring: LoopQuerySchema, response: { 200: LoopStatsSchema, ...errors } } },
    async (req, reply) => {
      const q = req.query
      const { regionId, within } = statsScope(req, q.region)
      reply.header('cache-control', 'no-cache')
      return loopStats(app.db, { regionId, within, category: q.category, department: q.department, from: q.from, to: q.to, groupBy: q.groupBy }, app.now())
    },
  )

  app.get(
    '/api/stats/overview',
    { schema: { querystring: OverviewQuerySchema, response: { 200: OverviewSchema, ...errors } } },
    async (req, reply) => {
      const q = req.query
      const { regionId, within } = statsScope(req, q.region)
      reply.header('cache-control', 'no-cache')
      return overview(app.db, { regionId, within, category: q.category, department: q.department }, app.now())
    },
  )

  // The wall's panels, scoped exactly like the two above.

  app.get('/api/stats/hourly', { schema: { querystring: HourlyQuerySchema, response: { 200: HourlySchema, ...errors } } }, async (req, reply) => {
    const q = req.query
    const { regionId, within } = statsScope(req, q.region)
    reply.header('cache-control', 'no-cache')
    return hourly(app.db, { regionId, within, category: q.category, department: q.department }, app.now())
  })

  app.get('/api/stats/ranking', { schema: { querystring: RankingQuerySchema, response: { 200: RankingSchema, ...errors } } }, async (req, reply) => {
    const q = req.query
    const { regionId, within } = statsScope(req, q.region)
    reply.header('cache-control', 'no-cache')
    return ranking(app.db, { by: q.by, regionId, within, category: q.category, department: q.department, from: q.from, to: q.to }, app.now())
  })

  app.get('/api/stats/heat', { schema: { querystring: HeatQuerySchema, response: { 200: HeatSchema, ...errors } } }, async (req, reply) => {
    const q = req.query
    const { regionId, within } = statsScope(req, q.region)
    reply.header('cache-control', 'no-cache')
    return heat(app.db, { window: q.window, regionId, within, category: q.category, department: q.department, limit: q.limit }, app.now())
  })
}
