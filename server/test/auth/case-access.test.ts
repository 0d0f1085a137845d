import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CASE_ACTIONS, type CaseAction } from '../../../shared/domain/case-lifecycle.ts'
import { CASE_STATUSES } from '../../../shared/domain/case-status.ts'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import { CASE_ACCESS, rolesFor } from '../../src/auth/case-access.ts'
import { ROLES, type Role } from '../../src/auth/roles.ts'
import { DEMO_USERS } from '../../src/db/seed-users.ts'
import type { Db, DbMode } from '../../src/db/types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { parseCsv } from '../../../test/support/csv.ts'
import { bearer, DEMO_USER_OF as AS, signIn, TEST_SECRET } from './support.ts'

/**
 * The access matrix of the case routes (issue #6): every registered route under /api/cases × every role × a case
 * inside and one outside the caller's reach → the expected status, with real tokens of the seeded demo users on a
 * server in AUTH_MODE=token. The expectations below are written out independently of auth/case-access.ts (a test
 * checks the two agree), and a case route without an entry here fails the coverage test.
 *
 * Actions are sent WITHOUT a version: a caller the rules let through gets 428 version_required (the permission
 * checks come first), so the matrix changes no case; the loop test at the end does the real thing.
 */


/** Who may take each action on a case within their reach (the case is reported by them for a resident, assigned to them for a grid worker). */
const MAY_ACT: Record<CaseAction, Role[]> = {
  register: ['admin', 'dispatcher'],
  reject: ['admin', 'dispatcher'],
  dispatch: ['admin', 'dispatcher'],
  reassign: ['admin', 'dispatcher'],
  accept: ['admin', 'grid_worker'],
  handle: ['admin', 'grid_worker'],
  verify: ['admin', 'leader', 'inspector'],
  send_back: ['admin', 'leader', 'inspector'],
  close: ['admin', 'dispatcher'],
  rate: ['admin', 'resident'],
  request_reopen: ['admin', 'resident'],
  reopen: ['admin', 'dispatcher'],
  escalate: ['admin', 'dispatcher', 'leader'],
  merge: ['admin', 'dispatcher'],
  note: ['admin', 'dispatcher', 'leader', 'inspector', 'grid_worker', 'resident'],
}

type Where = 'in' | 'out'
type Expect = (role: Role, where: Where) => number

/** admin and commander (no scope region) reach every case; everyone else nothing of the "out" case. */
const reaches = (role: Role, where: Where) => where === 'in' || role === 'admin' || role === 'commander'
const read: Expect = (role, where) => (reaches(role, where) ? 200 : 404)
const act = (a: CaseAction): Expect => (role, where) => (!reaches(role, where) ? 404 : MAY_ACT[a].includes(role) ? 428 : 403)

const MAY_SEE_CANDIDATES: Role[] = ['admin', 'commander', 'dispatcher', 'leader']
const candidates: Expect = (role, where) => (!reaches(role, where) ? 404 : MAY_SEE_CANDIDATES.includes(role) ? 200 : 403)

/** The matrix: route ("METHOD url" as registered) → expected status per role and case. */
const MATRIX: Record<string, Expect> = {
  'POST /api/cases': () => 201, // anyone reports, anywhere
  'GET /api/cases': () => 200, // the list is scoped, not refused (tested below)
  'HEAD /api/cases': () => 200,
  'GET /api/cases/:id': read,
  'HEAD /api/cases/:id': read,
  'POST /api/cases/:id/actions/:action': () => 404, // an unknown action
  // Possible duplicates before reporting: public, answered to everyone (what it shows is tested in nearby.test.ts).
  'GET /api/cases/nearby': () => 200,
  'HEAD /api/cases/nearby': () => 200,
  // "Me too": any signed-in caller who could find the case (both are street lights: public, so everyone could). The
  // sample stands at the other fixture case, kilometres away: 422 too_far, so the matrix adds no follower
  // (supplements.test.ts does the real thing).
  'POST /api/cases/:id/supplements': () => 422,
  // Issue #8. Candidates (worker positions, camera streams): staff who steer cases, on a case they can read.
  'GET /api/cases/:id/candidates': candidates,
  'HEAD /api/cases/:id/candidates': candidates,
  // Bulk escalation of the one case, without a version: 200 with a per-case result (428 in reach, 404 out of it) for
  // roles that may escalate at all; 403 for the others, before any case is looked at.
  'POST /api/cases/actions/bulk': (role) => (MAY_ACT.escalate.includes(role) ? 200 : 403),
  ...Object.fromEntries(CASE_ACTIONS.map((a) => [`POST /api/cases/:id/actions/${a}`, act(a)])),
}
/** Anonymous callers in AUTH_MODE=token: 401 everywhere but intake and the nearby lookup. */
const anonymous = (route: string) => (route === 'POST /api/cases' ? 201 : route.endsWith(' /api/cases/nearby') ? 200 : 401)

