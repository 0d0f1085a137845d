import type { Case } from '../../../../shared/schemas/case.ts'

/** Green under half of the limit used, yellow up to 80 %, red beyond (and when overdue): the task list's mark. */
export type LimitMark = 'green' | 'yellow' | 'red' | 'none'

/** When the current level's clock started: dispatch, else the report. */
function clockStart(c: Case): number {
  return Date.parse(c.stages.dispatchedAt ?? c.reportedAt)
}

/** Share of the time limit used (1 = all of it), or null when the case runs no clock (handled, final). */
export function limitShare(c: Case, now: number): number | null {
  if (!c.dueAt || c.timeLeftSeconds === null) return null
  const start = clockStart(c)
  const due = Date.parse(c.dueAt)
  if (!(due > start)) return now >= due ? 1 : 0
  return (now - start) / (due - start)
}

export function limitMark(c: Case, now: number): LimitMark {
  if (c.overdue) return 'red'
  const share = limitShare(c, now)
  if (share === null) return 'none'
  return share >= 0.8 ? 'red' : share >= 0.5 ? 'yellow' : 'green'
}

/** Seconds left until dueAt (negative: overdue), or null. */
export function secondsLeft(c: Case, now: number): number | null {
  return c.dueAt && c.timeLeftSeconds !== null ? Math.round((Date.parse(c.dueAt) - now) / 1000) : null
}
