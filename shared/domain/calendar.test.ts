import { describe, expect, it } from 'vitest'
import {
  CN_CALENDAR,
  addWorkingMinutes,
  calendarDay,
  computeDueAt,
  coversYear,
  dayKind,
  isWorkingDay,
  limitMinutes,
  workingMinutesBetween,
  workingMinutesPerDay,
  type WorkCalendar,
} from './calendar.ts'
import { prng } from '../util/random.ts'

/** An instant written in Beijing time, e.g. '2026-03-06T16:00' → 2026-03-06T16:00:00+08:00. */
const bj = (s: string) => new Date(`${s}:00+08:00`)
/** An instant shown in Beijing time as 'YYYY-MM-DDTHH:mm:ss+08:00' (readable failures). */
const show = (d: Date) => new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 19) + '+08:00'
const wd = (amount: number) => ({ amount, unit: 'working_days' as const })
const wh = (amount: number) => ({ amount, unit: 'working_hours' as const })
const due = (start: string, limit: Parameters<typeof computeDueAt>[1], clock: 'working' | '24x7' = 'working') =>
  show(computeDueAt(bj(start), limit, clock))

describe('calendar data (calendar-cn.json)', () => {
  it('holds the 2026 State Council schedule', () => {
    expect(CN_CALENDAR.timeZone).toBe('Asia/Shanghai')
    expect(CN_CALENDAR.utcOffsetMinutes).toBe(480)
    expect(CN_CALENDAR.years).toEqual([2026])
    expect(workingMinutesPerDay()).toBe(450)
    expect(CN_CALENDAR.holidays).toHaveLength(3 + 9 + 3 + 5 + 3 + 3 + 7)
    expect(CN_CALENDAR.makeupWorkdays.map((d) => d.date)).toEqual([
      '2026-01-04',
      '2026-02-14',
      '2026-02-28',
      '2026-05-09',
      '2026-09-20',
      '2026-10-10',
    ])
    const springFestival = CN_CALENDAR.holidays.filter((h) => h.name.zh === '春节').map((h) => h.date)
    expect(springFestival[0]).toBe('2026-02-15')
    expect(springFestival.at(-1)).toBe('2026-02-23')
    expect(springFestival).toHaveLength(9)
    for (const d of [...CN_CALENDAR.holidays, ...CN_CALENDAR.makeupWorkdays]) {
      expect(d.name.zh).toMatch(/\p{Script=Han}/u)
      expect(d.name.en.length).toBeGreaterThan(3)
      expect(coversYear(Number(d.date.slice(0, 4)))).toBe(true)
    }
    // Every make-up working day falls on a weekend (otherwise it would change nothing).
    for (const d of CN_CALENDAR.makeupWorkdays) expect(new Date(`${d.date}T12:00:00Z`).getUTCDay() % 6).toBe(0)
  })

  it('rejects bad calendars', () => {
    const base: WorkCalendar = { ...CN_CALENDAR, holidays: [], makeupWorkdays: [] }
    const name = { zh: '测试', en: 'Test' }
    const outside: WorkCalendar = { ...base, holidays: [{ date: '2027-01-01', name }] }
    expect(() => isWorkingDay('2026-01-05', outside)).toThrow(/outside the covered years/)
    const twice: WorkCalendar = { ...base, holidays: [{ date: '2026-01-01', name }], makeupWorkdays: [{ date: '2026-01-01', name }] }
    expect(() => dayKind('2026-01-05', twice)).toThrow(/listed twice/)
    const badDate: WorkCalendar = { ...base, holidays: [{ date: '2026-02-30', name }] }
    expect(() => dayKind('2026-01-05', badDate)).toThrow(/YYYY-MM-DD/)
    const overlap: WorkCalendar = { ...base, workingPeriods: [{ start: '08:30', end: '12:00' }, { start: '11:00', end: '17:00' }] }
    expect(() => addWorkingMinutes(bj('2026-01-05T09:00'), 10, overlap)).toThrow(/overlapping/)
    expect(() => dayKind('2026-1-5')).toThrow(RangeError)
    expect(() => addWorkingMinutes(new Date(NaN), 10)).toThrow(RangeError)
    expect(() => limitMinutes({ amount: -1, unit: 'hours' }, 'working')).toThrow(RangeError)
  })
})

