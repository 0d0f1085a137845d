import { describe, expect, it } from 'vitest'
import { CASE_STATUSES, FINAL_STATUSES, OPEN_STATUSES, STATUS_NAMES, isOpenStatus } from './case-status.ts'
import { CATEGORIES, CATEGORY_CODES, categoryInfo } from './categories.ts'
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
    expect(new Set(CATEGORY_CODES).size).toBe(CATEGORIES.length)
    for (const c of CATEGORIES) expect(c.color).toMatch(/^#[0-9a-f]{6}$/i)
    expect(categoryInfo('safety_hazard')?.zh).toBe('安全隐患')
    expect(categoryInfo('nope')).toBeUndefined()
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
