/**
 * Case statuses of the closed loop 上报 → 立案 → 派遣 → 处置 → 反馈 → 核查 → 结案 → 评价.
 * The full state machine (actions, guards) arrives with the case-lifecycle issue; this is the status vocabulary
 * and the open/closed split that every screen already relies on.
 */
export const CASE_STATUSES = [
  'reported',
  'registered',
  'rejected',
  'dispatched',
  'in_progress',
  'handled',
  'verified',
  'closed',
  'rated',
  'merged',
] as const
export type CaseStatus = (typeof CASE_STATUSES)[number]

/** Statuses in which nobody has to act any more. */
export const FINAL_STATUSES: readonly CaseStatus[] = ['rejected', 'closed', 'rated', 'merged']

export function isOpenStatus(s: CaseStatus): boolean {
  return !FINAL_STATUSES.includes(s)
}

export const OPEN_STATUSES: readonly CaseStatus[] = CASE_STATUSES.filter(isOpenStatus)

export const STATUS_NAMES: Record<CaseStatus, { zh: string; en: string }> = {
  reported: { zh: '上报', en: 'Reported' },
  registered: { zh: '立案', en: 'Registered' },
  rejected: { zh: '不予立案', en: 'Rejected' },
  dispatched: { zh: '派遣', en: 'Dispatched' },
  in_progress: { zh: '处置中', en: 'In progress' },
  handled: { zh: '已反馈', en: 'Handled' },
  verified: { zh: '已核查', en: 'Verified' },
  closed: { zh: '结案', en: 'Closed' },
  rated: { zh: '已评价', en: 'Rated' },
  merged: { zh: '已合并', en: 'Merged' },
}
