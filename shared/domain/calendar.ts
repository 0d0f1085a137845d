/**
 * Working calendar for case time limits (分类分级限时办理): which days are working days, the working periods of a
 * working day, and due-time arithmetic on that clock. Pure code for both the browser and the server.
 *
 * Model. Time is read in the calendar's fixed UTC offset (Asia/Shanghai = UTC+8, no DST), so no Intl/tz database
 * is needed. A working day has the same working periods (08:30–12:00, 13:30–17:30 = 450 working minutes). A day is
 * a working day unless it is a weekend day or a listed holiday; a listed make-up working day (调休上班) is a working
 * day even on a weekend.
 *
 * Covered years. `holidays` and `makeupWorkdays` are only known for the years in `years` (the State Council
 * publishes each year's list in the preceding November). Outside the covered years only weekends count as days off:
 * a due time that runs into an uncovered year is computed as if it had no public holidays. Add the next year's
 * notice to calendar-cn.json (and its number to `years`) before it starts.
 *
 * Arithmetic. The working clock is a non-decreasing function W(t) = working milliseconds since 1970-01-01 local
 * midnight, evaluated in O(log n) from a weekday-count formula plus prefix sums over the listed exceptions; adding
 * working time inverts W by a galloping binary search, so large amounts cost the same as small ones.
 */
import cnCalendarJson from './calendar-cn.json' with { type: 'json' }

/** A name in both UI languages. */
export interface CalendarName {
  zh: string
  en: string
}

/** One listed day: a public holiday or a make-up working day. */
export interface CalendarDay {
  /** YYYY-MM-DD, local to the calendar's time zone. */
  date: string
  name: CalendarName
}

/** The shape of calendar-cn.json. */
export interface WorkCalendar {
  /** IANA name, for display; the arithmetic uses `utcOffsetMinutes`. */
  timeZone: string
  /** Fixed offset from UTC in minutes (480 for Asia/Shanghai). */
  utcOffsetMinutes: number
  /** Working periods of every working day, local "HH:MM", ascending and not overlapping. */
  workingPeriods: { start: string; end: string }[]
  /** Days of the week off (0 = Sunday … 6 = Saturday). */
  weekendDays: number[]
  /** Years that `holidays` and `makeupWorkdays` cover. */
  years: number[]
  /** Days off on top of weekends (one entry per day). */
  holidays: CalendarDay[]
  /** Weekend days that are working days (调休上班), one entry per day. */
  makeupWorkdays: CalendarDay[]
}

/** China's working calendar (calendar-cn.json, typed). */
export const CN_CALENDAR: WorkCalendar = cnCalendarJson

/** 'working': limits in working hours/days run on the working calendar; '24x7': they run on natural time. */
export type Clock = 'working' | '24x7'

/** A category's time limit. `hours` are always natural hours. */
export interface TimeLimit {
  amount: number
  unit: 'hours' | 'working_hours' | 'working_days'
}

export type DayKind = 'workday' | 'weekend' | 'holiday' | 'makeup_workday'

const MINUTE_MS = 60_000
const DAY_MS = 86_400_000
/** 1970-01-01 was a Thursday. */
const EPOCH_WEEKDAY = 4

interface Period {
  startMs: number
  endMs: number
  /** Working ms of the day before this period starts. */
  cumStartMs: number
}

/** A calendar prepared for fast queries (built once per calendar object). */
interface Compiled {
  offsetMs: number
  periods: Period[]
  /** Working ms in one working day. */
  dayWorkMs: number
  /** workDow[weekday] — is that weekday (0 = Sunday) normally worked. */
  workDow: boolean[]
  /** Normally-worked weekdays per week. */
  perWeek: number
  /** weekPrefix[r] — normally-worked days among day numbers 0 … r-1 (r = 0 … 7). */
  weekPrefix: number[]
  /** Listed days by local day number. */
  special: Map<number, 'holiday' | 'makeup_workday'>
  /** Day numbers whose listing changes the working-day count (holiday on a weekday, make-up on a weekend day), ascending. */
  adjDays: number[]
  /** adjPrefix[i] — sum of the changes of adjDays[0 … i-1]. */
  adjPrefix: number[]
}

