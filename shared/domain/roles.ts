/** The roles of GridCommand (issue #6), one per user; server/src/auth/roles.ts says what each may do. */
export const ROLES = ['admin', 'commander', 'dispatcher', 'leader', 'grid_worker', 'resident'] as const
export type Role = (typeof ROLES)[number]
