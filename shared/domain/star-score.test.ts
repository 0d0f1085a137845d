import { describe, expect, it } from 'vitest'
import { rankOf, starScore } from './star-score.ts'

const base = { completionRate: 1, onTimeRate: 1, satisfactionMean: 5, overdueOpen: 0, open: 0, gridLevelShare: 1, reported: 10 }

describe('starScore (五星网格)', () => {
  it('gives a perfect region 100 and five stars', () => {
    expect(starScore(base)).toMatchObject({ score: 100, stars: 5 })
  })

  it('weights the parts 30/25/25/10/10', () => {
    // completion 0.5 → loses 15 of 100
    expect(starScore({ ...base, completionRate: 0.5 }).score).toBe(85)
    expect(starScore({ ...base, completionRate: 0.5 }).stars).toBe(4)
    // satisfaction mean 3 → (3-1)/4 = 0.5 → loses 12.5
    expect(starScore({ ...base, satisfactionMean: 3 }).score).toBe(87.5)
    // half of the open cases overdue → noBacklog 0.5 → loses 5
    expect(starScore({ ...base, open: 4, overdueOpen: 2 }).score).toBe(95)
  })

  it('leaves out parts without data and re-normalises the rest', () => {
    const s = starScore({ ...base, satisfactionMean: null, onTimeRate: null, completionRate: 0.5 })
    // (30×0.5 + 10 + 10) / 50 = 0.7
    expect(s).toMatchObject({ score: 70, stars: 3, parts: { satisfaction: null, onTime: null } })
  })

  it('has no score without any case', () => {
    expect(starScore({ completionRate: null, onTimeRate: null, satisfactionMean: null, overdueOpen: 0, open: 0, gridLevelShare: null, reported: 0 })).toMatchObject({ score: null, stars: null })
  })

  it('maps scores to stars at 90/75/60/40', () => {
    const at = (c: number) => starScore({ ...base, onTimeRate: null, satisfactionMean: null, gridLevelShare: null, completionRate: c, open: 0, reported: 1 })
    // (30c + 10) / 40
    expect([at(0).score, at(0).stars]).toEqual([25, 1])
    expect([at(0.2).score, at(0.2).stars]).toEqual([40, 2])
    expect([at(0.46).score, at(0.46).stars]).toEqual([59.5, 2])
    expect([at(2 / 3).score, at(2 / 3).stars]).toEqual([75, 4])
    expect([at(0.87).score, at(0.87).stars]).toEqual([90.3, 5])
  })
})

describe('rankOf', () => {
  it('ranks higher first, ties share, null last', () => {
    expect(rankOf(90, [80, 90, null, 95])).toBe(2)
    expect(rankOf(80, [80, 80, 70])).toBe(1)
    expect(rankOf(null, [80, null, 70])).toBe(3)
  })
})