const compiledCache = new WeakMap<WorkCalendar, Compiled>()

function hhmmToMs(s: string, what: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(s)
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || (Number(m[1]) === 24 && m[2] !== '00')) {
    throw new RangeError(`calendar: bad time ${JSON.stringify(s)} in ${what}`)
  }
  return (Number(m[1]) * 60 + Number(m[2])) * MINUTE_MS
}

/** Local day number (days since 1970-01-01) of a YYYY-MM-DD string; throws on anything else. */
function dayNumber(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day)
  if (m) {
    const y = Number(m[1])
    const mo = Number(m[2])
    const d = Number(m[3])
    const t = Date.UTC(y, mo - 1, d)
    const back = new Date(t)
    if (back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d) return t / DAY_MS
  }
  throw new RangeError(`calendar: not a YYYY-MM-DD date: ${JSON.stringify(day)}`)
}

function weekdayOf(dayNum: number): number {
  return (((dayNum + EPOCH_WEEKDAY) % 7) + 7) % 7
}

function compile(cal: WorkCalendar): Compiled {
  const cached = compiledCache.get(cal)
  if (cached) return cached

  if (!Number.isFinite(cal.utcOffsetMinutes)) throw new RangeError('calendar: utcOffsetMinutes must be a number')
  const periods: Period[] = []
  let cum = 0
  let prevEnd = 0
  cal.workingPeriods.forEach((p, i) => {
    const startMs = hhmmToMs(p.start, `workingPeriods[${i}].start`)
    const endMs = hhmmToMs(p.end, `workingPeriods[${i}].end`)
    if (endMs <= startMs || startMs < prevEnd) {
      throw new RangeError(`calendar: workingPeriods must be ascending, non-empty and not overlapping (entry ${i})`)
    }
    periods.push({ startMs, endMs, cumStartMs: cum })
    cum += endMs - startMs
    prevEnd = endMs
  })
  if (cum === 0) throw new RangeError('calendar: no working periods')

  const workDow = Array.from({ length: 7 }, (_, d) => !cal.weekendDays.includes(d))
  const perWeek = workDow.filter(Boolean).length
  if (perWeek === 0) throw new RangeError('calendar: every day of the week is a weekend day')
  const weekPrefix = [0]
  for (let r = 0; r < 7; r++) weekPrefix.push(weekPrefix[r] + (workDow[weekdayOf(r)] ? 1 : 0))

  const years = new Set(cal.years)
  const special = new Map<number, 'holiday' | 'makeup_workday'>()
  const deltas = new Map<number, number>()
  const list = (entries: CalendarDay[], kind: 'holiday' | 'makeup_workday') => {
    for (const e of entries) {
      const n = dayNumber(e.date)
      if (special.has(n)) throw new RangeError(`calendar: ${e.date} is listed twice`)
      if (!years.has(Number(e.date.slice(0, 4)))) {
        throw new RangeError(`calendar: ${e.date} lies outside the covered years ${JSON.stringify(cal.years)}`)
      }
      special.set(n, kind)
      const normallyWorked = workDow[weekdayOf(n)]
      if (kind === 'holiday' && normallyWorked) deltas.set(n, -1)
      if (kind === 'makeup_workday' && !normallyWorked) deltas.set(n, +1)
    }
  }
  list(cal.holidays, 'holiday')
  list(cal.makeupWorkdays, 'makeup_workday')
  const adjDays = [...deltas.keys()].sort((a, b) => a - b)
  const adjPrefix = [0]
  for (const d of adjDays) adjPrefix.push(adjPrefix[adjPrefix.length - 1] + deltas.get(d)!)

  const compiled: Compiled = {
    offsetMs: cal.utcOffsetMinutes * MINUTE_MS,
    periods,
    dayWorkMs: cum,
    workDow,
    perWeek,
    weekPrefix,
    special,
    adjDays,
    adjPrefix,
  }
  compiledCache.set(cal, compiled)
  return compiled
}