describe('dayKind / isWorkingDay', () => {
  it('classifies days', () => {
    const cases: [string, ReturnType<typeof dayKind>][] = [
      ['2026-01-01', 'holiday'], // 元旦, Thursday
      ['2026-01-03', 'holiday'], // 元旦, Saturday: the listing wins over the weekend
      ['2026-01-04', 'makeup_workday'], // Sunday, 调休上班
      ['2026-01-05', 'workday'],
      ['2026-01-10', 'weekend'],
      ['2026-02-14', 'makeup_workday'], // Saturday before 春节
      ['2026-02-23', 'holiday'], // Monday, last day of 春节
      ['2026-02-24', 'workday'],
      ['2026-04-05', 'holiday'], // 清明, Sunday
      ['2026-05-09', 'makeup_workday'],
      ['2026-09-20', 'makeup_workday'], // Sunday before 国庆
      ['2026-09-25', 'holiday'], // 中秋, Friday
      ['2026-10-07', 'holiday'],
      ['2026-10-10', 'makeup_workday'], // Saturday after 国庆
      ['2026-10-11', 'weekend'],
      ['2025-10-01', 'workday'], // outside the covered years only weekends are days off
      ['2027-01-01', 'workday'],
      ['2027-01-02', 'weekend'],
    ]
    for (const [day, kind] of cases) expect([day, dayKind(day)]).toEqual([day, kind])
    for (const [day, kind] of cases) expect(isWorkingDay(day)).toBe(kind === 'workday' || kind === 'makeup_workday')
  })

  it('reads an instant’s day in Beijing time', () => {
    expect(calendarDay(new Date('2026-09-30T16:00:00Z'))).toBe('2026-10-01') // 00:00 in Beijing
    expect(calendarDay(new Date('2026-09-30T15:59:59Z'))).toBe('2026-09-30')
  })
})

describe('computeDueAt on the working clock', () => {
  it('crosses a weekend: Fri 16:00 + 1 working day → Mon 16:00', () => {
    // 90 min left on Friday; 360 more on Monday: 08:30–12:00 is 210, 150 after 13:30 → 16:00.
    expect(due('2026-03-06T16:00', wd(1))).toBe('2026-03-09T16:00:00+08:00')
  })

  it('keeps a due time at a period end', () => {
    expect(due('2026-03-06T16:30', wh(1))).toBe('2026-03-06T17:30:00+08:00') // not Monday 08:30
    expect(show(addWorkingMinutes(bj('2026-03-06T16:30'), 61))).toBe('2026-03-09T08:31:00+08:00')
    expect(show(addWorkingMinutes(bj('2026-03-10T11:00'), 60))).toBe('2026-03-10T12:00:00+08:00') // not 13:30
    expect(show(addWorkingMinutes(bj('2026-03-10T11:00'), 61))).toBe('2026-03-10T13:31:00+08:00')
    expect(due('2026-03-10T08:30', wd(1))).toBe('2026-03-10T17:30:00+08:00')
  })

  it('starts outside working periods at the next period start', () => {
    expect(due('2026-03-10T22:00', wh(1))).toBe('2026-03-11T09:30:00+08:00') // at night
    expect(due('2026-03-10T00:00', wh(1))).toBe('2026-03-10T09:30:00+08:00') // at midnight
    expect(show(addWorkingMinutes(bj('2026-03-10T07:00'), 30))).toBe('2026-03-10T09:00:00+08:00') // before work
    expect(due('2026-03-10T12:30', wh(1))).toBe('2026-03-10T14:30:00+08:00') // during lunch
    expect(due('2026-03-10T12:00', wh(1))).toBe('2026-03-10T14:30:00+08:00') // at the start of lunch
    expect(due('2026-03-13T17:30', wh(1))).toBe('2026-03-16T09:30:00+08:00') // Friday at closing
    expect(due('2026-10-03T10:00', wh(1))).toBe('2026-10-08T09:30:00+08:00') // on a holiday (国庆)
    expect(due('2026-10-03T10:00', wd(1))).toBe('2026-10-08T17:30:00+08:00')
    expect(due('2026-03-07T10:00', wd(1))).toBe('2026-03-09T17:30:00+08:00') // on a Saturday
  })

  it('crosses 国庆 and lands on the make-up Saturday Oct 10', () => {
    // Sep 30 from 10:00: 360 min; Oct 1–7 off; Oct 8 and 9: 900 → 1260; 90 more on Sat Oct 10 → 10:00.
    expect(due('2026-09-30T10:00', wd(3))).toBe('2026-10-10T10:00:00+08:00')
    // Sep 19 (Sat) off, Sep 20 (Sun) is a make-up working day.
    expect(due('2026-09-18T16:00', wd(1))).toBe('2026-09-20T16:00:00+08:00')
    // 中秋 Sep 25–27 off (Fri–Sun).
    expect(due('2026-09-24T16:00', wd(1))).toBe('2026-09-28T16:00:00+08:00')
  })

  it('crosses 春节 via the make-up Saturday Feb 14', () => {
    expect(due('2026-02-13T16:00', wd(1))).toBe('2026-02-14T16:00:00+08:00')
    // 90 min left on Sat Feb 14, Feb 15–23 off, 30 min into Tue Feb 24.
    expect(due('2026-02-14T16:00', wh(2))).toBe('2026-02-24T09:00:00+08:00')
    // Thu Feb 12 from 09:00: 420; Fri 13: 870; Sat 14: 1320; Tue 24: 1770; Wed 25: 2220; 30 into Thu 26.
    expect(due('2026-02-12T09:00', wd(5))).toBe('2026-02-26T09:00:00+08:00')
    // Sat Feb 28 is a make-up working day too; Sun Mar 1 is not.
    expect(due('2026-02-27T16:00', wd(1))).toBe('2026-02-28T16:00:00+08:00')
    expect(due('2026-02-28T16:00', wd(1))).toBe('2026-03-02T16:00:00+08:00')
  })

  it('crosses year ends', () => {
    // Dec 31 2025: 90 min left; Jan 1–3 2026 off; Sun Jan 4 is a make-up working day.
    expect(due('2025-12-31T16:00', wd(1))).toBe('2026-01-04T16:00:00+08:00')
    // 2027 is not covered: Fri Jan 1 2027 counts as a working day.
    expect(due('2026-12-31T16:00', wd(1))).toBe('2027-01-01T16:00:00+08:00')
    // 30 on Dec 31, 450 on Jan 1 → 480; 420 on Mon Jan 4: 210 to 12:00, 210 from 13:30 → 17:00.
    expect(due('2026-12-31T17:00', wd(2))).toBe('2027-01-04T17:00:00+08:00')
  })

  it('handles zero, fractional and negative amounts', () => {
    expect(due('2026-03-07T10:00', wd(0))).toBe('2026-03-07T10:00:00+08:00') // zero: start unchanged
    expect(show(addWorkingMinutes(bj('2026-03-10T09:00'), 0.5))).toBe('2026-03-10T09:00:30+08:00')
    expect(due('2026-03-10T09:00', wd(0.5))).toBe('2026-03-10T14:15:00+08:00') // 225 min
    expect(show(addWorkingMinutes(bj('2026-03-09T09:30'), -60))).toBe('2026-03-09T08:30:00+08:00') // stays at the start
    expect(show(addWorkingMinutes(bj('2026-03-09T09:30'), -61))).toBe('2026-03-06T17:29:00+08:00')
    // 30 min back to Oct 8 08:30, Oct 1–7 off, 420 back from Sep 30 17:30: 240 to 13:30, 180 before 12:00 → 09:00.
    expect(show(addWorkingMinutes(bj('2026-10-08T09:00'), -450))).toBe('2026-09-30T09:00:00+08:00')
  })
})

