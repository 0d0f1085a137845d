/**
 * What the field app's suites share: an app on the run's database with a controllable clock (AUTH_MODE=token, so
 * every request is somebody's), the demo users' tokens, photos uploaded as one of them, and points inside regions.
 */
import { afterAll, beforeAll, expect } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import { DEMO_USERS } from '../../src/db/seed-users.ts'
import type { Db, DbMode } from '../../src/db/types.ts'
import { testDb } from '../../../test/support/db.ts'
import { bearer, signIn, TEST_SECRET } from '../auth/support.ts'
import * as img from '../fixtures/images.ts'

export interface SignedUser {
  token: string
  /** Who they are in cases: the worker id of a grid worker, else the username. */
  actor: string
  scopeRegionId: string | null
  workerId: string | null
}

export interface FieldHarness {
  app: AppInstance
  db: Db
  clock: { now: Date }
  users: Map<string, SignedUser>
  /** Authorization header of a demo user. */
  as(username: string): Record<string, string>
  user(username: string): SignedUser
}

/** The tokens are signed at the harness clock's time: moved back or more than 15 minutes on, they are refused. */
export function fieldHarness(mode: DbMode, now = new Date()): FieldHarness {
  const h = { clock: { now }, users: new Map() } as FieldHarness
  h.as = (u) => bearer(h.user(u).token)
  h.user = (u) => {
    const found = h.users.get(u)
    if (!found) throw new Error(`no demo user ${u}`)
    return found
  }
  beforeAll(async () => {
    h.db = await testDb(mode)
    h.app = await buildApp({ db: h.db, now: () => h.clock.now, auth: { mode: 'token', secret: TEST_SECRET, addressLimit: { max: 10_000, windowSeconds: 60 } } })
    await h.app.ready()
    for (const u of DEMO_USERS) {
      const t = await signIn(h.app, u.username)
      const workerId = t.user.workerId as string | null
      h.users.set(u.username, { token: t.accessToken, actor: workerId ?? u.username, scopeRegionId: t.user.scopeRegionId as string | null, workerId })
    }
  })
  afterAll(() => h.app?.close())
  return h
}

/** A point inside a region (ST_PointOnSurface), and one `dx` metres east of it. */
export async function pointIn(db: Db, regionId: string, dxMetres = 0): Promise<{ lon: number; lat: number }> {
  const { rows } = await db.query<{ lon: number; lat: number }>(
    `SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(geom) AS p FROM regions WHERE id = $1) s`,
    [regionId],
  )
  if (!rows[0]) throw new Error(`no region ${regionId}`)
  const { lon, lat } = rows[0]
  return { lon: lon + dxMetres / (111_320 * Math.cos((lat * Math.PI) / 180)), lat }
}

/** Uploads one JPEG as the holder of `headers` and returns its id. */
export async function uploadPhoto(app: AppInstance, headers: Record<string, string>): Promise<string> {
  const body = img.multipart([{ name: 'photos', filename: 'p.jpg', type: 'image/jpeg', data: await img.jpeg() }])
  const res = await app.inject({ method: 'POST', url: '/api/photos', payload: body.payload, headers: { ...body.headers, ...headers } })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().photos[0].id as string
}
