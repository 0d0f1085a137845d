import { CASE_ACTIONS, type CaseAction } from '../../../shared/domain/case-lifecycle.ts'
import type { CaseRow } from '../repos/cases.ts'
import type { SqlBuilder, SqlCondition } from '../repos/sql.ts'
import { inScope, scopeFilterSql } from './guards.ts'
import { actorOf, ROLES, type AuthUser, type Role } from './roles.ts'

/**
 * Who may do what to which case (issue #6): the ONE table the case routes, the detail's allowedActions and the
 * access-matrix test (server/test/auth/case-access.test.ts) all read.
 *
 * A rule is a list of ways a signed-in user may reach a case; any one of them is enough:
 * - `scope`: the case's region_path lies in the user's scope subtree (admin/commander without a scope: every case);
 * - `assigned`: the case is assigned to the user's worker (assignee_id = workerId; grid workers only have one);
 * - `reported`: the user reported it (reporter = actorOf(user));
 * - `followed`: the user added themselves to it ("me too", POST /api/cases/:id/supplements: case_followers). Only a
 *   read rule takes it — wherever `reported` lets a role read, so does following — never an action: rating and
 *   asking for a reopen stay the reporter's.
 * A role with no rule for an operation may not do it at all.
 *
 * What a caller may READ decides existence: a case they cannot read answers 404 `case_not_found`, exactly like a
 * missing one, for the detail and for every action. A case they can read but may not act on that way answers 403
 * `forbidden`. The read rule is applied in SQL (caseReachSql) — on the list, the detail and the row an action locks —
 * never as a filter after the query.
 *
 * Reporting (POST /api/cases) is open to every role, anywhere: a resident reports where they are, a grid worker
 * passing through another grid reports what they see; what they report they can read afterwards (`reported`).
 * Anonymous reports are taken even in AUTH_MODE=token (reporter null: nobody can read them back by `reported`).
 *
 * Guards that depend on more than the role stay in services/cases.ts: only the assignee accepts, the verifier is
 * not the handler, only the reporter rates or asks for a reopen, reopen needs a low rating.
 *
 * Callers without a token in AUTH_MODE=dev-header (X-Actor or nobody) are not scoped at all: the stand-in of the
 * identity-less days, kept for the suites and tools that still use it. In AUTH_MODE=token they are answered 401.
 */
export type CaseReach = 'scope' | 'assigned' | 'reported' | 'followed'
/** `candidates`: who is near the case and which cameras see it (issue #8: positions and stream URLs, staff who steer cases). */
export type CaseOp = 'read' | 'candidates' | CaseAction

const S: readonly CaseReach[] = ['scope']
const A: readonly CaseReach[] = ['assigned']
const R: readonly CaseReach[] = ['reported']
/** What a user who reported or follows a case reads. */
const RF: readonly CaseReach[] = ['reported', 'followed']

export const CASE_ACCESS: Record<Role, Partial<Record<CaseOp, readonly CaseReach[]>>> = {
  /** Everything, within their scope region if they have one. */
  admin: { read: S, candidates: S, ...Object.fromEntries(CASE_ACTIONS.map((a) => [a, S])) },
  /** Reads everything (the wall); acts on nothing. */
  commander: { read: S, candidates: S },
  /** The loop of the cases in their district: register, dispatch, close, reopen, merge, whistle. */
  dispatcher: {
    read: ['scope', ...RF],
    candidates: S,
    register: S,
    reject: S,
    dispatch: S,
    reassign: S,
    merge: S,
    close: S,
    reopen: S,
    escalate: S,
    note: S,
  },
  /** Street/community leader: reads their subtree, whistles (escalates), verifies or sends back the handling. */
  leader: { read: ['scope', ...RF], candidates: S, escalate: S, verify: S, send_back: S, note: S },
  /**
   * Inspector (核查员) of a street or community: verification is the whole job — verifies the handling on the spot or
   * sends it back, with notes and photos. Steers nothing (no candidates, no dispatch, no whistle).
   */
  inspector: { read: ['scope', ...RF], verify: S, send_back: S, note: S },
  /**
   * Grid worker: sees their grid and what is assigned to them; accepts a case dispatched to them or to their grid
   * without a named worker (the service refuses another worker's case), handles only what is assigned to them.
   */
  grid_worker: { read: ['scope', 'assigned', ...RF], accept: ['scope', 'assigned'], handle: A, note: ['scope', 'assigned'] },
  /**
   * Resident: their own reports — reads them, adds notes, rates them once closed and may ask for a badly rated one to
   * be done again; reads what they follow.
   */
  resident: { read: RF, rate: R, request_reopen: R, note: R },
}

/** The ways `user` reaches a case for `op` (empty: never). */
export function reachesFor(user: Pick<AuthUser, 'role'>, op: CaseOp): readonly CaseReach[] {
  return CASE_ACCESS[user.role]?.[op] ?? []
}

/** Roles that may perform `op` on some case. */
export function rolesFor(op: CaseOp): Role[] {
  return ROLES.filter((r) => (CASE_ACCESS[r][op]?.length ?? 0) > 0)
}

/**
 * The SQL condition "`user` may `op` the case aliased `c`", its parameters added to `b`. Built from the same
 * table as `permits`; FALSE when the role has no rule.
 */
export function caseReachSql(user: AuthUser, op: CaseOp, b: SqlBuilder, alias = 'c'): string {
  const parts = reachesFor(user, op).map((reach) => {
    switch (reach) {
      case 'scope': {
        const f = scopeFilterSql(user, `${alias}.region_path`, b.params.length + 1)
        b.params.push(...f.params)
        return f.sql
      }
      case 'assigned':
        return user.workerId ? `${alias}.assignee_id = ${b.add(user.workerId)}` : 'FALSE'
      case 'reported':
        return `${alias}.reporter = ${b.add(actorOf(user))}`
      case 'followed':
        return `${alias}.id IN (SELECT f.case_id FROM case_followers f WHERE f.actor = ${b.add(actorOf(user))})`
    }
  })
  return parts.length ? parts.map((p) => `(${p})`).join(' OR ') : 'FALSE'
}

/** caseReachSql as a condition a repository writes into its own query (repos/cases.ts getCaseRow, listCases). */
export function caseReach(user: AuthUser, op: CaseOp, alias = 'c'): SqlCondition {
  return (b) => caseReachSql(user, op, b, alias)
}

/** The same rule for one case already loaded (the row's region_path, assignee and reporter). */
export function permits(user: AuthUser, op: CaseOp, row: Pick<CaseRow, 'regionPath' | 'assigneeId' | 'reporter'>): boolean {
  return reachesFor(user, op).some((reach) => {
    switch (reach) {
      case 'scope':
        return inScope(user, row.regionPath)
      case 'assigned':
        return user.workerId !== null && row.assigneeId === user.workerId
      case 'reported':
        return row.reporter !== null && row.reporter === actorOf(user)
      case 'followed':
        // Only read rules take it, and reads are decided in SQL (caseReachSql): never an action's reach.
        return false
    }
  })
}
