/**
 * The roles of GridCommand. One role per user; what each may do to which case is CASE_ACCESS (case-access.ts).
 * - admin: everything, users included.
 * - commander: reads everything, the wall.
 * - dispatcher: acts on the cases in their scope.
 * - leader: a street or community leader — their region subtree: reads, escalates, verifies, their wall.
 * - inspector (核查员): a street or community — verifies handled cases or sends them back, with notes and photos.
 * - grid_worker: their own grid — reports, accepts and handles their own cases, sends positions.
 * - resident: reports, sees and rates their own cases.
 */
import { ROLES, type Role } from '../../../shared/domain/roles.ts'

export { ROLES, type Role }

/** Roles whose null scope means "everything" (for every other role a missing scope means nothing). */
export const UNSCOPED_ROLES: readonly Role[] = ['admin', 'commander']

/** The signed-in caller, as the routes see it (req.user). */
export interface AuthUser {
  id: string
  username: string
  role: Role
  /** Region the user's reach is limited to; null: everything for admin/commander, nothing region-wide for residents. */
  scopeRegionId: string | null
  /** ltree text of the scope region's path (e.g. "330702.330702001"); null when scopeRegionId is. */
  scopePath: string | null
  /** The workers row of a grid worker (their identity in cases: assignee, handler). */
  workerId: string | null
  /** The sign-in session the token belongs to (logout revokes it). */
  sessionId: string
}

/** Who the user is in the case timeline and as assignee/reporter: the worker id of a grid worker, else the username. */
export function actorOf(user: Pick<AuthUser, 'username' | 'workerId'>): string {
  return user.workerId ?? user.username
}