describe('computeDueAt on natural time', () => {
  it('runs working units as natural hours/days on the 24x7 clock', () => {
    expect(due('2026-03-06T16:00', wd(1), '24x7')).toBe('2026-03-07T16:00:00+08:00')
    expect(due('2026-09-30T10:00', wd(3), '24x7')).toBe('2026-10-03T10:00:00+08:00')
    expect(due('2026-03-06T16:00', wh(5), '24x7')).toBe('2026-03-06T21:00:00+08:00')
    expect(due('2026-12-31T23:00', wh(2), '24x7')).toBe('2027-01-01T01:00:00+08:00')
  })

  it('counts `hours` as natural hours on either clock', () => {
    for (const clock of ['working', '24x7'] as const) {
      expect(due('2026-03-06T16:00', { amount: 2, unit: 'hours' }, clock)).toBe('2026-03-06T18:00:00+08:00')
      expect(due('2026-09-30T10:00', { amount: 72, unit: 'hours' }, clock)).toBe('2026-10-03T10:00:00+08:00')
      expect(due('2026-03-06T16:00', { amount: 0.25, unit: 'hours' }, clock)).toBe('2026-03-06T16:15:00+08:00')
    }
  })

  it('limitMinutes tells which clock a limit runs on', () => {
    expect(limitMinutes({ amount: 4, unit: 'hours' }, 'working')).toEqual({ minutes: 240, onWorkingClock: false })
    expect(limitMinutes(wh(4), 'working')).toEqual({ minutes: 240, onWorkingClock: true })
    expect(limitMinutes(wh(4), '24x7')).toEqual({ minutes: 240, onWorkingClock: false })
    expect(limitMinutes(wd(3), 'working')).toEqual({ minutes: 1350, onWorkingClock: true })
    expect(limitMinutes(wd(3), '24x7')).toEqual({ minutes: 4320, onWorkingClock: false })
  })
})

// ---- Property checks against a plain minute-by-minute reference ----

const rng = prng

