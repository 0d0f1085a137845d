/**
 * The case filter of a statistics query (the wall's cross-filter: region, category, department), checked before
 * any figure is computed: 404 for a region outside the caller's scope, 400 naming the field for codes nobody defined.
 */
import { CATEGORY_DEFINITIONS, categoryInfo } from '../../../shared/domain/categories.ts'
import type { Queryable } from '../db/types.ts'
import { scopeCondition } from '../auth/guards.ts'
import type { AuthUser } from '../auth/roles.ts'
import { departmentExists, findRegion, type ScopeRegion } from '../repos/stats.ts'
import { HttpError } from './http-error.ts'

export type { ScopeRegion } from '../repos/stats.ts'

/**
 * The region by id (current or retired: old windows may need it), or a 404. With `within` (a signed-in caller) the
 * region must also lie in their scope subtree — checked in the query, so a region outside it answers the same 404
 * as one that does not exist; every figure is then computed under that region, i.e. inside the scope.
 */
export async function requireRegion(q: Queryable, id: string, within?: AuthUser): Promise<ScopeRegion> {
  const region = await findRegion(q, id, within ? scopeCondition(within, 'path') : undefined)
  if (!region) throw new HttpError(404, 'region_not_found', `no region ${id}`, 'region')
  return region
}

/** The codes a category filter matches: a family and its children, or one child. 400 for codes nobody defined. */
export function categoryCodes(code: string): string[] {
  const info = categoryInfo(code)
  if (!info) throw new HttpError(400, 'invalid_request', `querystring.category "${code}" is not a category (see GET /api/categories)`, 'category')
  return info.parent === null ? CATEGORY_DEFINITIONS.filter((c) => c.family === code).map((c) => c.code) : [code]
}

/** A department code that exists, or a 400 naming the field. */
export async function requireDepartment(q: Queryable, code: string): Promise<string> {
  if (!(await departmentExists(q, code))) {
    throw new HttpError(400, 'invalid_request', `querystring.department "${code}" is not a department (see GET /api/categories)`, 'department')
  }
  return code
}

/** The case filter of a statistics query (the wall's cross-filter), as asked. */
export interface CaseFilterRequest {
  regionId?: string
  /** The signed-in caller: `regionId` must lie in their scope (requireRegion). */
  within?: AuthUser
  category?: string
  department?: string
}

/** The case filter, checked: the region (404 outside the caller's scope), the category's codes, the department. */
export interface CaseFilter {
  region?: ScopeRegion
  category?: string
  codes?: string[]
  department?: string
}

export async function resolveFilter(q: Queryable, req: CaseFilterRequest): Promise<CaseFilter> {
  const codes = req.category !== undefined ? categoryCodes(req.category) : undefined
  const [region, department] = await Promise.all([
    req.regionId !== undefined ? requireRegion(q, req.regionId, req.within) : undefined,
    req.department !== undefined ? requireDepartment(q, req.department) : undefined,
  ])
  return { region, category: req.category, codes, department }
}
