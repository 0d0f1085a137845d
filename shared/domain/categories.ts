/**
 * Case categories: the families from the field reports and their sub-categories, read from
 * data/reference/categories.json — the same file the server loads into the `categories` table at start (departments,
 * priorities, time limits and expected levels live there). Codes are stable: a family code (`safety_hazard`) or
 * family.child (`safety_hazard.elevator`).
 */
import reference from '../../data/reference/categories.json' with { type: 'json' }
import type { TimeLimit } from './calendar.ts'
import type { Priority } from './case-lifecycle.ts'

export interface CategoryInfo {
  code: string
  zh: string
  en: string
  /** Map and chart colour (readable on the dark wall); a child has its family's. */
  color: string
}

/** One row of the reference file with its family's defaults filled in. */
export interface CategoryDefinition extends CategoryInfo {
  family: string
  parent: string | null
  department: string
  priority: Priority
  clock: 'working' | '24x7'
  expectedLevel: 1 | 2 | 3 | 4
  limits: Record<Priority, TimeLimit>
}

interface RawCategory {
  code: string
  zh: string
  en: string
  color?: string
  department?: string
  priority?: string
  clock?: string
  expectedLevel?: number
  limits?: Record<string, TimeLimit>
  children?: RawCategory[]
}

export interface DepartmentDefinition {
  code: string
  zh: string
  en: string
  phone?: string
}

export const DEPARTMENTS: readonly DepartmentDefinition[] = reference.departments

function flatten(families: RawCategory[]): CategoryDefinition[] {
  const out: CategoryDefinition[] = []
  for (const f of families) {
    const family = { ...f, family: f.code, parent: null } as unknown as CategoryDefinition
    out.push(pick(family, f))
    for (const child of f.children ?? []) out.push(pick(family, child, f.code))
  }
  return out
}

function pick(family: CategoryDefinition, raw: RawCategory, parent: string | null = null): CategoryDefinition {
  return {
    code: raw.code,
    zh: raw.zh,
    en: raw.en,
    color: raw.color ?? family.color,
    family: family.code,
    parent,
    department: raw.department ?? family.department,
    priority: (raw.priority ?? family.priority) as Priority,
    clock: (raw.clock ?? family.clock) as 'working' | '24x7',
    expectedLevel: (raw.expectedLevel ?? family.expectedLevel) as 1 | 2 | 3 | 4,
    limits: { ...family.limits, ...(raw.limits ?? {}) } as Record<Priority, TimeLimit>,
  }
}

/** Every category, families first within each family block, in file order. */
export const CATEGORY_DEFINITIONS: readonly CategoryDefinition[] = flatten(reference.categories as RawCategory[])

/** The families only (legend, charts). */
export const CATEGORIES: readonly CategoryInfo[] = CATEGORY_DEFINITIONS.filter((c) => c.parent === null)
export const CATEGORY_CODES: string[] = CATEGORY_DEFINITIONS.map((c) => c.code)
export const FAMILY_CODES: string[] = CATEGORIES.map((c) => c.code)

const byCode = new Map<string, CategoryDefinition>(CATEGORY_DEFINITIONS.map((c) => [c.code, c]))

/** The category (family or child) by code; undefined for codes nobody defined. */
export function categoryInfo(code: string): CategoryDefinition | undefined {
  return byCode.get(code)
}

/** `safety_hazard.elevator` → `safety_hazard`. */
export function categoryFamily(code: string): string {
  const dot = code.indexOf('.')
  return dot < 0 ? code : code.slice(0, dot)
}