const REPORT = { category: 'public_facilities.street_light', description: '路灯不亮（权限矩阵）' }

function bodyFor(action: string, otherCase: string): Record<string, unknown> {
  switch (action) {
    case 'reject':
    case 'reassign':
    case 'send_back':
    case 'reopen':
    case 'request_reopen':
    case 'escalate':
      return { reason: '测试' }
    case 'handle':
    case 'note':
      return { note: '测试' }
    case 'rate':
      return { rating: 5 }
    case 'merge':
      return { into: otherCase }
    default:
      return {}
  }
}

interface Signed {
  token: string
  scopeRegionId: string | null
  workerId: string | null
}

interface Fixture {
  app: AppInstance
  db: Db
  users: Map<string, Signed>
  /** Points inside the grids of worker-chengdong, worker-chengzhong and worker-duohu. */
  points: Record<'chengdong' | 'chengzhong' | 'duohu', { lon: number; lat: number }>
  /** In 城东 (worker-chengdong's grid), reported by resident-zhang, assigned to worker-chengdong: within everyone's reach. */
  inCase: string
  /** In 金东区 多湖, reported by resident-li, assigned to worker-duohu: out of every scoped demo user's reach above. */
  outCase: string
  /** In 城中 (the same district, another street), reported by resident-li, assigned to worker-chengdong. */
  awayCase: string
  /** In worker-chengdong's grid, reported by resident-li, assigned to nobody. */
  gridCase: string
}

async function pointIn(db: Db, regionId: string) {
  const { rows } = await db.query<{ lon: number; lat: number }>(
    `SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(geom) AS p FROM regions WHERE id = $1) s`,
    [regionId],
  )
  return rows[0]
}

function fixture(mode: DbMode): Fixture {
  const f = { users: new Map() } as Fixture
  beforeAll(async () => {
    f.db = await testDb(mode)
    f.app = await buildApp({ db: f.db, auth: { mode: 'token', secret: TEST_SECRET, addressLimit: { max: 10_000, windowSeconds: 60 } } })
    await f.app.ready()
    for (const u of DEMO_USERS) {
      const t = await signIn(f.app, u.username)
      f.users.set(u.username, { token: t.accessToken, scopeRegionId: t.user.scopeRegionId as string | null, workerId: t.user.workerId as string | null })
    }
    const grid = (u: string) => f.users.get(u)!.scopeRegionId!
    f.points = {
      chengdong: await pointIn(f.db, grid('worker-chengdong')),
      chengzhong: await pointIn(f.db, grid('worker-chengzhong')),
      duohu: await pointIn(f.db, grid('worker-duohu')),
    }
    const report = async (as: string, at: { lon: number; lat: number }, assignee: string | null) => {
      const res = await f.app.inject({ method: 'POST', url: '/api/cases', headers: bearer(f.users.get(as)!.token), payload: { ...REPORT, ...at } })
      expect(res.statusCode, res.body).toBe(201)
      const id = res.json().id as string
      // Assigned by hand: the matrix needs the assignee, not the path there (the loop test walks it).
      if (assignee) await f.db.query('UPDATE cases SET assignee_id = $2 WHERE id = $1', [id, f.users.get(assignee)!.workerId])
      return id
    }
    f.inCase = await report('resident-zhang', f.points.chengdong, 'worker-chengdong')
    f.outCase = await report('resident-li', f.points.duohu, 'worker-duohu')
    f.awayCase = await report('resident-li', f.points.chengzhong, 'worker-chengdong')
    f.gridCase = await report('resident-li', f.points.chengdong, null)
  })
  afterAll(() => f.app?.close())
  return f
}

