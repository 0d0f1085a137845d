/**
 * Command-center wall (issue #7: panels, layers, tour, alerts) strings, zh-CN and English. `en` is typed by the keys of `zh`, so a key missing in English fails the type
 * check. i18n.ts merges every file in this folder; each feature keeps its strings in its own file.
 */
export const zh = {} as const

export const en: Record<keyof typeof zh, string> = {}
