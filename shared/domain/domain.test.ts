import { describe, expect, it } from 'vitest'
import { CASE_STATUSES, FINAL_STATUSES, OPEN_STATUSES, STATUS_NAMES, isOpenStatus } from './case-status.ts'
import { CATEGORIES, CATEGORY_CODES, CATEGORY_DEFINITIONS, DEPARTMENTS, categoryFamily, categoryInfo } from './categories.ts'
import { PRIORITIES, TRANSITIONS, CASE_ACTIONS, allowedActions } from './case-lifecycle.ts'
import { LEVEL_KEYS, LEVEL_NAMES, REGION_LEVELS, isRegionLevel } from './levels.ts'
import { WALL_ROOM, regionRoom } from '../protocol/rooms.ts'

describe('case statuses', () => {
  it('splits every status into open or final, never both', () => {
    for (const s of CASE_STATUSES) expect(OPEN_STATUSES.includes(s)).toBe(!FINAL_STATUSES.includes(s))
    expect(isOpenStatus('reported')).toBe(true)
    expect(isOpenStatus('in_progress')).toBe(true)
    expect(isOpenStatus('closed')).toBe(false)
    expect(isOpenStatus('rated')).toBe(false)
  })
  it('names every status in Chinese and English', () => {
    for (const s of CASE_STATUSES) {
      expect(STATUS_NAMES[s].zh).toMatch(/\p{Script=Han}/u)
      expect(STATUS_NAMES[s].en.length).toBeGreaterThan(2)
    }
  })
})

describe('categories', () => {
  it('has unique codes and a colour for each', () => {
    expect(new Set(CATEGORY_CODES).size).toBe(CATEGORY_DEFINITIONS.length)
    for (const c of CATEGORY_DEFINITIONS) expect(c.color).toMatch(/^#[0-9a-f]{6}$/i)
    expect(categoryInfo('safety_hazard')?.zh).toBe('安全隐患')
    expect(categoryInfo('nope')).toBeUndefined()
  })
  it('covers the field reports’ families, each with a department, limits for every priority and a level', () => {
    expect(CATEGORIES.map((c) => c.code)).toEqual([
      'city_appearance', 'sanitation', 'public_facilities', 'safety_hazard', 'dispute', 'public_security',
      'traffic_parking', 'livelihood', 'flood_typhoon', 'epidemic', 'enterprise',
    ])
    const departments = new Set(DEPARTMENTS.map((d) => d.code))
    for (const c of CATEGORY_DEFINITIONS) {
      expect(departments.has(c.department), `${c.code} → ${c.department}`).toBe(true)
      for (const p of PRIORITIES) expect(c.limits[p].amount, `${c.code} ${p}`).toBeGreaterThan(0)
      expect([1, 2, 3, 4]).toContain(c.expectedLevel)
      expect(categoryFamily(c.code)).toBe(c.family)
    }
    // Children inherit what they do not set, and override what they do.
    expect(categoryInfo('safety_hazard.elevator')).toMatchObject({ family: 'safety_hazard', clock: '24x7', priority: 'urgent', department: 'market_regulation' })
    expect(categoryInfo('safety_hazard.elevator')!.limits.urgent).toEqual({ amount: 0.5, unit: 'hours' })
    expect(categoryInfo('safety_hazard.fire')!.limits.urgent).toEqual({ amount: 1, unit: 'hours' })
    for (const sub of ['public_facilities.street_light', 'public_facilities.water_drainage', 'public_facilities.road', 'safety_hazard.fire', 'safety_hazard.gas', 'safety_hazard.hazmat', 'safety_hazard.dangerous_building', 'livelihood.errand']) {
      expect(categoryInfo(sub), sub).toBeDefined()
    }
  })
})

describe('case lifecycle table', () => {
  it('allows note in every status and nothing else after rejection or merge', () => {
    expect(allowedActions('rejected')).toEqual(['note'])
    expect(allowedActions('merged')).toEqual(['note'])
    expect(allowedActions('reported')).toEqual(['register', 'reject', 'escalate', 'merge', 'note'])
    expect(allowedActions('handled')).toEqual(['verify', 'send_back', 'note'])
  })
  it('names every action in Chinese and English', () => {
    for (const a of CASE_ACTIONS) {
      expect(TRANSITIONS[a].zh).toMatch(/\p{Script=Han}/u)
      expect(TRANSITIONS[a].en.length).toBeGreaterThan(2)
    }
  })
})

describe('region levels', () => {
  it('numbers the five levels 1 district … 5 micro-grid', () => {
    expect(REGION_LEVELS).toEqual([1, 2, 3, 4, 5])
    expect(LEVEL_KEYS[1]).toBe('district')
    expect(LEVEL_KEYS[5]).toBe('microgrid')
    expect(LEVEL_NAMES[4].zh).toBe('网格')
    expect(isRegionLevel(3)).toBe(true)
    expect(isRegionLevel(0)).toBe(false)
    expect(isRegionLevel('1')).toBe(false)
  })
})

describe('rooms', () => {
  it('spells room names in one place', () => {
    expect(WALL_ROOM).toBe('wall')
    expect(regionRoom('330703')).toBe('region:330703')
  })
})