function isWorkingDayNum(c: Compiled, dayNum: number): boolean {
  const s = c.special.get(dayNum)
  if (s === 'holiday') return false
  if (s === 'makeup_workday') return true
  return c.workDow[weekdayOf(dayNum)]
}

/** Working days among local day numbers [0, dayNum) (negative for dayNum < 0): O(log exceptions). */
function workingDaysBefore(c: Compiled, dayNum: number): number {
  const weeks = Math.floor(dayNum / 7)
  let n = weeks * c.perWeek + c.weekPrefix[dayNum - weeks * 7]
  // Listed changes on days < dayNum: count of adjDays below dayNum by binary search.
  let lo = 0
  let hi = c.adjDays.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (c.adjDays[mid] < dayNum) lo = mid + 1
    else hi = mid
  }
  n += c.adjPrefix[lo]
  return n
}

/** The working day that has exactly n working days before it (n may be negative). */
function nthWorkingDay(c: Compiled, n: number): number {
  // Smallest d with workingDaysBefore(d + 1) > n. Gallop out from the weekday-only estimate, then bisect.
  const f = (d: number) => workingDaysBefore(c, d + 1)
  const est = Math.floor((n * 7) / c.perWeek)
  let lo = est - 8
  let hi = est + 8
  for (let step = 16; f(lo) > n; step *= 2) lo -= step
  for (let step = 16; f(hi) <= n; step *= 2) hi += step
  // f(lo) <= n < f(hi)
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2)
    if (f(mid) > n) hi = mid
    else lo = mid
  }
  return hi
}

/** W(t): working ms from 1970-01-01 local midnight to the instant t (ms since the Unix epoch). */
function workingMsAt(c: Compiled, t: number): number {
  const local = t + c.offsetMs
  const dayNum = Math.floor(local / DAY_MS)
  let w = c.dayWorkMs * workingDaysBefore(c, dayNum)
  if (isWorkingDayNum(c, dayNum)) {
    const msOfDay = local - dayNum * DAY_MS
    for (const p of c.periods) {
      if (msOfDay <= p.startMs) break
      w += Math.min(msOfDay, p.endMs) - p.startMs
    }
  }
  return w
}

/**
 * The instant at which W reaches `target`. W is flat outside working periods, so a value can be reached over an
 * interval: `earliest` picks its start (a due time at a period end stays there), otherwise its end (the next
 * period start).
 */
function instantAtWorkingMs(c: Compiled, target: number, earliest: boolean): number {
  const D = c.dayWorkMs
  // earliest: rem in (0, D]; latest: rem in [0, D).
  const n = earliest ? Math.ceil(target / D) - 1 : Math.floor(target / D)
  const rem = target - n * D
  const dayNum = nthWorkingDay(c, n)
  let p = c.periods[c.periods.length - 1]
  for (const q of c.periods) {
    const end = q.cumStartMs + (q.endMs - q.startMs)
    if (earliest ? rem <= end : rem < end) {
      p = q
      break
    }
  }
  return dayNum * DAY_MS + p.startMs + (rem - p.cumStartMs) - c.offsetMs
}

function checkDate(d: Date, what: string): number {
  const t = d.getTime()
  if (!Number.isFinite(t)) throw new RangeError(`calendar: ${what} is an invalid Date`)
  return t
}

/** The local calendar day (YYYY-MM-DD in the calendar's time zone) of an instant. */
export function calendarDay(instant: Date, cal: WorkCalendar = CN_CALENDAR): string {
  const t = checkDate(instant, 'instant')
  return new Date(t + cal.utcOffsetMinutes * MINUTE_MS).toISOString().slice(0, 10)
}

/** Whether `year`'s holidays and make-up days are in the calendar (outside, only weekends are days off). */
export function coversYear(year: number, cal: WorkCalendar = CN_CALENDAR): boolean {
  return cal.years.includes(year)
}

