/**
 * Times and history in words a resident reads at a glance ("2 小时 15 分", "今天 14:05", "网格员已接单").
 */
import type { TimelineEntry } from '../../../../shared/schemas/case.ts'
import type { MessageKey } from '../../i18n.ts'

type T = (key: MessageKey, params?: Record<string, string | number>) => string

/** A duration in seconds as days/hours/minutes, the two largest parts. */
export function durationText(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  const zh = (globalThis.document?.documentElement.lang ?? 'zh-CN').startsWith('zh')
  const parts = zh ? [d && `${d} 天`, h && `${h} 小时`, m && `${m} 分`] : [d && `${d} d`, h && `${h} h`, m && `${m} min`]
  const shown = parts.filter(Boolean).slice(0, 2).join(' ')
  return shown || (zh ? '不到 1 分钟' : 'under a minute')
}

/** Beijing time, as the people on both ends of the case see it. */
export function clockText(iso: string, locale: string): string {
  const d = new Date(iso)
  return new Intl.DateTimeFormat(locale === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai',
    month: 'numeric',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(d)
}

const KNOWN: Record<string, MessageKey> = {
  report: 'm.tl.report',
  register: 'm.tl.register',
  reject: 'm.tl.reject',
  dispatch: 'm.tl.dispatch',
  reassign: 'm.tl.reassign',
  accept: 'm.tl.accept',
  handle: 'm.tl.handle',
  verify: 'm.tl.verify',
  send_back: 'm.tl.send_back',
  close: 'm.tl.close',
  rate: 'm.tl.rate',
  reopen: 'm.tl.reopen',
  escalate: 'm.tl.escalate',
  overdue: 'm.tl.overdue',
  merge: 'm.tl.merge',
  duplicate_merged: 'm.tl.duplicate_merged',
  note: 'm.tl.note',
  supplement: 'm.tl.supplement',
  request_reopen: 'm.tl.request_reopen',
}

export function entryWords(e: TimelineEntry, t: T): string {
  const key = KNOWN[e.action]
  if (!key) return e.action
  if (e.action === 'rate') return t(key, { n: String(e.data?.rating ?? '') })
  if (e.data?.selfHandled && e.action === 'handle') return t('m.tl.selfHandled')
  return t(key)
}
