/**
 * DOM content for the map's popup and tooltip (built with textContent: case text is user input).
 */
import { STATUS_NAMES } from '../../../shared/domain/case-status.ts'
import { categoryInfo } from '../../../shared/domain/categories.ts'
import type { Case } from '../../../shared/schemas/case.ts'
import { name, t, useI18n } from '../i18n.ts'
import { formatAgo, formatTime } from '../lib/format.ts'
import { UNKNOWN_CATEGORY_COLOR } from './layers/cases.ts'

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  e.className = className
  if (text !== undefined) e.textContent = text
  return e
}

function row(label: string, value: Node | string): HTMLElement {
  const r = el('div', 'gc-case-popup__row')
  r.append(el('span', 'gc-case-popup__label', label))
  const v = el('span', 'gc-case-popup__value')
  v.append(value)
  r.append(v)
  return r
}

/** Region chain, district first: "金东区 › 金东区第86网格". */
export function regionChain(c: Case): string {
  return c.regions.map((r) => r.name).join(' › ')
}

export function casePopupContent(c: Case, nowMs: number = Date.now()): HTMLElement {
  const root = el('div', 'gc-case-popup')
  root.dataset.caseId = c.id
  root.append(el('div', 'gc-case-popup__code', c.code))

  const info = categoryInfo(c.category)
  const chip = el('span', 'gc-case-popup__chip', name(info, c.category))
  chip.style.background = info?.color ?? UNKNOWN_CATEGORY_COLOR
  root.append(row(t('case.category'), chip))
  root.append(row(t('case.status'), name(STATUS_NAMES[c.status], c.status)))
  root.append(row(t('case.region'), regionChain(c)))
  const ago = formatAgo(c.reportedAt, nowMs)
  const when = useI18n().locale.value === 'zh' ? `${formatTime(c.reportedAt, nowMs)}（${ago}）` : `${formatTime(c.reportedAt, nowMs)} (${ago})`
  root.append(row(t('case.time'), when))
  root.append(row(t('case.description'), el('span', 'gc-case-popup__desc', c.description)))
  return root
}