function requestFor(f: Fixture, route: string, caseId: string, where: Where) {
  const [method, url] = route.split(' ') as ['GET' | 'HEAD' | 'POST', string]
  const action = /\/actions\/([a-z_:]+)$/.exec(url)?.[1]
  const payload =
    url === '/api/cases/actions/bulk'
      ? { action: 'escalate', reason: '测试', items: [{ id: caseId }] }
      : url === '/api/cases'
      ? method === 'POST'
        ? { ...REPORT, ...(where === 'in' ? f.points.chengdong : f.points.duohu) }
        : undefined
      : action
        ? bodyFor(action, caseId === f.inCase ? f.gridCase : f.inCase)
        : url.endsWith('/supplements')
          ? { ...(where === 'in' ? f.points.duohu : f.points.chengdong), note: '我也看到了' }
          : undefined
  const query = url === '/api/cases/nearby' ? `?lon=${f.points.chengdong.lon}&lat=${f.points.chengdong.lat}` : ''
  return { method, url: url.replace(':id', caseId).replace(':action', 'no_such_action') + query, payload }
}

const caseRoutes = (app: AppInstance) => [...new Set(app.registeredRoutes.filter((r) => r.url.startsWith('/api/cases')).map((r) => `${r.method} ${r.url}`))]

describe.each(DB_MODES)('case access matrix (%s)', (mode) => {
  const f = fixture(mode)

  it('has an entry for every registered case route, and none for a route that does not exist', () => {
    const routes = caseRoutes(f.app)
    expect(routes.length).toBeGreaterThanOrEqual(CASE_ACTIONS.length + 4)
    expect(routes.filter((r) => !(r in MATRIX)), 'case routes without a matrix entry').toEqual([])
    expect(Object.keys(MATRIX).filter((r) => !routes.includes(r)), 'matrix entries without a route').toEqual([])
  })

  it('agrees with the rule table of auth/case-access.ts', () => {
    for (const a of CASE_ACTIONS) expect([...rolesFor(a)].sort(), a).toEqual([...MAY_ACT[a]].sort())
    expect(rolesFor('read').sort()).toEqual([...ROLES].sort())
    expect(rolesFor('candidates').sort()).toEqual([...MAY_SEE_CANDIDATES].sort())
    expect(Object.keys(CASE_ACCESS).sort()).toEqual([...ROLES].sort())
  })

  it('every route × every role × a case inside and outside their reach: the expected status, 0 unauthorized successes', async () => {
    const wrong: string[] = []
    let unauthorizedSuccesses = 0
    let checked = 0
    for (const route of caseRoutes(f.app)) {
      const expected = MATRIX[route]
      if (!expected) continue // reported by the coverage test
      for (const role of ROLES) {
        for (const where of ['in', 'out'] as const) {
          const res = await f.app.inject({ ...requestFor(f, route, where === 'in' ? f.inCase : f.outCase, where), headers: bearer(f.users.get(AS[role])!.token) })
          const want = expected(role, where)
          checked++
          if (res.statusCode !== want) wrong.push(`${route} as ${role} on the ${where} case: ${res.statusCode} ${res.body.slice(0, 160)}, expected ${want}`)
          if (res.statusCode < 300 && want >= 300) unauthorizedSuccesses++
          if (want === 404 && !route.startsWith('HEAD') && route !== 'POST /api/cases/:id/actions/:action') {
            // Out of reach reads exactly like a case that does not exist.
            expect(res.json(), route).toEqual({ error: 'case_not_found', message: `no case ${f.outCase}` })
          }
          if (want === 403 && !route.startsWith('HEAD')) expect(res.json().error).toBe('forbidden')
        }
      }
    }
    expect(wrong).toEqual([])
    expect(unauthorizedSuccesses).toBe(0)
    expect(checked).toBe(Object.keys(MATRIX).length * ROLES.length * 2)
  })

  it('anonymous: 401 on every case route but intake and the nearby lookup', async () => {
    const wrong: string[] = []
    for (const route of caseRoutes(f.app)) {
      for (const where of ['in', 'out'] as const) {
        const res = await f.app.inject(requestFor(f, route, where === 'in' ? f.inCase : f.outCase, where))
        if (res.statusCode !== anonymous(route)) wrong.push(`${route} (${where}): ${res.statusCode}, expected ${anonymous(route)}`)
        if (res.statusCode === 401 && route.startsWith('GET')) expect(res.json()).toMatchObject({ error: 'unauthenticated' })
      }
    }
    expect(wrong).toEqual([])
  })

  it('bulk actions: each case answered by its own reach, and no role gets past the gate it lacks', async () => {
    const bulk = (user: string, ids: string[]) =>
      f.app.inject({ method: 'POST', url: '/api/cases/actions/bulk', headers: bearer(f.users.get(user)!.token), payload: { action: 'escalate', reason: '测试', items: ids.map((id) => ({ id })) } })
    const leader = await bulk('leader-chengdong', [f.inCase, f.outCase])
    expect(leader.statusCode).toBe(200)
    expect(leader.json().results.map((r: any) => [r.status, r.error])).toEqual([[428, 'version_required'], [404, 'case_not_found']])
    // The 404 of a case out of reach reads like a missing one, and carries nothing of the case.
    expect(leader.json().results[1]).toEqual({ id: f.outCase, ok: false, status: 404, error: 'case_not_found', message: `no case ${f.outCase}` })
    for (const user of ['commander', 'inspector-chengdong', 'worker-chengdong', 'resident-li']) expect((await bulk(user, [f.inCase])).statusCode, user).toBe(403)
    const dispatch = await f.app.inject({
      method: 'POST', url: '/api/cases/actions/bulk', headers: bearer(f.users.get('leader-chengdong')!.token),
      payload: { action: 'dispatch', department: 'gas', items: [{ id: f.inCase }] },
    })
    expect(dispatch.statusCode).toBe(403)
  })

  it('a missing case and a case out of reach answer the same 404', async () => {
    const missing = '00000000-0000-4000-8000-000000000000'
    const token = f.users.get('leader-chengdong')!.token
    for (const path of ['', '/actions/verify', '/actions/note']) {
      const post = path !== ''
      const req = (id: string) =>
        f.app.inject({ method: post ? 'POST' : 'GET', url: `/api/cases/${id}${path}`, headers: bearer(token), payload: post ? { note: 'x' } : undefined })
      const [a, b] = [await req(missing), await req(f.outCase)]
      expect([a.statusCode, b.statusCode]).toEqual([404, 404])
      expect(b.json().message.replace(f.outCase, '<id>')).toBe(a.json().message.replace(missing, '<id>'))
      expect(b.json().error).toBe(a.json().error)
    }
  })

  it('finer reach: grid, assignment and own reports', async () => {
    const status = async (user: string, caseId: string, action?: CaseAction) => {
      const res = action
        ? await f.app.inject({ method: 'POST', url: `/api/cases/${caseId}/actions/${action}`, headers: bearer(f.users.get(user)!.token), payload: bodyFor(action, f.outCase) })
        : await f.app.inject({ method: 'GET', url: `/api/cases/${caseId}`, headers: bearer(f.users.get(user)!.token) })
      return res.statusCode
    }
    // A grid worker: their grid's unassigned case — read, accept (the claim), note; handle only what is theirs.
    expect(await status('worker-chengdong', f.gridCase)).toBe(200)
    expect(await status('worker-chengdong', f.gridCase, 'accept')).toBe(428)
    expect(await status('worker-chengdong', f.gridCase, 'handle')).toBe(403)
    // A case assigned to them in another street: theirs all the same.
    expect(await status('worker-chengdong', f.awayCase)).toBe(200)
    expect(await status('worker-chengdong', f.awayCase, 'handle')).toBe(428)
    expect(await status('leader-chengdong', f.awayCase)).toBe(404)
    expect(await status('leader-chengzhong', f.awayCase, 'verify')).toBe(428)
    expect(await status('dispatcher-wucheng', f.awayCase, 'dispatch')).toBe(428)
    expect(await status('dispatcher-jindong', f.awayCase)).toBe(404)
    // Another grid worker of the same street does not reach the case of worker-chengdong's grid.
    if (f.users.get('worker-chengdong-2')!.scopeRegionId !== f.users.get('worker-chengdong')!.scopeRegionId) {
      expect(await status('worker-chengdong-2', f.inCase)).toBe(404)
      expect(await status('worker-chengdong-2', f.inCase, 'accept')).toBe(404)
    }
    // Residents: their own reports only, whoever reported the case next door.
    expect(await status('resident-li', f.inCase)).toBe(404)
    expect(await status('resident-li', f.gridCase)).toBe(200)
    expect(await status('resident-li', f.gridCase, 'rate')).toBe(428)
    expect(await status('resident-zhang', f.gridCase)).toBe(404)
    // The inspector of 城东: verifies and sends back in their street, nothing next door, steers nothing.
    expect(await status('inspector-chengdong', f.gridCase, 'verify')).toBe(428)
    expect(await status('inspector-chengdong', f.gridCase, 'send_back')).toBe(428)
    expect(await status('inspector-chengdong', f.gridCase, 'dispatch')).toBe(403)
    expect(await status('inspector-chengdong', f.awayCase)).toBe(404)
    expect(await status('inspector-chengdong', f.awayCase, 'verify')).toBe(404)
    // The other district's dispatcher and leader: nothing of 城东; their own district, yes.
    expect(await status('dispatcher-jindong', f.inCase)).toBe(404)
    expect(await status('leader-duohu', f.inCase, 'escalate')).toBe(404)
    expect(await status('leader-duohu', f.outCase, 'escalate')).toBe(428)
    expect(await status('worker-duohu', f.outCase, 'handle')).toBe(428)
    // Merging into a case the caller cannot read: as if it did not exist.
    const merge = await f.app.inject({
      method: 'POST',
      url: `/api/cases/${f.inCase}/actions/merge`,
      headers: { ...bearer(f.users.get('dispatcher-wucheng')!.token), 'if-match': '"1"' },
      payload: { into: f.outCase },
    })
    expect(merge.statusCode, merge.body).toBe(422)
    expect(merge.json()).toMatchObject({ error: 'invalid_merge', message: `body.into: no case ${f.outCase}` })
  })

  it('data fields: the chief\'s phone and the members of a region only for staff whose scope holds it', async () => {
    const grids = { chengdong: f.users.get('worker-chengdong')!.scopeRegionId!, duohu: f.users.get('worker-duohu')!.scopeRegionId! }
    const wrong: string[] = []
    for (const u of DEMO_USERS) {
      const me = f.users.get(u.username)!
      for (const grid of Object.values(grids)) {
        const res = await f.app.inject({ method: 'GET', url: `/api/regions/${grid}`, headers: bearer(me.token) })
        expect(res.statusCode).toBe(200)
        const p = res.json() as { chain: Array<{ id: string }>; staff: { chief: { phone: string | null } | null }; members: unknown[] | null; performance: unknown }
        expect(p.staff.chief, `grid ${grid} has a chief`).not.toBeNull()
        const unscoped = me.scopeRegionId === null && (u.role === 'admin' || u.role === 'commander')
        const holds = u.role !== 'resident' && (unscoped || p.chain.some((r) => r.id === me.scopeRegionId))
        const sees = { phone: p.staff.chief!.phone !== null, members: p.members !== null, performance: p.performance !== null }
        if (sees.phone !== holds || sees.members !== holds || sees.performance !== holds) {
          wrong.push(`${u.username} on ${grid}: sees ${JSON.stringify(sees)}, expected ${holds}`)
        }
      }
    }
    expect(wrong).toEqual([])
    // Anonymous callers (AUTH_MODE=token lets them read the public card): no phone either.
    const anon = await f.app.inject({ method: 'GET', url: `/api/regions/${grids.chengdong}` })
    expect(anon.json().staff.chief.phone).toBeNull()
  })

  it('targets of actions: a dispatch names a worker within the caller\'s reach; cross-district help only from the city level, and logged', async () => {
    const tok = (u: string) => bearer(f.users.get(u)!.token)
    const created = await f.app.inject({ method: 'POST', url: '/api/cases', headers: tok('resident-zhang'), payload: { ...REPORT, ...f.points.chengdong } })
    let c = created.json() as { id: string; version: number }
    const act = (user: string, action: CaseAction, body: Record<string, unknown>) =>
      f.app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/${action}`, headers: { ...tok(user), 'if-match': `"${c.version}"` }, payload: body })
    const reg = await act('dispatcher-wucheng', 'register', {})
    expect(reg.statusCode, reg.body).toBe(200)
    c = reg.json()
    // 婺城区's dispatcher cannot send a 婺城 case to a worker of 金东区: 422 naming the field, nothing written.
    const away = await act('dispatcher-wucheng', 'dispatch', { assigneeId: f.users.get('worker-duohu')!.workerId })
    expect(away.statusCode, away.body).toBe(422)
    expect(away.json()).toMatchObject({ error: 'assignee_out_of_reach', field: 'assigneeId' })
    const still = await f.app.inject({ method: 'GET', url: `/api/cases/${c.id}`, headers: tok('admin') })
    expect(still.json()).toMatchObject({ version: c.version, status: 'registered', assigneeId: null })
    // A worker of another street of the same district is in the dispatcher's reach.
    const near = await act('dispatcher-wucheng', 'dispatch', { assigneeId: f.users.get('worker-chengzhong')!.workerId })
    expect(near.statusCode, near.body).toBe(200)
    c = near.json()
    // Reassigning across the district line: refused for the district dispatcher, taken from the city (admin), and the
    // timeline says it was cross-district help.
    const re = await act('dispatcher-wucheng', 'reassign', { assigneeId: f.users.get('worker-duohu')!.workerId, reason: '支援' })
    expect(re.statusCode).toBe(422)
    const city = await act('admin', 'reassign', { assigneeId: f.users.get('worker-duohu')!.workerId, reason: '跨区支援' })
    expect(city.statusCode, city.body).toBe(200)
    const detail = (await f.app.inject({ method: 'GET', url: `/api/cases/${c.id}`, headers: tok('admin') })).json() as { timeline: Array<{ action: string; data?: Record<string, unknown> }> }
    const last = detail.timeline.filter((e) => e.action === 'reassign').at(-1)!
    expect(last.data).toMatchObject({ crossDistrict: { from: '330702', to: '330703' } })
    const first = detail.timeline.find((e) => e.action === 'dispatch')!
    expect(first.data?.crossDistrict).toBeUndefined()
  })

  it('the list of every demo user holds only what they may read, filtered in the query', async () => {
    const all = `status=${CASE_STATUSES.join(',')}&limit=20000`
    for (const u of DEMO_USERS) {
      const me = f.users.get(u.username)!
      const res = await f.app.inject({ method: 'GET', url: `/api/cases?${all}`, headers: bearer(me.token) })
      expect(res.statusCode, res.body).toBe(200)
      const cases = res.json().cases as Array<{ id: string; reporter: string | null; assigneeId: string | null; regions: Array<{ id: string }> }>
      const actor = me.workerId ?? u.username
      const underScope = (c: (typeof cases)[number]) => me.scopeRegionId !== null && c.regions.some((r) => r.id === me.scopeRegionId)
      // Cases they added themselves to (supplements, in other suites on this database) read like their own reports.
      const { rows: follows } = await f.db.query<{ id: string }>('SELECT case_id::text AS id FROM case_followers WHERE actor = $1', [actor])
      const followed = new Set(follows.map((r) => r.id))
      const own = (c: (typeof cases)[number]) => c.reporter === actor || followed.has(c.id)
      const mayRead = (c: (typeof cases)[number]) => {
        switch (u.role) {
          case 'admin':
          case 'commander':
            return me.scopeRegionId === null || underScope(c)
          case 'dispatcher':
          case 'leader':
          case 'inspector':
            return underScope(c) || own(c)
          case 'grid_worker':
            return underScope(c) || c.assigneeId === me.workerId || own(c)
          case 'resident':
            return own(c)
        }
      }
      const leaked = cases.filter((c) => !mayRead(c)).map((c) => c.id)
      expect(leaked, `${u.username} sees cases out of reach`).toEqual([])
      const ids = new Set(cases.map((c) => c.id))
      const expectIn = {
        'worker-chengdong': [f.inCase, f.awayCase, f.gridCase],
        'resident-zhang': [f.inCase],
        'resident-li': [f.outCase, f.awayCase, f.gridCase],
        'leader-chengdong': [f.inCase, f.gridCase],
        'inspector-chengdong': [f.inCase, f.gridCase],
        'dispatcher-wucheng': [f.inCase, f.awayCase, f.gridCase],
        'dispatcher-jindong': [f.outCase],
        'worker-duohu': [f.outCase],
        admin: [f.inCase, f.outCase, f.awayCase, f.gridCase],
        commander: [f.inCase, f.outCase, f.awayCase, f.gridCase],
      }[u.username]
      for (const id of expectIn ?? []) expect(ids.has(id), `${u.username} misses ${id}`).toBe(true)
      for (const id of [f.inCase, f.outCase, f.awayCase, f.gridCase]) {
        if (!(expectIn ?? []).includes(id) && expectIn) expect(ids.has(id), `${u.username} sees ${id}`).toBe(false)
      }
    }
    // The region filter cannot widen it: asking for another district gives only what they reported there themselves.
    const res = await f.app.inject({ method: 'GET', url: `/api/cases?${all}&region=330703`, headers: bearer(f.users.get('dispatcher-wucheng')!.token) })
    const others = (res.json().cases as Array<{ id: string; reporter: string }>).filter((c) => c.reporter !== 'dispatcher-wucheng')
    expect(others.map((c) => c.id)).toEqual([])
  })

  it('exports (GET /api/exports/cases) hold exactly what the same list holds for every demo user: the reach is in the query', async () => {
    const all = `status=${CASE_STATUSES.join(',')}&limit=20000`
    for (const u of DEMO_USERS) {
      const headers = bearer(f.users.get(u.username)!.token)
      const list = (await f.app.inject({ method: 'GET', url: `/api/cases?${all}`, headers })).json().cases as Array<{ id: string; code: string }>
      const geo = await f.app.inject({ method: 'GET', url: `/api/exports/cases?${all}&format=geojson`, headers })
      expect(geo.statusCode, geo.body).toBe(200)
      expect((geo.json().features as Array<{ id: string }>).map((x) => x.id), u.username).toEqual(list.map((c) => c.id))
      const csv = await f.app.inject({ method: 'GET', url: `/api/exports/cases?${all}`, headers })
      expect(csv.statusCode).toBe(200)
      const codes = parseCsv(csv.body.slice(1)).slice(1).map((row) => row[0])
      expect(codes, u.username).toEqual(list.map((c) => c.code))
    }
    // Anonymous: 401, like the list.
    expect((await f.app.inject({ method: 'GET', url: '/api/exports/cases' })).statusCode).toBe(401)
  })

  it('the loop with tokens: each step by the role the table gives it; the detail offers each caller their own actions', async () => {
    const tok = (u: string) => bearer(f.users.get(u)!.token)
    const created = await f.app.inject({ method: 'POST', url: '/api/cases', headers: tok('resident-zhang'), payload: { ...REPORT, ...f.points.chengdong } })
    expect(created.statusCode, created.body).toBe(201)
    let c = created.json() as { id: string; version: number; status: string }
    const step = async (user: string, action: CaseAction, body: Record<string, unknown> = {}) => {
      const res = await f.app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/${action}`, headers: { ...tok(user), 'if-match': `"${c.version}"` }, payload: body })
      expect(res.statusCode, `${user} ${action}: ${res.body}`).toBe(200)
      c = res.json()
    }
    const offered = async (user: string) => (await f.app.inject({ method: 'GET', url: `/api/cases/${c.id}`, headers: tok(user) })).json().allowedActions
    expect(await offered('commander')).toEqual([])
    expect(await offered('dispatcher-wucheng')).toEqual(['register', 'reject', 'escalate', 'merge', 'note'])
    expect(await offered('resident-zhang')).toEqual(['note'])
    await step('dispatcher-wucheng', 'register')
    await step('dispatcher-wucheng', 'dispatch', { assigneeId: f.users.get('worker-chengdong')!.workerId })
    expect(await offered('worker-chengdong')).toEqual(['accept', 'note'])
    await step('worker-chengdong', 'accept')
    await step('worker-chengdong', 'handle', { note: '已修复' })
    expect(await offered('inspector-chengdong')).toEqual(['verify', 'send_back', 'note'])
    await step('inspector-chengdong', 'send_back', { reason: '现场仍有问题' })
    await step('worker-chengdong', 'handle', { note: '已彻底修复' })
    await step('inspector-chengdong', 'verify')
    await step('dispatcher-wucheng', 'close')
    expect(await offered('resident-zhang')).toEqual(['rate', 'note'])
    await step('resident-zhang', 'rate', { rating: 1 })
    expect(await offered('resident-zhang')).toEqual(['request_reopen', 'note'])
    expect(await offered('dispatcher-wucheng')).toEqual(['reopen', 'note'])
    await step('resident-zhang', 'request_reopen', { reason: '路灯还是不亮' })
    expect(c).toMatchObject({ status: 'rated', reopenRequestedAt: expect.any(String) })
    expect(await offered('resident-zhang')).toEqual(['note'])
    await step('dispatcher-wucheng', 'reopen', { reason: '群众不满意' })
    expect(c).toMatchObject({ status: 'in_progress', reopenRequestedAt: null })
  })
})

