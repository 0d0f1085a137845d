/**
 * The time windows of the statistics (services/stats.ts): query instants as callers write them, the default and
 * the limits of a window, the heatmap's named windows. Days are Asia/Shanghai calendar days (UTC+8, no daylight
 * saving).
 */
import { DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS, type HeatWindow } from '../../../shared/schemas/stats.ts'
import { HttpError } from './http-error.ts'

export const DAY_MS = 86_400_000
const SHANGHAI_OFFSET_MS = 8 * 3_600_000

/** YYYY-MM-DD of the Asia/Shanghai day `t` falls in. */
export function shanghaiDay(t: Date): string {
  return new Date(t.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10)
}

/** 00:00 Asia/Shanghai of a YYYY-MM-DD day. */
export function shanghaiMidnight(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) - SHANGHAI_OFFSET_MS)
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$/

/**
 * A query instant: an RFC 3339 date-time with an offset, or a bare date (an Asia/Shanghai day: its start, or for
 * the exclusive `to` bound the start of the next day, so `to=2026-04-17` includes the 17th). 400 naming the field.
 */
export function parseInstant(raw: string, field: 'from' | 'to'): Date {
  const bad = () =>
    new HttpError(400, 'invalid_request', `querystring.${field} must be an RFC 3339 date-time with an offset (2026-04-13T08:00:00+08:00) or a date (2026-04-13), got "${raw}"`, field)
  const d = DATE_ONLY.exec(raw)
  if (d) {
    const start = shanghaiMidnight(raw)
    // Date.parse rolls 2026-02-30 over to March: refuse days that do not exist.
    if (Number.isNaN(start.getTime()) || shanghaiDay(start) !== raw) throw bad()
    return field === 'to' ? new Date(start.getTime() + DAY_MS) : start
  }
  // An unencoded '+' in a query string arrives as a space: 2026-04-13T08:00:00 08:00 means +08:00.
  const text = raw.replace(/^(.+[Tt ][\d:.]+) (\d{2}:?\d{2})$/, '$1+$2')
  if (!DATE_TIME.test(text)) throw bad()
  const t = new Date(text.replace(' ', 'T'))
  if (Number.isNaN(t.getTime())) throw bad()
  // Same roll-over check on the date part, read in the offset the caller wrote.
  const [, y, m, day] = /^(\d{4})-(\d{2})-(\d{2})/.exec(raw)!.map(Number)
  const probe = new Date(Date.UTC(y, m - 1, day))
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== day) throw bad()
  return t
}

export interface Window {
  from: Date
  to: Date
}

/** The window of a query: defaults (the last 30 days up to now) and limits (from < to, at most 366 days). */
export function resolveWindow(q: { from?: string; to?: string }, now: Date): Window {
  const to = q.to !== undefined ? parseInstant(q.to, 'to') : now
  const from = q.from !== undefined ? parseInstant(q.from, 'from') : new Date(to.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS)
  if (from.getTime() >= to.getTime()) {
    throw new HttpError(400, 'invalid_request', `querystring.from (${from.toISOString()}) must be before querystring.to (${to.toISOString()})`, 'from')
  }
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
    const days = ((to.getTime() - from.getTime()) / DAY_MS).toFixed(1)
    throw new HttpError(400, 'invalid_request', `querystring.from: the window spans ${days} days; at most ${MAX_WINDOW_DAYS} (narrow from or to)`, 'from')
  }
  return { from, to }
}

/** The window of the heatmap: today (Asia/Shanghai, from 00:00), or the last 7 / 30 days up to now. */
export function heatWindow(window: HeatWindow, now: Date): Window {
  if (window === 'today') return { from: shanghaiMidnight(shanghaiDay(now)), to: now }
  return { from: new Date(now.getTime() - (window === '7d' ? 7 : 30) * DAY_MS), to: now }
}
