import { describe, expect, it } from 'vitest'
import { inScope, scopeFilterSql } from '../../src/auth/guards.ts'
import type { AuthUser, Role } from '../../src/auth/roles.ts'
import { DEMO_USERS, seedDemoUsers } from '../../src/db/seed-users.ts'
import type { Db, DbMode } from '../../src/db/types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { createUser } from './support.ts'

/** The user as the hook would see it, read from users/workers/regions like auth/service.ts does. */
async function userOf(db: Db, username: string): Promise<AuthUser> {
  const { rows } = await db.query<{ id: string; role: Role; worker_id: string | null; scope_region_id: string | null; scope_path: string | null }>(
    `SELECT u.id, u.role, u.worker_id, coalesce(w.region_id, u.scope_region_id) AS scope_region_id, r.path::text AS scope_path
       FROM users u LEFT JOIN workers w ON w.id = u.worker_id LEFT JOIN regions r ON r.id = coalesce(w.region_id, u.scope_region_id)
      WHERE u.username = $1`,
    [username],
  )
  const r = rows[0]
  return { id: r.id, username, role: r.role, workerId: r.worker_id, scopeRegionId: r.scope_region_id, scopePath: r.scope_path, sessionId: '00000000-0000-0000-0000-000000000000' }
}

async function regionIds(db: Db, user: AuthUser, extraWhere = 'TRUE', extraParams: unknown[] = []): Promise<string[]> {
  const f = scopeFilterSql(user, 'r.path', extraParams.length + 1)
  const { rows } = await db.query<{ id: string }>(`SELECT r.id FROM regions r WHERE ${extraWhere} AND ${f.sql} ORDER BY r.id`, [...extraParams, ...f.params])
  return rows.map((r) => r.id)
}