describe.each(DB_MODES)('case access in AUTH_MODE=dev-header (%s)', (mode) => {
  let app: AppInstance
  beforeAll(async () => {
    app = await buildApp({ db: await testDb(mode), auth: { secret: TEST_SECRET, addressLimit: { max: 10_000, windowSeconds: 60 } } })
    await app.ready()
  })
  afterAll(() => app?.close())

  it('scopes a caller with a token just the same; without one (X-Actor or nobody) it answers as before', async () => {
    const zhang = await signIn(app, 'resident-zhang')
    const li = await signIn(app, 'resident-li')
    const created = await app.inject({ method: 'POST', url: '/api/cases', headers: bearer(li.accessToken), payload: { ...REPORT, lon: 119.644077, lat: 29.0709078 } })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json().id
    expect((await app.inject({ method: 'GET', url: `/api/cases/${id}`, headers: bearer(zhang.accessToken) })).statusCode).toBe(404)
    expect((await app.inject({ method: 'GET', url: `/api/cases/${id}`, headers: bearer(li.accessToken) })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: `/api/cases/${id}` })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: `/api/cases/${id}`, headers: { 'x-actor': 'anyone' } })).statusCode).toBe(200)
    const list = await app.inject({ method: 'GET', url: '/api/cases?limit=5' })
    expect(list.statusCode).toBe(200)
  })
})
