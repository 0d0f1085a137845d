/**
 * Region levels, numbered once for the whole product (see ../../README.md).
 * 1 district 区/县 → 2 street/town 街道/乡镇 → 3 community/village 社区/村 → 4 grid 网格 → 5 micro-grid 微网格.
 */
export const REGION_LEVELS = [1, 2, 3, 4, 5] as const
export type RegionLevel = (typeof REGION_LEVELS)[number]

export const LEVEL_KEYS: Record<RegionLevel, 'district' | 'street' | 'community' | 'grid' | 'microgrid'> = {
  1: 'district',
  2: 'street',
  3: 'community',
  4: 'grid',
  5: 'microgrid',
}

export const LEVEL_NAMES: Record<RegionLevel, { zh: string; en: string }> = {
  1: { zh: '区县', en: 'District' },
  2: { zh: '街道/乡镇', en: 'Street / town' },
  3: { zh: '社区/村', en: 'Community / village' },
  4: { zh: '网格', en: 'Grid' },
  5: { zh: '微网格', en: 'Micro-grid' },
}

/** The level a case must at least resolve to when reported: a point outside every grid is refused. */
export const CASE_MIN_LEVEL: RegionLevel = 4

export function isRegionLevel(n: unknown): n is RegionLevel {
  return typeof n === 'number' && (REGION_LEVELS as readonly number[]).includes(n)
}