describe.each(DB_MODES)('region scoping on real SQL (%s)', (mode: DbMode) => {
  it('a street leader reaches exactly their street and everything under it', async () => {
    const db = await testDb(mode)
    const leader = await userOf(db, 'leader-chengdong')
    expect(leader.scopePath).toBe('330702.330702001')
    expect(scopeFilterSql(leader, 'r.path')).toEqual({ sql: 'r.path <@ $1::ltree', params: ['330702.330702001'] })
    const got = await regionIds(db, leader)
    // Independent truth: the demo region's ids extend their parent's id (330702001 → 330702001008 → …G01 → …G01M01).
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM regions WHERE id LIKE '330702001%' ORDER BY id`)
    expect(got).toEqual(rows.map((r) => r.id))
    expect(got.length).toBeGreaterThan(50)
    expect(new Set(got.map((id) => id.length))).toEqual(new Set([9, 12, 15, 18])) // street, communities, grids, micro-grids
  })

  it('numbers its parameter after the caller’s own', async () => {
    const db = await testDb(mode)
    const leader = await userOf(db, 'leader-taoyuan')
    const f = scopeFilterSql(leader, 'r.path', 3)
    expect(f.sql).toBe('r.path <@ $3::ltree')
    const grids = await regionIds(db, leader, 'r.level = $1 AND r.id <> $2', [4, 'nothing'])
    expect(grids.length).toBeGreaterThan(0)
    expect(grids.every((id) => id.startsWith('330702001008G'))).toBe(true)
  })

  it('a grid worker reaches their grid and its micro-grids; a dispatcher their district; the commander everything', async () => {
    const db = await testDb(mode)
    const worker = await userOf(db, 'worker-chengdong')
    const own = await regionIds(db, worker)
    expect(own[0]).toBe(worker.scopeRegionId)
    expect(own.slice(1).every((id) => id.startsWith(`${worker.scopeRegionId}M`))).toBe(true)

    const dispatcher = await userOf(db, 'dispatcher-jindong')
    const district = await regionIds(db, dispatcher)
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM regions WHERE path <@ '330703'`)
    expect(district).toHaveLength(rows[0].n)
    expect(district.every((id) => id.startsWith('330703'))).toBe(true)

    const commander = await userOf(db, 'commander')
    expect(scopeFilterSql(commander, 'r.path', 5)).toEqual({ sql: 'TRUE', params: [] })
    const all = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM regions`)
    expect(await regionIds(db, commander)).toHaveLength(all.rows[0].n)
  })

  it('a resident reaches nothing by region; neither does a scoped role whose scope is missing', async () => {
    const db = await testDb(mode)
    const resident = await userOf(db, 'resident-zhang')
    expect(scopeFilterSql(resident, 'c.region_path')).toEqual({ sql: 'FALSE', params: [] })
    expect(await regionIds(db, resident)).toEqual([])
    const broken: AuthUser = { ...(await userOf(db, 'leader-duohu')), scopeRegionId: null, scopePath: null }
    expect(await regionIds(db, broken)).toEqual([])
  })

  it('works on the cases table (region_path) too', async () => {
    const db = await testDb(mode)
    const leader = await userOf(db, 'leader-chengdong')
    const f = scopeFilterSql(leader, 'c.region_path')
    const { rows } = await db.query<{ inside: number; outside: number }>(
      `SELECT count(*) FILTER (WHERE ${f.sql})::int AS inside, count(*) FILTER (WHERE NOT (${f.sql}))::int AS outside FROM cases c`,
      f.params,
    )
    const { rows: truth } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM cases WHERE street_id = '330702001'`)
    expect(rows[0].inside).toBe(truth[0].n)
  })

  it('inScope (one loaded row) agrees with the SQL on every region', async () => {
    const db = await testDb(mode)
    const { rows } = await db.query<{ id: string; path: string }>(`SELECT id, path::text AS path FROM regions`)
    for (const name of ['leader-chengdong', 'leader-taoyuan', 'inspector-chengdong', 'worker-duohu', 'dispatcher-wucheng', 'commander', 'resident-li']) {
      const user = await userOf(db, name)
      const sql = new Set(await regionIds(db, user))
      for (const r of rows) expect(inScope(user, r.path), `${name} ${r.id}`).toBe(sql.has(r.id))
    }
  })

  it('demo users: every one seeded, grid workers linked to real workers, and a second seed adds nothing', async () => {
    const db = await testDb(mode)
    const { rows } = await db.query<{ username: string; role: string; scope_region_id: string | null; worker_id: string | null }>(
      `SELECT username, role, scope_region_id, worker_id FROM users WHERE username = ANY($1) ORDER BY username`,
      [DEMO_USERS.map((u) => u.username)],
    )
    expect(rows).toHaveLength(DEMO_USERS.length)
    // The worker ids README.md lists.
    const workers = Object.fromEntries(rows.filter((r) => r.worker_id).map((r) => [r.username, r.worker_id]))
    expect(workers).toEqual({ 'worker-chengdong': 'W000002', 'worker-chengdong-2': 'W000003', 'worker-chengzhong': 'W001010', 'worker-duohu': 'W012576' })
    expect(await seedDemoUsers(db)).toEqual({ created: [], skipped: [] })
  })

  it('the users table refuses a leader or an inspector without a scope, a resident with one, and a username that is a worker id', async () => {
    const db = await testDb(mode)
    await expect(createUser(db, 'leader')).rejects.toThrow(/check/i)
    await expect(createUser(db, 'inspector')).rejects.toThrow(/check/i)
    await expect(createUser(db, 'dispatcher')).rejects.toThrow(/check/i)
    await expect(createUser(db, 'no_such_role' as 'leader', { scope: '330702' })).rejects.toThrow(/check/i)
    expect(await createUser(db, 'inspector', { scope: '330702001008' })).toMatch(/^t-inspector-/)
    await expect(createUser(db, 'resident', { scope: '330702' })).rejects.toThrow(/check/i)
    await expect(createUser(db, 'grid_worker')).rejects.toThrow(/check/i)
    await expect(
      db.query(`INSERT INTO users (username, role, password_hash) VALUES ('w000123', 'resident', 'x')`),
    ).rejects.toThrow(/worker id/)
  })
})

describe('scopeFilterSql arguments', () => {
  const user: AuthUser = { id: 'x', username: 'u', role: 'leader', scopeRegionId: 'a', scopePath: 'a', workerId: null, sessionId: 's' }
  it('takes a column name only — never anything that could carry SQL', () => {
    expect(() => scopeFilterSql(user, 'path; DROP TABLE users')).toThrow(/column/)
    expect(() => scopeFilterSql(user, "r.path OR true")).toThrow(/column/)
    expect(() => scopeFilterSql(user, 'r.path', 0)).toThrow(/firstParam/)
  })
  it('inScope does not take a sibling with a longer label for a child', () => {
    const street: AuthUser = { ...user, scopePath: '330702.330702001' }
    expect(inScope(street, '330702.330702001')).toBe(true)
    expect(inScope(street, '330702.330702001.330702001008')).toBe(true)
    expect(inScope(street, '330702.3307020010')).toBe(false)
    expect(inScope(street, '330702')).toBe(false)
    expect(inScope(street, null)).toBe(false)
  })
})