const OFF = new Set(CN_CALENDAR.holidays.map((h) => h.date))
const ON = new Set(CN_CALENDAR.makeupWorkdays.map((h) => h.date))
/** Reference: is the minute starting at instant t (ms, whole minute) a working minute? */
function refWorkingMinute(t: number): boolean {
  const local = new Date(t + 8 * 3_600_000)
  const day = local.toISOString().slice(0, 10)
  const worked = ON.has(day) || (!OFF.has(day) && local.getUTCDay() !== 0 && local.getUTCDay() !== 6)
  const m = local.getUTCHours() * 60 + local.getUTCMinutes()
  return worked && ((m >= 510 && m < 720) || (m >= 810 && m < 1050))
}
/** Reference addWorkingMinutes for whole minutes > 0: walk minute by minute, stop right after the last one. */
function refAdd(start: Date, minutes: number): Date {
  let t = start.getTime()
  for (let left = minutes; left > 0; t += 60_000) if (refWorkingMinute(t)) left--
  return new Date(t)
}

describe('working-minute arithmetic (properties)', () => {
  const r = rng(20260101)
  const from = bj('2025-11-01T00:00').getTime()
  const to = bj('2027-03-01T00:00').getTime()
  const randomInstant = () => new Date(from + Math.floor((r() * (to - from)) / 60_000) * 60_000)

  it('agrees with a minute-by-minute reference', () => {
    for (let i = 0; i < 300; i++) {
      const start = randomInstant()
      const minutes = 1 + Math.floor(r() * 3 * 450)
      expect([show(start), minutes, show(addWorkingMinutes(start, minutes))]).toEqual([
        show(start),
        minutes,
        show(refAdd(start, minutes)),
      ])
    }
  })

  it('workingMinutesBetween inverts addWorkingMinutes on random instants', () => {
    for (let i = 0; i < 2000; i++) {
      const start = randomInstant()
      const minutes = Math.floor(r() * 40 * 450) * (r() < 0.2 ? -1 : 1)
      const end = addWorkingMinutes(start, minutes)
      expect(workingMinutesBetween(start, end)).toBe(minutes)
    }
    for (let i = 0; i < 2000; i++) {
      const a = randomInstant()
      const b = randomInstant()
      const m = workingMinutesBetween(a, b)
      expect(workingMinutesBetween(b, a)).toBe(0 - m) // 0 - m, not -m: no -0
      const back = addWorkingMinutes(a, m)
      // Exactly b when the working clock runs right up to b (forward) or right from b (backward); otherwise the
      // nearest instant with the same working time: the last period end before b going forward, the next period
      // start after b going back.
      const exact = m > 0 ? refWorkingMinute(b.getTime() - 60_000) : m < 0 ? refWorkingMinute(b.getTime()) : false
      if (exact) expect(show(back)).toBe(show(b))
      else if (m === 0) expect(back.getTime()).toBe(a.getTime())
      else {
        expect(workingMinutesBetween(back, b)).toBe(0)
        if (m > 0) expect(back.getTime()).toBeLessThanOrEqual(b.getTime())
        else expect(back.getTime()).toBeGreaterThanOrEqual(b.getTime())
      }
    }
  })

  it('counts the working minutes of a whole year', () => {
    // 2026: 261 weekdays − 19 holidays on weekdays + 6 make-up weekend days = 248 working days.
    expect(workingMinutesBetween(bj('2026-01-01T00:00'), bj('2027-01-01T00:00'))).toBe(248 * 450)
    expect(workingMinutesBetween(bj('2027-01-01T00:00'), bj('2026-01-01T00:00'))).toBe(-248 * 450)
    // 2027 is not covered: every weekday (261) is a working day.
    expect(workingMinutesBetween(bj('2027-01-01T00:00'), bj('2028-01-01T00:00'))).toBe(261 * 450)
    expect(workingMinutesBetween(bj('2026-03-06T16:00'), bj('2026-03-06T16:00'))).toBe(0)
    expect(workingMinutesBetween(bj('2026-03-06T18:00'), bj('2026-03-09T08:30'))).toBe(0)
  })

  it('handles large amounts without walking day by day', () => {
    // 248 working days from the start of 2026 end exactly at the close of its last working day.
    expect(due('2026-01-01T00:00', wd(248))).toBe('2026-12-31T17:30:00+08:00')
    const start = bj('2026-05-06T10:17')
    const far = addWorkingMinutes(start, 1_000_000 * 450) // ~3,800 years on
    expect(workingMinutesBetween(start, far)).toBe(1_000_000 * 450)
    expect(show(far).slice(11)).toBe('10:17:00+08:00')
    const t0 = performance.now()
    for (let i = 0; i < 20_000; i++) computeDueAt(new Date(start.getTime() + i * 97_000), wd(1 + (i % 400)), 'working')
    expect(performance.now() - t0).toBeLessThan(2_000) // typically a few tens of ms
  })
})
