import { hashPassword } from '../auth/passwords.ts'
import type { Role } from '../auth/roles.ts'
import { seedDemoOpen311Key } from '../repos/open311-keys.ts'
import type { Db } from './types.ts'

/**
 * Demo users for every role over the demo region (README "Demo users"). DEMO ONLY: they share one published
 * password; production starts with SEED_DEMO_USERS=0. Idempotent: only users missing by username are created (an
 * existing user — its password, role or scope changed by hand — is left alone), so it runs at every start.
 */
export const DEMO_PASSWORD = 'gridcommand-demo'

export interface DemoUser {
  username: string
  displayName: string
  role: Role
  /** The scope region (dispatcher, leader, inspector; optional for admin/commander). */
  scope?: string
  /** Grid workers: the nth grid worker (by worker id) whose grid lies under this region. */
  worker?: { under: string; nth: number }
}

export const DEMO_USERS: readonly DemoUser[] = [
  { username: 'admin', displayName: '系统管理员', role: 'admin' },
  { username: 'commander', displayName: '指挥中心值班长', role: 'commander' },
  { username: 'dispatcher-wucheng', displayName: '婺城区调度员', role: 'dispatcher', scope: '330702' },
  { username: 'dispatcher-jindong', displayName: '金东区调度员', role: 'dispatcher', scope: '330703' },
  { username: 'leader-chengdong', displayName: '城东街道负责人', role: 'leader', scope: '330702001' },
  { username: 'leader-chengzhong', displayName: '城中街道负责人', role: 'leader', scope: '330702002' },
  { username: 'leader-duohu', displayName: '多湖街道负责人', role: 'leader', scope: '330703001' },
  { username: 'leader-taoyuan', displayName: '桃园社区书记', role: 'leader', scope: '330702001008' },
  { username: 'inspector-chengdong', displayName: '城东街道核查员', role: 'inspector', scope: '330702001' },
  { username: 'worker-chengdong', displayName: '', role: 'grid_worker', worker: { under: '330702001', nth: 0 } },
  { username: 'worker-chengdong-2', displayName: '', role: 'grid_worker', worker: { under: '330702001', nth: 1 } },
  { username: 'worker-chengzhong', displayName: '', role: 'grid_worker', worker: { under: '330702002', nth: 0 } },
  { username: 'worker-duohu', displayName: '', role: 'grid_worker', worker: { under: '330703001', nth: 0 } },
  { username: 'resident-zhang', displayName: '张女士', role: 'resident' },
  { username: 'resident-li', displayName: '李先生', role: 'resident' },
]

export interface SeedUsersResult {
  created: string[]
  /** Demo users whose region or worker the database lacks (another region was imported instead of the demo one). */
  skipped: string[]
}

/**
 * Creates the demo users the database does not have yet, and the demo Open311 api_key (`o311-demo-key`); call after
 * seedDemoRegions.
 */
export async function seedDemoUsers(db: Db, users: readonly DemoUser[] = DEMO_USERS, password = DEMO_PASSWORD): Promise<SeedUsersResult> {
  await seedDemoOpen311Key(db)
  const { rows: existing } = await db.query<{ name: string }>(`SELECT lower(username) AS name FROM users WHERE lower(username) = ANY($1::text[])`, [
    users.map((u) => u.username.toLowerCase()),
  ])
  const have = new Set(existing.map((r) => r.name))
  const missing = users.filter((u) => !have.has(u.username.toLowerCase()))
  const result: SeedUsersResult = { created: [], skipped: [] }
  if (!missing.length) return result

  const rows: Array<{ u: DemoUser; scope: string | null; workerId: string | null; name: string }> = []
  for (const u of missing) {
    if (u.worker) {
      const { rows: w } = await db.query<{ id: string; name: string }>(
        `SELECT w.id, w.name FROM workers w JOIN regions g ON g.id = w.region_id
          WHERE w.role = 'grid_worker' AND g.path <@ (SELECT path FROM regions WHERE id = $1)
          ORDER BY w.id OFFSET $2 LIMIT 1`,
        [u.worker.under, u.worker.nth],
      )
      if (w[0]) rows.push({ u, scope: null, workerId: w[0].id, name: u.displayName || w[0].name })
      else result.skipped.push(u.username)
    } else if (u.scope) {
      const { rows: r } = await db.query('SELECT 1 FROM regions WHERE id = $1', [u.scope])
      if (r.length) rows.push({ u, scope: u.scope, workerId: null, name: u.displayName })
      else result.skipped.push(u.username)
    } else rows.push({ u, scope: null, workerId: null, name: u.displayName })
  }
  const hashes = await Promise.all(rows.map(() => hashPassword(password)))
  await db.transaction(async (tx) => {
    for (const [i, r] of rows.entries()) {
      // Another process may be seeding at the same moment: whoever is second inserts nothing.
      const { rowCount } = await tx.query(
        `INSERT INTO users (username, display_name, role, scope_region_id, worker_id, password_hash)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [r.u.username, r.name || null, r.u.role, r.scope, r.workerId, hashes[i]],
      )
      if (rowCount) result.created.push(r.u.username)
    }
  })
  return result
}
