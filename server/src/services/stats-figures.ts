/**
 * The shapes of the statistics' answers: a row of figures (repos/stats.ts) as LoopFigures, with the rates computed
 * as services/stats.ts defines them, and what every answer says of its filter.
 */
import type { RegionRef } from '../../../shared/schemas/region.ts'
import type { LoopFigures } from '../../../shared/schemas/stats.ts'
import type { FigureRow } from '../repos/stats.ts'
import type { CaseFilter } from './stats-filter.ts'

const ratio = (n: number, d: number) => (d > 0 ? n / d : null)

export function completionRate(closed: number, reported: number, rejected: number, merged: number): number | null {
  return ratio(closed, reported - rejected - merged)
}

export function toFigures(r: FigureRow): LoopFigures {
  return {
    reported: r.reported,
    registered: r.registered,
    rejected: r.rejected,
    merged: r.merged,
    closed: r.closed,
    open: r.open,
    completionRate: completionRate(r.closed, r.reported, r.rejected, r.merged),
    handled: r.handled,
    onTime: r.on_time,
    onTimeRate: ratio(r.on_time, r.handled),
    overdueOpen: r.overdue_open,
    escalated: r.escalated,
    closedAtGrid: r.closed_at_grid,
    gridLevelShare: ratio(r.closed_at_grid, r.closed),
    selfHandled: r.self_handled,
    meanStageMinutes: {
      register: r.m_register,
      dispatch: r.m_dispatch,
      accept: r.m_accept,
      handle: r.m_handle,
      verify: r.m_verify,
      close: r.m_close,
      total: r.m_total,
    },
    satisfaction: {
      mean: r.rating_mean,
      rated: r.rated,
      distribution: { '1': r.r1, '2': r.r2, '3': r.r3, '4': r.r4, '5': r.r5 },
    },
  }
}

/** The figures of a group without a case. */
export const EMPTY_ROW: FigureRow = {
  reported: 0, registered: 0, rejected: 0, merged: 0, closed: 0, open: 0, handled: 0, on_time: 0, overdue_open: 0,
  escalated: 0, closed_at_grid: 0, self_handled: 0, m_register: null, m_dispatch: null, m_accept: null, m_handle: null, m_verify: null,
  m_close: null, m_total: null, rating_mean: null, rated: 0, r1: 0, r2: 0, r3: 0, r4: 0, r5: 0,
}

/** What every answer says of its filter. */
export function filterEcho(f: CaseFilter): { region: RegionRef | null; category: string | null; department: string | null } {
  return {
    region: f.region ? { id: f.region.id, name: f.region.name, level: f.region.level } : null,
    category: f.category ?? null,
    department: f.department ?? null,
  }
}
