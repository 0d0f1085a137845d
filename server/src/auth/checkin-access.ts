import type { SqlBuilder } from '../repos/sql.ts'
import { scopeFilterSql } from './guards.ts'
import type { AuthUser, Role } from './roles.ts'

/**
 * Patrol check-ins (走访打卡) are where a named worker was, when: personal data of the staff, like positions.
 * - Written by the grid worker themselves (their own worker id) or an admin (the account of a gateway); nobody else
 *   records that somebody was somewhere.
 * - Read by staff (every role but resident) in their scope — the check-in's region in their subtree — and by the
 *   worker it belongs to; residents never (403). Its photos are readable exactly by whoever reads it
 *   (repos/photos.ts getReadablePhotoRow).
 */
export const CHECKIN_WRITERS: readonly Role[] = ['admin', 'grid_worker']

export const readsCheckins = (user: AuthUser): boolean => user.role !== 'resident'

/** SQL: "`user` may read the check-in aliased `alias`", its parameters added to `b`. */
export function checkinReachSql(user: AuthUser, b: SqlBuilder, alias = 'k'): string {
  if (!readsCheckins(user)) return 'FALSE'
  const f = scopeFilterSql(user, `${alias}.region_path`, b.params.length + 1)
  b.params.push(...f.params)
  return user.workerId ? `(${f.sql}) OR ${alias}.worker_id = ${b.add(user.workerId)}` : f.sql
}
