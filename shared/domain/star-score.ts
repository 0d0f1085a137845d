/**
 * 五星网格 — the star score of a region (issue #8), one formula for the server (profile, sibling rank) and the web
 * (the panel shows the parts). Inputs are the loop figures of the cases REPORTED in the last 30 days under the
 * region (server/src/services/stats.ts defines each one):
 *
 *   part                      value in [0, 1]                                    weight
 *   completion  办结率          closed / (reported − rejected − merged)             30
 *   onTime      按时办结率       handled in time / handled                           25
 *   satisfaction 满意度         (mean rating − 1) / 4                               25
 *   noBacklog   无超期积压       1 − overdueOpen / open   (1 when nothing is open)     10
 *   inGrid      小事不出格       closed at grid level / closed                       10
 *
 *   score = 100 × Σ(weight × value) / Σ(weight)   over the parts that have data (a rate whose denominator is 0 is
 *           left out and the remaining weights are re-normalised); null when no part has data (no cases reported).
 *   stars = 5 if score ≥ 90, 4 if ≥ 75, 3 if ≥ 60, 2 if ≥ 40, else 1; null when score is null.
 *
 * Rounded to one decimal. The rank among siblings orders by score (higher first), null scores last.
 */

export interface StarInputs {
  completionRate: number | null
  onTimeRate: number | null
  /** Mean rating 1–5, null when nothing was rated. */
  satisfactionMean: number | null
  overdueOpen: number
  open: number
  gridLevelShare: number | null
  /** Cases reported in the window: with none the noBacklog part has no data either. */
  reported: number
}

export const STAR_WEIGHTS = { completion: 30, onTime: 25, satisfaction: 25, noBacklog: 10, inGrid: 10 } as const
export type StarPart = keyof typeof STAR_WEIGHTS
export const STAR_THRESHOLDS: ReadonlyArray<readonly [stars: number, minScore: number]> = [
  [5, 90],
  [4, 75],
  [3, 60],
  [2, 40],
  [1, 0],
]

export interface StarScore {
  score: number | null
  stars: number | null
  /** Each part's value in [0, 1] (null: no data, left out). */
  parts: Record<StarPart, number | null>
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x))

export function starScore(f: StarInputs): StarScore {
  const parts: Record<StarPart, number | null> = {
    completion: f.completionRate === null ? null : clamp01(f.completionRate),
    onTime: f.onTimeRate === null ? null : clamp01(f.onTimeRate),
    satisfaction: f.satisfactionMean === null ? null : clamp01((f.satisfactionMean - 1) / 4),
    noBacklog: f.reported === 0 && f.open === 0 ? null : f.open === 0 ? 1 : clamp01(1 - f.overdueOpen / f.open),
    inGrid: f.gridLevelShare === null ? null : clamp01(f.gridLevelShare),
  }
  let sum = 0
  let weights = 0
  for (const k of Object.keys(STAR_WEIGHTS) as StarPart[]) {
    const v = parts[k]
    if (v === null) continue
    sum += STAR_WEIGHTS[k] * v
    weights += STAR_WEIGHTS[k]
  }
  if (weights === 0) return { score: null, stars: null, parts }
  const score = Math.round((1000 * sum) / weights) / 10
  const stars = STAR_THRESHOLDS.find(([, min]) => score >= min)![0]
  return { score, stars, parts }
}

/** 1-based rank of `score` among `all` (which includes it): higher first, null last; ties share a rank. */
export function rankOf(score: number | null, all: ReadonlyArray<number | null>): number {
  if (score === null) return all.filter((s) => s !== null).length + 1
  return all.filter((s) => s !== null && s > score).length + 1
}
