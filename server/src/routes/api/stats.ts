import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import { LoopQuerySchema, LoopStatsSchema, OverviewQuerySchema, OverviewSchema } from '../../../../shared/schemas/stats.ts'
import type { GcApp } from '../../app.ts'
import { loopStats, overview } from '../../services/stats.ts'

/**
 * Loop statistics (闭环统计): GET /api/stats/loop — 办结率, on-time rate, stage durations, satisfaction, 小事不出格
 * for the cases reported in a window under a region and category, optionally by category, child region or day;
 * GET /api/stats/overview — live KPIs for the wall. Definitions: server/src/services/stats.ts.
 */
export default async function statsRoutes(app: GcApp) {
  app.get(
    '/api/stats/loop',
    { schema: { querystring: LoopQuerySchema, response: { 200: LoopStatsSchema, 400: ErrorSchema, 404: ErrorSchema } } },
    async (req, reply) => {
      const q = req.query
      reply.header('cache-control', 'no-cache')
      return loopStats(app.db, { regionId: q.region, category: q.category, from: q.from, to: q.to, groupBy: q.groupBy }, app.now())
    },
  )

  app.get(
    '/api/stats/overview',
    { schema: { querystring: OverviewQuerySchema, response: { 200: OverviewSchema, 400: ErrorSchema, 404: ErrorSchema } } },
    async (req, reply) => {
      reply.header('cache-control', 'no-cache')
      return overview(app.db, req.query.region, app.now())
    },
  )
}
