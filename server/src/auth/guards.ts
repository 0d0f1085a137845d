import type { FastifyRequest } from 'fastify'
import type { SqlCondition } from '../repos/sql.ts'
import { HttpError } from '../services/http-error.ts'
import { UNSCOPED_ROLES, type AuthUser, type Role } from './roles.ts'

/**
 * What routes call to ask who is calling and what they may reach. 401 responses get
 * `WWW-Authenticate: Bearer realm="gridcommand"` from the hook in auth/plugin.ts.
 */

/** The signed-in user, or 401 `unauthenticated`. */
export function requireUser(req: FastifyRequest): AuthUser {
  if (req.user) return req.user
  throw new HttpError(401, 'unauthenticated', 'sign in first: Authorization: Bearer <access token> (POST /api/auth/login)')
}

/** The signed-in user if their role is one of `roles`; 401 when nobody is signed in, 403 `forbidden` otherwise. */
export function requireRole(req: FastifyRequest, roles: readonly Role[]): AuthUser {
  const user = requireUser(req)
  if (!roles.includes(user.role)) {
    throw new HttpError(403, 'forbidden', `this needs one of the roles ${roles.join(', ')}; you are ${user.role}`)
  }
  return user
}

/** True when the user reaches everything (admin or commander without a scope region). */
export function seesEverything(user: AuthUser): boolean {
  return UNSCOPED_ROLES.includes(user.role) && user.scopeRegionId === null
}

/** An SQL condition and its parameters, numbered from the `firstParam` the caller passed. */
export interface SqlFragment {
  sql: string
  params: unknown[]
}

const COLUMN_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/

/**
 * Limits a query to the user's region subtree: `column <@ $n::ltree` with the scope's path, where `column` is an
 * ltree column (cases.region_path, cameras.region_path, regions.path, …) and n = `firstParam`.
 *   admin/commander without scope → `TRUE` (no params); scoped users → their subtree;
 *   a user without a scope path otherwise (residents; a scope region that no longer exists) → `FALSE`: nothing by
 *   region — residents reach their own cases through a separate condition (reporter = actorOf(user)).
 * `column` is an identifier (optionally `table.column`), never user input; anything else throws.
 */
export function scopeFilterSql(user: AuthUser, column: string, firstParam = 1): SqlFragment {
  if (!COLUMN_RE.test(column)) throw new Error(`scopeFilterSql: "${column}" is not a column name`)
  if (!Number.isInteger(firstParam) || firstParam < 1) throw new Error(`scopeFilterSql: firstParam must be a positive integer`)
  if (seesEverything(user)) return { sql: 'TRUE', params: [] }
  if (!user.scopePath) return { sql: 'FALSE', params: [] }
  return { sql: `${column} <@ $${firstParam}::ltree`, params: [user.scopePath] }
}

/** scopeFilterSql as a condition a repository writes into its own query, numbered by that query's builder. */
export function scopeCondition(user: AuthUser, column: string): SqlCondition {
  return (b) => {
    const f = scopeFilterSql(user, column, b.params.length + 1)
    b.params.push(...f.params)
    return f.sql
  }
}

/**
 * True when `path` (an ltree text, e.g. a case's region_path) lies inside the user's scope — for one row already
 * loaded, where scopeFilterSql is for queries. Same rules.
 */
export function inScope(user: AuthUser, path: string | null): boolean {
  if (seesEverything(user)) return true
  if (!user.scopePath || !path) return false
  return path === user.scopePath || path.startsWith(`${user.scopePath}.`)
}
