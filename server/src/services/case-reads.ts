import type { Queryable } from '../db/types.ts'
import { caseReach } from '../auth/case-access.ts'
import type { AuthUser } from '../auth/roles.ts'
import { getCaseRow as getCaseRowWhere, listCases as listCasesWhere, type CaseFilter, type CaseRow } from '../repos/cases.ts'
import type { Case } from '../../../shared/schemas/case.ts'

/**
 * The case reads made for a caller: the repository's queries (repos/cases.ts) with the caller's read rule
 * (auth/case-access.ts) as one of their conditions, so a case out of reach is indistinguishable from a missing one.
 * Without a signed-in caller (the dev-header stand-in, the services' own reads): every case.
 */

/** One case by id (locked with `forUpdate`), if `readableBy` may read it. */
export function getCaseRow(q: Queryable, id: string, forUpdate = false, readableBy?: AuthUser | null): Promise<CaseRow | undefined> {
  return getCaseRowWhere(q, id, forUpdate, readableBy ? caseReach(readableBy, 'read') : undefined)
}

/** A filter of the case list as a caller asks it: `readableBy` stands for the read rule's condition. */
export type CaseListFilter = Omit<CaseFilter, 'reach'> & { readableBy?: AuthUser | null }

/** Filtered, newest first, only the cases `f.readableBy` may read. */
export function listCases(q: Queryable, f: CaseListFilter, now: Date): Promise<{ cases: Case[]; nextOffset: number | null }> {
  const { readableBy, ...filter } = f
  return listCasesWhere(q, { ...filter, reach: readableBy ? caseReach(readableBy, 'read') : undefined }, now)
}
