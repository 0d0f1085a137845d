import { rankOf, starScore } from '../../../shared/domain/star-score.ts'
import type { RegionPerformance, RegionProfile } from '../../../shared/schemas/region.ts'
import type { LoopFigures } from '../../../shared/schemas/stats.ts'
import type { Queryable } from '../db/types.ts'
import { loopStats } from './stats.ts'

const scoreOf = (f: LoopFigures) =>
  starScore({
    completionRate: f.completionRate,
    onTimeRate: f.onTimeRate,
    satisfactionMean: f.satisfaction.mean,
    overdueOpen: f.overdueOpen,
    open: f.open,
    gridLevelShare: f.gridLevelShare,
    reported: f.reported,
  })

/**
 * The last 30 days of a region (the default window of services/stats.ts loopStats, whose definitions
 * apply) — daily trend, category mix, completion, on-time, satisfaction — its star score (shared/domain/star-score.ts)
 * and its rank among its siblings. Three aggregate queries: the region by day, the region by category, the parent by
 * child region (the siblings' figures in one pass).
 */
export async function regionPerformance(q: Queryable, profile: Pick<RegionProfile, 'id' | 'parentId'>, now: Date): Promise<RegionPerformance> {
  const [byDay, byCategory, siblings] = await Promise.all([
    loopStats(q, { regionId: profile.id, groupBy: 'day' }, now),
    loopStats(q, { regionId: profile.id, groupBy: 'category' }, now),
    loopStats(q, { regionId: profile.parentId ?? undefined, groupBy: 'child_region' }, now),
  ])
  const own = scoreOf(byDay)
  const ranked = (siblings.groups ?? []).map((g) => ({ id: g.key, name: g.name, ...scoreOf(g) }))
  if (!ranked.some((s) => s.id === profile.id)) ranked.push({ id: profile.id, name: null, ...own })
  const scores = ranked.map((s) => s.score)
  return {
    from: byDay.from,
    to: byDay.to,
    reported: byDay.reported,
    closed: byDay.closed,
    open: byDay.open,
    overdueOpen: byDay.overdueOpen,
    completionRate: byDay.completionRate,
    onTimeRate: byDay.onTimeRate,
    gridLevelShare: byDay.gridLevelShare,
    satisfaction: { mean: byDay.satisfaction.mean, rated: byDay.satisfaction.rated },
    trend: (byDay.groups ?? []).map((g) => ({ day: g.key, reported: g.reported, closed: g.closed })),
    categoryMix: (byCategory.groups ?? [])
      .filter((g) => g.reported > 0)
      .sort((a, b) => b.reported - a.reported || a.key.localeCompare(b.key))
      .map((g) => ({ category: g.key, name: g.name, reported: g.reported, open: g.open })),
    score: own.score,
    stars: own.stars,
    scoreParts: own.parts,
    rank: {
      position: rankOf(own.score, scores),
      of: ranked.length,
      siblings: ranked
        .map((s) => ({ id: s.id, name: s.name, score: s.score, stars: s.stars }))
        .sort((a, b) => (b.score ?? -1) - (a.score ?? -1) || a.id.localeCompare(b.id)),
    },
  }
}
