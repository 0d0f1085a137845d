/**
 * Drill-down and dispatcher workspace (issue #8) strings, zh-CN and English. `en` is typed by the keys of `zh`, so a key missing in English fails the type
 * check. i18n.ts merges every file in this folder; each feature keeps its strings in its own file.
 */
export const zh = {} as const

export const en: Record<keyof typeof zh, string> = {}
