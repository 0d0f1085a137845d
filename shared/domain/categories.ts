/**
 * Case category families from the field reports. The case-lifecycle issue moves the full table (sub-categories,
 * departments, time limits, expected level) into the database; codes stay stable.
 */
export interface CategoryInfo {
  code: string
  zh: string
  en: string
  /** Map and chart colour (readable on the dark wall). */
  color: string
}

export const CATEGORIES = [
  { code: 'city_appearance', zh: '市容环境', en: 'City appearance', color: '#4fc3f7' },
  { code: 'sanitation', zh: '环境卫生', en: 'Sanitation', color: '#81c784' },
  { code: 'public_facilities', zh: '公共设施', en: 'Public facilities', color: '#ffb74d' },
  { code: 'safety_hazard', zh: '安全隐患', en: 'Safety hazard', color: '#ff5252' },
  { code: 'dispute', zh: '矛盾纠纷', en: 'Dispute', color: '#ba68c8' },
  { code: 'public_security', zh: '治安', en: 'Public security', color: '#f06292' },
  { code: 'traffic_parking', zh: '交通与停车', en: 'Traffic & parking', color: '#ffd54f' },
  { code: 'livelihood', zh: '民生诉求', en: 'Residents’ requests', color: '#4db6ac' },
  { code: 'flood_typhoon', zh: '防汛防台', en: 'Flood & typhoon', color: '#64b5f6' },
  { code: 'epidemic', zh: '疫情防控', en: 'Epidemic control', color: '#aed581' },
  { code: 'enterprise', zh: '企业服务', en: 'Enterprise services', color: '#90a4ae' },
] as const satisfies readonly CategoryInfo[]

export type CategoryCode = (typeof CATEGORIES)[number]['code']
export const CATEGORY_CODES = CATEGORIES.map((c) => c.code) as CategoryCode[]

const byCode = new Map<string, CategoryInfo>(CATEGORIES.map((c) => [c.code, c]))
export function categoryInfo(code: string): CategoryInfo | undefined {
  return byCode.get(code)
}
