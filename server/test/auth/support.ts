import { randomBytes } from 'node:crypto'
import { expect } from 'vitest'
import type { AppInstance } from '../../src/app-types.ts'
import { hashPassword } from '../../src/auth/passwords.ts'
import type { Role } from '../../src/auth/roles.ts'
import type { Db } from '../../src/db/types.ts'
import { DEMO_PASSWORD } from '../../src/db/seed-users.ts'

/** A fixed HS256 secret, so that tests can forge tokens with it (and without it). */
export const TEST_SECRET = new TextEncoder().encode('test-secret-for-the-auth-suites-0123456789')

/** One demo user per role (the matrices): the district dispatcher, street leader, inspector and grid worker of 城东, a resident. */
export const DEMO_USER_OF: Record<Role, string> = {
  admin: 'admin',
  commander: 'commander',
  dispatcher: 'dispatcher-wucheng',
  leader: 'leader-chengdong',
  inspector: 'inspector-chengdong',
  grid_worker: 'worker-chengdong',
  resident: 'resident-zhang',
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export async function login(app: AppInstance, username: string, password = DEMO_PASSWORD, remoteAddress = '127.0.0.1') {
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, remoteAddress })
}

/** Signs in and returns the token pair (expects success). */
export async function signIn(app: AppInstance, username: string, password = DEMO_PASSWORD) {
  const res = await login(app, username, password)
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as { accessToken: string; refreshToken: string; expiresIn: number; user: Record<string, unknown> }
}

let hashOnce: Promise<string> | undefined
export const TEST_PASSWORD = 'correct horse battery staple'

/** A user of its own for one test (throttling tests must not lock the shared demo users). */
export async function createUser(db: Db, role: Role, opts: { scope?: string; workerId?: string; prefix?: string } = {}): Promise<string> {
  hashOnce ??= hashPassword(TEST_PASSWORD)
  const username = `${opts.prefix ?? 't'}-${role}-${randomBytes(4).toString('hex')}`
  await db.query(`INSERT INTO users (username, role, scope_region_id, worker_id, password_hash) VALUES ($1, $2, $3, $4, $5)`, [
    username,
    role,
    opts.scope ?? null,
    opts.workerId ?? null,
    await hashOnce,
  ])
  return username
}

export function jwtParts(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } {
  const [h, p, s] = token.split('.')
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), payload: JSON.parse(Buffer.from(p, 'base64url').toString()), signature: s }
}

export const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
