/** Numbers per locale (zh-CN / en): counts with grouping, rates as percentages, ratings with one decimal. */
import type { Locale } from '../i18n.ts'

const tag = (l: Locale) => (l === 'zh' ? 'zh-CN' : 'en-US')
const cache = new Map<string, Intl.NumberFormat>()
function fmt(l: Locale, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${l}:${JSON.stringify(opts)}`
  let f = cache.get(key)
  if (!f) cache.set(key, (f = new Intl.NumberFormat(tag(l), opts)))
  return f
}

export const formatCount = (n: number, l: Locale) => fmt(l, { maximumFractionDigits: 0 }).format(n)
export const formatRate = (r: number, l: Locale) => fmt(l, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(r)
export const formatRating = (r: number, l: Locale) => fmt(l, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(r)
export const formatHour = (iso: string, l: Locale) => new Intl.DateTimeFormat(tag(l), { hour: '2-digit', hourCycle: 'h23' }).format(new Date(iso))
export const formatDay = (day: string, l: Locale) =>
  new Intl.DateTimeFormat(tag(l), { month: 'numeric', day: 'numeric', timeZone: 'Asia/Shanghai' }).format(new Date(`${day}T12:00:00+08:00`))
