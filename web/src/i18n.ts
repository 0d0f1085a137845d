/**
 * A tiny i18n: one reactive locale for the whole page ('zh' by default, persisted in localStorage) and `t(key)`
 * over the dictionary below. Domain vocabularies (categories, statuses, levels) come from shared/domain and are
 * looked up with `name({ zh, en })`.
 */
import { computed, ref, watch } from 'vue'

export type Locale = 'zh' | 'en'
export const LOCALES: readonly Locale[] = ['zh', 'en']

const zh = {
  'app.title': '网格化社会治理指挥中心',
  'conn.connecting': '连接中',
  'conn.online': '在线',
  'conn.offline': '离线',
  'lang.switch': 'EN',
  'lang.switchTitle': 'Switch to English',
  'kpi.openCases': '在办案件',
  'kpi.unit': '件',
  'list.title': '最新上报',
  'list.empty': '暂无案件',
  'case.code': '编号',
  'case.category': '类别',
  'case.status': '状态',
  'case.region': '区域',
  'case.time': '上报时间',
  'case.description': '描述',
  'time.justNow': '刚刚',
  'time.secondsAgo': '{n} 秒前',
  'time.minutesAgo': '{n} 分钟前',
  'time.hoursAgo': '{n} 小时前',
  'time.daysAgo': '{n} 天前',
  'map.error': '地图无法加载（WebGL 不可用）',
  'map.legend': '案件类别',
  'load.error': '数据加载失败，正在重试…',
  'auth.signIn': '登录',
  'auth.signOut': '退出',
  'auth.signOutTitle': '退出登录',
  'auth.title': '登录指挥中心',
  'auth.subtitle': '登录后，大屏与下钻视图打开在您所辖的区域',
  'auth.username': '用户名',
  'auth.password': '密码',
  'auth.submit': '登录',
  'auth.submitting': '正在登录…',
  'auth.cancel': '暂不登录，继续浏览',
  'auth.required': '请输入用户名和密码',
  'auth.badCredentials': '用户名或密码错误',
  'auth.throttled': '尝试次数过多，请 {n} 秒后再试',
  'auth.throttledMin': '尝试次数过多，请 {n} 分钟后再试',
  'auth.throttledLater': '尝试次数过多，请稍后再试',
  'auth.network': '无法连接服务器，请稍后再试',
  'auth.server': '登录失败：服务器错误，请稍后再试',
  'auth.expired': '登录已失效，请重新登录',
  'auth.demoTitle': '演示账号',
  'auth.demoHint': '点击填入 · 密码均为 {password}',
  'auth.everything': '全域',
  'role.admin': '系统管理员',
  'role.commander': '指挥长',
  'role.dispatcher': '调度员',
  'role.leader': '负责人',
  'role.grid_worker': '网格员',
  'role.resident': '居民',
} as const

export type MessageKey = keyof typeof zh

const en: Record<MessageKey, string> = {
  'app.title': 'GridCommand Command Center',
  'conn.connecting': 'Connecting',
  'conn.online': 'Online',
  'conn.offline': 'Offline',
  'lang.switch': '中文',
  'lang.switchTitle': '切换到中文',
  'kpi.openCases': 'Open cases',
  'kpi.unit': '',
  'list.title': 'Latest reports',
  'list.empty': 'No cases',
  'case.code': 'Code',
  'case.category': 'Category',
  'case.status': 'Status',
  'case.region': 'Region',
  'case.time': 'Reported',
  'case.description': 'Description',
  'time.justNow': 'just now',
  'time.secondsAgo': '{n} s ago',
  'time.minutesAgo': '{n} min ago',
  'time.hoursAgo': '{n} h ago',
  'time.daysAgo': '{n} d ago',
  'map.error': 'The map cannot load (WebGL unavailable)',
  'map.legend': 'Categories',
  'load.error': 'Loading failed, retrying…',
  'auth.signIn': 'Sign in',
  'auth.signOut': 'Sign out',
  'auth.signOutTitle': 'Sign out',
  'auth.title': 'Sign in to the command center',
  'auth.subtitle': 'Signed in, the wall and the drill-down views open on your own jurisdiction',
  'auth.username': 'Username',
  'auth.password': 'Password',
  'auth.submit': 'Sign in',
  'auth.submitting': 'Signing in…',
  'auth.cancel': 'Continue without signing in',
  'auth.required': 'Enter your username and password',
  'auth.badCredentials': 'Wrong username or password',
  'auth.throttled': 'Too many attempts: try again in {n} s',
  'auth.throttledMin': 'Too many attempts: try again in {n} min',
  'auth.throttledLater': 'Too many attempts: try again later',
  'auth.network': 'Cannot reach the server: try again later',
  'auth.server': 'Sign-in failed: server error, try again later',
  'auth.expired': 'Your session has ended: please sign in again',
  'auth.demoTitle': 'Demo users',
  'auth.demoHint': 'Click to fill in · password {password}',
  'auth.everything': 'All regions',
  'role.admin': 'Administrator',
  'role.commander': 'Commander',
  'role.dispatcher': 'Dispatcher',
  'role.leader': 'Leader',
  'role.grid_worker': 'Grid worker',
  'role.resident': 'Resident',
}

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
