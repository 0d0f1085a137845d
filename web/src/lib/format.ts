import { t, type Locale } from '../i18n.ts'

const pad = (n: number) => String(n).padStart(2, '0')

/** 14:05:09 in the browser's time zone. */
export function formatClock(ms: number): string {
  const d = new Date(ms)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** 2026-11-21 in the browser's time zone. */
export function formatDate(ms: number): string {
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

const WEEKDAYS: Record<Locale, string[]> = {
  zh: ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'],
  en: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'],
}
export function formatWeekday(ms: number, locale: Locale): string {
  return WEEKDAYS[locale][new Date(ms).getDay()]
}

/** Absolute time of an ISO timestamp: "14:05:09" today, "2026-11-20 14:05" otherwise. */
export function formatTime(iso: string, nowMs: number = Date.now()): string {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return iso
  if (formatDate(ms) === formatDate(nowMs)) return formatClock(ms)
  const d = new Date(ms)
  return `${formatDate(ms)} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** "刚刚", "35 秒前", "3 分钟前" … in the current locale. Reactive through t(). */
export function formatAgo(iso: string, nowMs: number): string {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return ''
  const s = Math.max(0, Math.floor((nowMs - ms) / 1000))
  if (s < 10) return t('time.justNow')
  if (s < 60) return t('time.secondsAgo', { n: s })
  const m = Math.floor(s / 60)
  if (m < 60) return t('time.minutesAgo', { n: m })
  const h = Math.floor(m / 60)
  if (h < 24) return t('time.hoursAgo', { n: h })
  return t('time.daysAgo', { n: Math.floor(h / 24) })
}

/** Escapes text for the few places that build HTML strings (MapLibre popups, tooltips, markers). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}
