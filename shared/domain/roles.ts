/** The roles of GridCommand, one per user; server/src/auth/roles.ts says what each may do. */
export const ROLES = ['admin', 'commander', 'dispatcher', 'leader', 'inspector', 'grid_worker', 'resident'] as const
export type Role = (typeof ROLES)[number]

export const ROLE_NAMES: Record<Role, { zh: string; en: string }> = {
  admin: { zh: '系统管理员', en: 'Administrator' },
  commander: { zh: '指挥长', en: 'Commander' },
  dispatcher: { zh: '调度员', en: 'Dispatcher' },
  leader: { zh: '负责人', en: 'Leader' },
  inspector: { zh: '核查员', en: 'Inspector' },
  grid_worker: { zh: '网格员', en: 'Grid worker' },
  resident: { zh: '居民', en: 'Resident' },
}
