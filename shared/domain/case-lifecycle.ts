/**
 * The closed loop as one table, used by the server (what may happen) and the web (which buttons to show):
 * 上报 reported → 立案 registered | 不予立案 rejected → 派遣 dispatched → 处置 in_progress → 反馈 handled → 核查 verified
 * (or 退回 back to in_progress) → 结案 closed → 评价 rated (a rating ≤ 2 may 重办 reopen it, and its reporter may ask
 * for that: 申请重办), plus reassign, escalate (三级吹哨), merge-as-duplicate and add-note. Guards that depend on more than the status (the verifier is not the
 * handler, reopen needs a low rating, escalation stops at the district) are named here and enforced by the server.
 */
import type { CaseStatus } from './case-status.ts'

export const CASE_ACTIONS = [
  'register',
  'reject',
  'dispatch',
  'reassign',
  'accept',
  'handle',
  'verify',
  'send_back',
  'close',
  'rate',
  'request_reopen',
  'reopen',
  'escalate',
  'merge',
  'note',
] as const
export type CaseAction = (typeof CASE_ACTIONS)[number]

export interface Transition {
  from: readonly CaseStatus[]
  /** The status after the action; 'same' keeps the current one. */
  to: CaseStatus | 'same'
  zh: string
  en: string
}

/** Statuses in which the handling clock runs and a case can climb a level. */
export const ESCALATABLE_STATUSES: readonly CaseStatus[] = ['reported', 'registered', 'dispatched', 'in_progress']

const ANY: readonly CaseStatus[] = [
  'reported', 'registered', 'rejected', 'dispatched', 'in_progress', 'handled', 'verified', 'closed', 'rated', 'merged',
]

export const TRANSITIONS: Record<CaseAction, Transition> = {
  register: { from: ['reported'], to: 'registered', zh: '立案', en: 'Register' },
  reject: { from: ['reported'], to: 'rejected', zh: '不予立案', en: 'Reject' },
  dispatch: { from: ['registered'], to: 'dispatched', zh: '派遣', en: 'Dispatch' },
  reassign: { from: ['dispatched', 'in_progress'], to: 'dispatched', zh: '改派', en: 'Reassign' },
  accept: { from: ['dispatched'], to: 'in_progress', zh: '受理', en: 'Accept' },
  handle: { from: ['in_progress'], to: 'handled', zh: '处置反馈', en: 'Report handled' },
  verify: { from: ['handled'], to: 'verified', zh: '核查通过', en: 'Verify' },
  send_back: { from: ['handled'], to: 'in_progress', zh: '核查退回', en: 'Send back' },
  close: { from: ['verified'], to: 'closed', zh: '结案', en: 'Close' },
  rate: { from: ['closed'], to: 'rated', zh: '评价', en: 'Rate' },
  request_reopen: { from: ['rated'], to: 'same', zh: '申请重办', en: 'Ask to reopen' },
  reopen: { from: ['rated'], to: 'in_progress', zh: '重办', en: 'Reopen' },
  escalate: { from: ESCALATABLE_STATUSES, to: 'same', zh: '吹哨上报', en: 'Escalate' },
  merge: { from: ['reported', 'registered', 'dispatched', 'in_progress'], to: 'merged', zh: '合并重复', en: 'Merge as duplicate' },
  note: { from: ANY, to: 'same', zh: '备注', en: 'Add note' },
}

/** Actions the status allows, in loop order (the 409 body and the web's buttons both use this). */
export function allowedActions(status: CaseStatus): CaseAction[] {
  return CASE_ACTIONS.filter((a) => TRANSITIONS[a].from.includes(status))
}

export function nextStatus(action: CaseAction, current: CaseStatus): CaseStatus {
  const to = TRANSITIONS[action].to
  return to === 'same' ? current : to
}

/** Ratings at or below this may reopen a case (重办). */
export const REOPEN_MAX_RATING = 2

/**
 * Whether the reporter may ask for the case to be done again (申请重办, request_reopen): it is rated
 * REOPEN_MAX_RATING or lower and they have not asked yet (the dispatcher's reopen clears the request).
 */
export function reopenRequestable(c: { status: CaseStatus; rating: number | null; reopenRequestedAt: string | Date | null }): boolean {
  return c.status === 'rated' && c.rating !== null && c.rating <= REOPEN_MAX_RATING && c.reopenRequestedAt === null
}

export const PRIORITIES = ['urgent', 'high', 'normal'] as const
export type Priority = (typeof PRIORITIES)[number]
export const PRIORITY_NAMES: Record<Priority, { zh: string; en: string }> = {
  urgent: { zh: '紧急', en: 'Urgent' },
  high: { zh: '较急', en: 'High' },
  normal: { zh: '一般', en: 'Normal' },
}

export const CASE_SOURCES = ['grid_worker', 'resident', 'patrol', 'camera', 'hotline', 'open311'] as const
export type CaseSource = (typeof CASE_SOURCES)[number]
export const SOURCE_NAMES: Record<CaseSource, { zh: string; en: string }> = {
  grid_worker: { zh: '网格员上报', en: 'Grid worker' },
  resident: { zh: '群众随手拍', en: 'Resident' },
  patrol: { zh: '巡查发现', en: 'Patrol' },
  camera: { zh: '视频发现', en: 'Camera' },
  hotline: { zh: '12345热线', en: 'Hotline' },
  open311: { zh: 'Open311', en: 'Open311' },
}

/**
 * Owning levels a case climbs through: grid 4 → community 3 → street 2 → district 1 (region level numbers,
 * shared/domain/levels.ts). A case at level 1 cannot climb further.
 */
export const TOP_OWNING_LEVEL = 1
export const BOTTOM_OWNING_LEVEL = 4