/** What kind of day `day` (YYYY-MM-DD, local) is. A make-up working day wins over its weekend. */
export function dayKind(day: string, cal: WorkCalendar = CN_CALENDAR): DayKind {
  const c = compile(cal)
  const n = dayNumber(day)
  const s = c.special.get(n)
  if (s) return s
  return c.workDow[weekdayOf(n)] ? 'workday' : 'weekend'
}

/** Whether `day` (YYYY-MM-DD, local) is a working day: a workday or a make-up working day. */
export function isWorkingDay(day: string, cal: WorkCalendar = CN_CALENDAR): boolean {
  return isWorkingDayNum(compile(cal), dayNumber(day))
}

/**
 * `start` plus `minutes` of working time. From a start outside working periods the count begins at the next
 * period start; a result exactly at a period end stays there (Fri 16:30 + 60 → Fri 17:30). Negative minutes go
 * back (a result at a period start stays there: Mon 09:30 − 60 → Mon 08:30). Zero returns `start` unchanged.
 * Fractional minutes are rounded to the millisecond.
 */
export function addWorkingMinutes(start: Date, minutes: number, cal: WorkCalendar = CN_CALENDAR): Date {
  const t = checkDate(start, 'start')
  if (!Number.isFinite(minutes)) throw new RangeError(`calendar: minutes must be finite, got ${minutes}`)
  const delta = Math.round(minutes * MINUTE_MS)
  if (delta === 0) return new Date(t)
  const c = compile(cal)
  return new Date(instantAtWorkingMs(c, workingMsAt(c, t) + delta, delta > 0))
}

/** Working minutes from `a` to `b` (negative if b < a); may be fractional when the instants carry seconds. */
export function workingMinutesBetween(a: Date, b: Date, cal: WorkCalendar = CN_CALENDAR): number {
  const c = compile(cal)
  return (workingMsAt(c, checkDate(b, 'b')) - workingMsAt(c, checkDate(a, 'a'))) / MINUTE_MS
}

/** Working minutes in one working day (450 for the CN calendar). */
export function workingMinutesPerDay(cal: WorkCalendar = CN_CALENDAR): number {
  return compile(cal).dayWorkMs / MINUTE_MS
}

/**
 * A time limit as minutes, and whether they run on the working calendar. `hours` are natural hours on any clock;
 * on the '24x7' clock a working hour is 1 h and a working day 24 h; on the 'working' clock a working day is one
 * full day of working periods (450 min).
 */
export function limitMinutes(
  limit: TimeLimit,
  clock: Clock,
  cal: WorkCalendar = CN_CALENDAR,
): { minutes: number; onWorkingClock: boolean } {
  if (!Number.isFinite(limit.amount) || limit.amount < 0) {
    throw new RangeError(`calendar: time limit amount must be a non-negative number, got ${limit.amount}`)
  }
  switch (limit.unit) {
    case 'hours':
      return { minutes: limit.amount * 60, onWorkingClock: false }
    case 'working_hours':
      return { minutes: limit.amount * 60, onWorkingClock: clock === 'working' }
    case 'working_days':
      return clock === 'working'
        ? { minutes: limit.amount * workingMinutesPerDay(cal), onWorkingClock: true }
        : { minutes: limit.amount * 24 * 60, onWorkingClock: false }
    default:
      throw new RangeError(`calendar: unknown time limit unit ${JSON.stringify((limit as TimeLimit).unit)}`)
  }
}

/** When a case started at `start` with this limit on this clock is due. */
export function computeDueAt(start: Date, limit: TimeLimit, clock: Clock, cal: WorkCalendar = CN_CALENDAR): Date {
  const { minutes, onWorkingClock } = limitMinutes(limit, clock, cal)
  if (onWorkingClock) return addWorkingMinutes(start, minutes, cal)
  return new Date(checkDate(start, 'start') + Math.round(minutes * MINUTE_MS))
}
