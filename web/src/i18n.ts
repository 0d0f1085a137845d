/**
 * A tiny i18n: one reactive locale for the whole page ('zh' by default, persisted in localStorage) and `t(key)`
 * over the dictionaries in locales/ (one file per feature, zh and en side by side). Domain vocabularies (categories, statuses, levels) come from shared/domain and are
 * looked up with `name({ zh, en })`.
 */
import { computed, ref, watch } from 'vue'
import * as common from './locales/common.ts'
import * as dispatch from './locales/dispatch.ts'
import * as mobile from './locales/mobile.ts'
import * as wall from './locales/wall.ts'

export type Locale = 'zh' | 'en'
export const LOCALES: readonly Locale[] = ['zh', 'en']

const zh = { ...common.zh, ...wall.zh, ...dispatch.zh, ...mobile.zh }

export type MessageKey = keyof typeof zh

const en: Record<MessageKey, string> = { ...common.en, ...wall.en, ...dispatch.en, ...mobile.en }

const MESSAGES: Record<Locale, Record<MessageKey, string>> = { zh, en }
const STORAGE_KEY = 'gridcommand.locale'

function initialLocale(): Locale {
  try {
    const saved = localStorage.getItem(STORAGE_KEY)
    if (saved === 'zh' || saved === 'en') return saved
  } catch {
    // storage disabled (private mode, file://): fall back to the default
  }
  return 'zh'
}

const locale = ref<Locale>(initialLocale())

function applyDocumentLang(l: Locale): void {
  if (typeof document !== 'undefined') document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en'
}
applyDocumentLang(locale.value)

watch(locale, (l) => {
  applyDocumentLang(l)
  try {
    localStorage.setItem(STORAGE_KEY, l)
  } catch {
    // not persisted; the switch still works for this page
  }
})

/** Translates `key`, replacing `{name}` placeholders with `params`. Reactive: reads the current locale. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  let s = MESSAGES[locale.value][key] ?? key
  if (params) for (const [k, v] of Object.entries(params)) s = s.replaceAll(`{${k}}`, String(v))
  return s
}

/** Picks the current locale's entry of a bilingual name from shared/domain ({ zh, en }). */
export function name(n: { zh: string; en: string } | undefined, fallback = ''): string {
  return n ? n[locale.value] : fallback
}

export function setLocale(l: Locale): void {
  locale.value = l
}

export function toggleLocale(): void {
  locale.value = locale.value === 'zh' ? 'en' : 'zh'
}

export function useI18n() {
  return {
    locale: computed(() => locale.value),
    t,
    name,
    setLocale,
    toggleLocale,
  }
}
