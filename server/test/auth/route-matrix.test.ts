import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CASE_ACTIONS } from '../../../shared/domain/case-lifecycle.ts'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import { ROLES, type Role } from '../../src/auth/roles.ts'
import { DEMO_USERS } from '../../src/db/seed-users.ts'
import { DEMO_OPEN311_KEY } from '../../src/repos/open311-keys.ts'
import type { Db, DbMode } from '../../src/db/types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { bearer, DEMO_USER_OF as AS, signIn, TEST_SECRET } from './support.ts'
import * as img from '../fixtures/images.ts'

/**
 * The whole-API access matrix (issue #6): every route the app registers (`app.registeredRoutes`) × every role and an
 * anonymous caller, on a server in AUTH_MODE=token with real tokens of the seeded demo users.
 *
 * Each route has ONE entry saying who may use it:
 * - `public`, with the reason it is public — nobody is refused for who they are (never 401/403);
 * - `signed_in` — anonymous 401, every role served;
 * - a list of roles — anonymous 401, those roles served (not 401/403), every other role 403;
 * - `cases` — the case routes, whose matrix (role × case inside/outside reach) is case-access.test.ts.
 * "Served" means the identity checks let the caller through: the answer may still be 404 or 422 for the sample
 * request. The count that must be 0: a 2xx answer to a caller the entry does not allow.
 *
 * A route without an entry fails the coverage test — a new route has to be classified here before it ships.
 * HEAD routes (added by Fastify for every GET) take their GET's entry and are requested as HEAD.
 */

type Caller = Role | 'anonymous'
const CALLERS: Caller[] = ['anonymous', ...ROLES]

interface Ctx {
  /**
   * worker-chengdong's worker id: the grid worker of the matrix themselves, and in the scope of dispatcher-wucheng
   * and leader-chengdong — so the write routes are asked about "self" for the grid worker.
   */
  workerId: string
  /** A camera inside dispatcher-wucheng's district. */
  cameraId: string
  /** A point in worker-chengdong's grid. */
  point: { lon: number; lat: number }
}

type Access = { public: string } | 'signed_in' | readonly Role[] | 'cases'
interface Entry {
  access: Access
  /** For a public route whose sample request carries its own credential: the status every caller gets. */
  status?: number
  /** The sample request (default: the route's url with no body). */
  req?: (ctx: Ctx) => Omit<InjectOptions, 'method'>
}

const STAFF: readonly Role[] = ['admin', 'commander', 'dispatcher', 'leader', 'inspector', 'grid_worker']
const UUID = '00000000-0000-4000-8000-000000000000'
const REF = 'reference data, the same for everyone'
const OGC = 'OGC API Features / tiles: region boundaries and camera points (no stream addresses) for any GIS client'
const DOCS = 'the OpenAPI document and its page: what the API accepts and answers, no data'

const MATRIX: Record<string, Entry> = {
  'GET /api/health': { access: { public: 'load balancers and monitors ask without credentials' } },
  'POST /api/auth/login': {
    access: { public: 'signing in is how one gets a token' },
    req: () => ({ payload: { username: 'resident-li', password: 'gridcommand-demo' } }),
  },
  'POST /api/auth/refresh': {
    access: { public: 'the refresh token in the body is the credential; a bogus one here: 401 invalid_refresh_token for all' },
    status: 401,
    req: () => ({ payload: { refreshToken: 'rt_not-a-token' } }),
  },
  'POST /api/auth/logout': {
    access: { public: 'ends the session the refresh token or Bearer names; nothing to protect (a bogus token here)' },
    req: () => ({ payload: { refreshToken: 'rt_not-a-token' } }),
  },
  'GET /api/auth/me': { access: 'signed_in' },
  'GET /api/auth/demo': { access: { public: 'the sign-in page lists the demo accounts a demo server seeded (404 on a production server)' } },

  'GET /api/regions': { access: { public: REF } },
  'GET /api/regions/:id': {
    access: { public: 'the grid card: boundaries, counts and who the chief is, as posted on every grid notice board (the chief’s phone only for staff whose scope holds the region)' },
    req: () => ({ url: '/api/regions/330702' }),
  },
  'GET /api/regions/resolve': { access: { public: 'point → region chain, reference data' }, req: (c) => ({ url: `/api/regions/resolve?lon=${c.point.lon}&lat=${c.point.lat}` }) },
  'POST /api/regions/resolve': { access: { public: 'point → region chain, reference data' }, req: (c) => ({ payload: { points: [[c.point.lon, c.point.lat]] } }) },
  'POST /api/regions/import': {
    access: ['admin'],
    req: () => ({ url: '/api/regions/import?dryRun=true', payload: { type: 'FeatureCollection', features: [] } }),
  },
  'GET /api/categories': { access: { public: REF } },
  'GET /api/departments': { access: { public: REF } },

  'POST /api/cases': { access: 'cases' },
  'GET /api/cases': { access: 'cases' },
  'GET /api/cases/:id': { access: 'cases' },
  'GET /api/cases/nearby': {
    access: { public: 'possible duplicates before reporting: open cases near a point, nothing personal; sensitive categories only for staff who may read them (nearby.test.ts)' },
    req: (c) => ({ url: `/api/cases/nearby?lon=${c.point.lon}&lat=${c.point.lat}` }),
  },
  // Scoped like the list (same filter, same reach in the query): case-access.test.ts compares them user by user.
  'GET /api/exports/cases': { access: 'signed_in' },
  'POST /api/cases/:id/actions/:action': { access: 'cases' },
  'POST /api/cases/:id/supplements': { access: 'cases' },
  // Issue #8: the dispatcher's workspace (reach per case, in case-access.test.ts).
  'GET /api/cases/:id/candidates': { access: 'cases' },
  'POST /api/cases/actions/bulk': { access: 'cases' },
  ...Object.fromEntries(CASE_ACTIONS.map((a) => [`POST /api/cases/:id/actions/${a}`, { access: 'cases' } satisfies Entry])),

  'POST /api/photos': {
    access: { public: 'photos go with reports, and anyone may report (anonymous intake); a non-multipart body here: 415' },
    req: () => ({ payload: {} }),
  },
  'GET /api/photos/:id': {
    // Scoped in the query (case reach, or the uploader of an unattached photo): a photo out of reach is a 404 like
    // this unknown id. Anonymous callers get only photos of public-category cases (Open311's media_url), else 401.
    access: 'signed_in',
    req: () => ({ url: `/api/photos/${UUID}` }),
  },

  'POST /api/workers/positions': {
    access: ['admin', 'grid_worker'],
    req: (c) => ({ payload: { positions: [{ workerId: c.workerId, ...c.point }] } }),
  },
  'POST /api/workers/:id/positions': {
    access: ['admin', 'grid_worker'],
    req: (c) => ({ url: `/api/workers/${c.workerId}/positions`, payload: c.point }),
  },
  'POST /api/workers/:id/status': {
    access: ['admin', 'dispatcher', 'grid_worker'],
    req: (c) => ({ url: `/api/workers/${c.workerId}/status`, payload: { status: 'on_duty' } }),
  },
  'GET /api/workers': { access: STAFF },
  'GET /api/workers/live': { access: STAFF },
  'GET /api/workers/nearest': { access: STAFF, req: (c) => ({ url: `/api/workers/nearest?lon=${c.point.lon}&lat=${c.point.lat}` }) },
  'GET /api/workers/:id': { access: STAFF, req: (c) => ({ url: `/api/workers/${c.workerId}` }) },
  'GET /api/workers/:id/track': { access: STAFF, req: (c) => ({ url: `/api/workers/${c.workerId}/track` }) },
  // Patrol check-ins: where a named worker was — written by the worker (their own) or an admin gateway, read by staff.
  'POST /api/checkins': {
    access: ['admin', 'grid_worker'],
    req: (c) => ({ payload: { ...c.point, kind: 'place', workerId: c.workerId } }),
  },
  'GET /api/checkins': { access: STAFF },
  'GET /api/cameras': { access: STAFF },
  'POST /api/cameras/:id/status': {
    access: ['admin', 'dispatcher'],
    req: (c) => ({ url: `/api/cameras/${c.cameraId}/status`, payload: { status: 'online' } }),
  },
  'GET /api/stats/loop': { access: STAFF },
  'GET /api/stats/overview': { access: STAFF },
  'GET /api/stats/hourly': { access: STAFF },
  'GET /api/stats/ranking': { access: STAFF, req: () => ({ url: '/api/stats/ranking?by=street' }) },
  'GET /api/stats/heat': { access: STAFF },

  'GET /ogc': { access: { public: OGC } },
  'GET /ogc/': { access: { public: OGC } },
  'GET /ogc/api': { access: { public: OGC } },
  'GET /ogc/conformance': { access: { public: OGC } },
  'GET /ogc/collections': { access: { public: OGC } },
  'GET /ogc/collections/:collectionId': { access: { public: OGC }, req: () => ({ url: '/ogc/collections/districts' }) },
  'GET /ogc/collections/:collectionId/items': { access: { public: OGC }, req: () => ({ url: '/ogc/collections/districts/items?limit=1' }) },
  'GET /ogc/collections/:collectionId/items/:featureId': { access: { public: OGC }, req: () => ({ url: '/ogc/collections/districts/items/330702' }) },
  'GET /ogc/*': { access: { public: 'the 404 of unknown OGC paths' }, req: () => ({ url: '/ogc/nothing-here' }) },
  'GET /tiles/:layer/:z/:x/:y.mvt': { access: { public: OGC }, req: () => ({ url: '/tiles/districts/0/0/0.mvt' }) },
  'GET /tiles/*': { access: { public: 'the 404 of unknown tile paths' }, req: () => ({ url: '/tiles/nothing' }) },

  'GET /open311/v2/discovery.json': { access: { public: 'Open311 discovery' } },
  'GET /open311/v2/services.json': { access: { public: 'Open311 service list (the categories)' } },
  'GET /open311/v2/services/:file': { access: { public: 'Open311 service definition' }, req: () => ({ url: '/open311/v2/services/sanitation.garbage.json' }) },
  'GET /open311/v2/requests.json': { access: { public: 'Open311 public reads: no personal data, sensitive categories redacted (tested below)' } },
  'GET /open311/v2/requests/:file': { access: { public: 'Open311 public reads, as above' }, req: () => ({ url: '/open311/v2/requests/GC20240101999999.json' }) },
  'GET /open311/v2/tokens/:file': { access: { public: 'Open311 token lookup' }, req: () => ({ url: '/open311/v2/tokens/abc.json' }) },
  'POST /open311/v2/requests.json': {
    access: { public: "Open311 intake: the credential is the app's api_key (tested in open311.test.ts), not who the user is" },
    req: () => ({ payload: { api_key: DEMO_OPEN311_KEY, service_code: 'aliens' } }),
  },
  'POST /api/open311/keys': {
    access: ['admin'],
    req: () => ({ payload: { appName: 'route-matrix' } }),
  },

  ...Object.fromEntries(
    ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY'].map((m) => [
      `${m} /open311/*`,
      { access: { public: 'the Open311 error of unknown paths and methods' }, req: () => ({ url: '/open311/nothing' }) } satisfies Entry,
    ]),
  ),
  'GET /api/*': { access: { public: 'the JSON 404 of unknown API paths' }, req: () => ({ url: '/api/no-such-route' }) },

  // The API's documentation (server/src/openapi.ts): the same for everyone, like the API's shape itself.
  'GET /api/docs': { access: { public: DOCS } },
  'GET /api/docs/': { access: { public: DOCS } },
  'GET /api/docs/json': { access: { public: DOCS } },
  'GET /api/docs/yaml': { access: { public: DOCS } },
  'GET /api/docs/static/index.html': { access: { public: DOCS } },
  'GET /api/docs/static/swagger-initializer.js': { access: { public: DOCS } },
  'GET /api/docs/static/*': { access: { public: DOCS }, req: () => ({ url: '/api/docs/static/swagger-ui.css' }) },
}

const routeKey = (r: { method: string; url: string }) => `${r.method} ${r.url}`
/** Every registered route but HEAD, as "METHOD url". */
const registered = (app: AppInstance) => [...new Set(app.registeredRoutes.filter((r) => r.method !== 'HEAD').map(routeKey))]

function allowed(access: Access, caller: Caller): boolean {
  if (access === 'cases') throw new Error('case routes: see case-access.test.ts')
  if (!Array.isArray(access) && typeof access === 'object') return true
  if (caller === 'anonymous') return false
  return access === 'signed_in' || (access as readonly Role[]).includes(caller)
}

interface Fixture {
  app: AppInstance
  db: Db
  tokens: Map<Caller, string>
  ctx: Ctx
  workerIds: Map<string, string>
}

function fixture(mode: DbMode): Fixture {
  const f = { tokens: new Map(), workerIds: new Map() } as Fixture
  beforeAll(async () => {
    f.db = await testDb(mode)
    f.app = await buildApp({ db: f.db, auth: { mode: 'token', secret: TEST_SECRET, addressLimit: { max: 10_000, windowSeconds: 60 } } })
    await f.app.ready()
    for (const u of DEMO_USERS) {
      const t = await signIn(f.app, u.username)
      if (t.user.workerId) f.workerIds.set(u.username, t.user.workerId as string)
      const role = (Object.entries(AS) as Array<[Role, string]>).find(([, name]) => name === u.username)?.[0]
      if (role) f.tokens.set(role, t.accessToken)
    }
    const workerId = f.workerIds.get('worker-chengdong')!
    const { rows: pts } = await f.db.query<{ lon: number; lat: number }>(
      `SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(r.geom) AS p FROM regions r JOIN workers w ON w.region_id = r.id WHERE w.id = $1) s`,
      [workerId],
    )
    const { rows: cams } = await f.db.query<{ id: string }>(`SELECT id FROM cameras WHERE region_path <@ '330702'::ltree ORDER BY id LIMIT 1`)
    f.ctx = {
      workerId,
      cameraId: cams[0]?.id ?? 'no-camera',
      point: pts[0],
    }
  })
  afterAll(() => f.app?.close())
  return f
}

describe.each(DB_MODES)('whole-API route matrix (%s)', (mode) => {
  const f = fixture(mode)
  const as = (caller: Caller) => (caller === 'anonymous' ? {} : bearer(f.tokens.get(caller)!))

  it('has an entry for every registered route, and none for a route that does not exist', () => {
    const routes = registered(f.app)
    expect(routes.length).toBeGreaterThan(40)
    expect(routes.filter((r) => !(r in MATRIX)), 'routes without a matrix entry: classify them in route-matrix.test.ts').toEqual([])
    expect(Object.keys(MATRIX).filter((r) => !routes.includes(r)), 'matrix entries without a route').toEqual([])
    // Every HEAD route is the twin of a GET route, which has the entry.
    const heads = f.app.registeredRoutes.filter((r) => r.method === 'HEAD').map((r) => `GET ${r.url}`)
    expect(heads.filter((r) => !(r in MATRIX))).toEqual([])
  })

  it('every route × every role and anonymous: 0 unauthorized successes, identity refused exactly where the table says', async () => {
    const wrong: string[] = []
    let unauthorizedSuccesses = 0
    let checked = 0
    const routes = f.app.registeredRoutes.map(routeKey)
    for (const route of [...new Set(routes)]) {
      const [method, url] = route.split(' ') as [InjectOptions['method'], string]
      const entry = MATRIX[method === 'HEAD' ? `GET ${url}` : route]
      if (!entry || entry.access === 'cases') continue // coverage test / case-access.test.ts
      for (const caller of CALLERS) {
        const sample = entry.req?.(f.ctx) ?? {}
        const res = await f.app.inject({ method, url, ...sample, headers: { ...sample.headers, ...as(caller) } })
        checked++
        const ok = allowed(entry.access, caller)
        const success = res.statusCode >= 200 && res.statusCode < 300
        if (!ok && success) unauthorizedSuccesses++
        const want = entry.status !== undefined ? String(entry.status) : ok ? 'not 401/403' : caller === 'anonymous' ? '401' : '403'
        const pass =
          entry.status !== undefined
            ? res.statusCode === entry.status
            : ok
              ? res.statusCode !== 401 && res.statusCode !== 403
              : res.statusCode === (caller === 'anonymous' ? 401 : 403)
        if (!pass) wrong.push(`${route} as ${caller}: ${res.statusCode} ${res.body.slice(0, 140)}, expected ${want}`)
      }
    }
    expect(wrong).toEqual([])
    expect(unauthorizedSuccesses).toBe(0)
    expect(checked).toBeGreaterThan(40 * CALLERS.length)
  })

  it('the grid card is public, the chief’s phone only for staff who signed in', async () => {
    const { rows } = await f.db.query<{ id: string }>(
      `SELECT r.id FROM regions r JOIN workers w ON w.id = r.chief_id WHERE r.level = 4 AND w.phone IS NOT NULL ORDER BY r.id LIMIT 1`,
    )
    const card = async (caller: Caller) => (await f.app.inject({ url: `/api/regions/${rows[0].id}`, headers: as(caller) })).json().staff.chief
    for (const caller of ['anonymous', 'resident'] as const) {
      const chief = await card(caller)
      expect(chief.name).toBeTruthy()
      expect(chief.phone, caller).toBeNull()
    }
    for (const caller of ['dispatcher', 'leader', 'grid_worker', 'commander'] as const) expect((await card(caller)).phone, caller).toMatch(/\d{7,}/)
  })

  it('a grid worker sends only their own positions; a dispatcher may not send any', async () => {
    const other = f.workerIds.get('worker-duohu')!
    const mine = f.ctx.workerId
    const post = (caller: Caller, url: string, payload: Record<string, unknown>) => f.app.inject({ method: 'POST', url, payload, headers: as(caller) })
    expect((await post('grid_worker', `/api/workers/${other}/positions`, f.ctx.point)).statusCode).toBe(403)
    const batch = { positions: [{ workerId: mine, ...f.ctx.point }, { workerId: other, ...f.ctx.point }] }
    expect((await post('grid_worker', '/api/workers/positions', batch)).statusCode).toBe(403)
    expect((await post('dispatcher', `/api/workers/${mine}/positions`, f.ctx.point)).statusCode).toBe(403)
    expect((await post('grid_worker', `/api/workers/${mine}/positions`, f.ctx.point)).statusCode).toBe(200)
  })

  it('worker, camera and stats reads are limited to the scope: outside it answers like missing', async () => {
    const jindong = (await signIn(f.app, 'dispatcher-jindong')).accessToken
    const get = (url: string, token: string) => f.app.inject({ url, headers: bearer(token) })
    // worker-chengdong is in 婺城区, not 金东区.
    const detail = await get(`/api/workers/${f.ctx.workerId}`, jindong)
    expect(detail.statusCode).toBe(404)
    expect(detail.json().error).toBe('worker_not_found')
    expect((await get(`/api/workers/${f.ctx.workerId}/track`, jindong)).statusCode).toBe(404)
    const list = (await get('/api/workers?limit=20000', jindong)).json()
    expect(list.workers.length).toBeGreaterThan(0)
    const { rows } = await f.db.query<{ id: string }>(
      `SELECT w.id FROM workers w JOIN regions r ON r.id = w.region_id WHERE r.path <@ '330703'::ltree`,
    )
    expect(list.workers.map((w: { id: string }) => w.id).sort()).toEqual(rows.map((r) => r.id).sort())
    expect((await get('/api/workers?region=330702', jindong)).json().workers).toEqual([])
    // The wall's live snapshot has the same reach: 金东区's workers with a position, nobody from next door.
    const live = (await get('/api/workers/live', jindong)).json().workers as Array<[string]>
    const { rows: placed } = await f.db.query<{ id: string }>(
      `SELECT w.id FROM workers w JOIN regions r ON r.id = w.region_id WHERE r.path <@ '330703'::ltree AND w.position IS NOT NULL`,
    )
    expect(live.map((x) => x[0]).sort()).toEqual(placed.map((r) => r.id).sort())
    expect((await get('/api/workers/live?region=330702', jindong)).json().workers).toEqual([])
    const cams = (await get('/api/cameras?limit=20000', jindong)).json().cameras as Array<{ regionId: string | null }>
    const { rows: camRows } = await f.db.query(`SELECT id FROM cameras WHERE region_path <@ '330703'::ltree`)
    expect(cams).toHaveLength(camRows.length)
    if (f.ctx.cameraId !== 'no-camera') {
      const res = await f.app.inject({ method: 'POST', url: `/api/cameras/${f.ctx.cameraId}/status`, payload: { status: 'online' }, headers: bearer(jindong) })
      expect(res.statusCode).toBe(404)
    }
    // Stats: a region outside the scope is not found; without a region the figures are the scope's.
    const out = await get('/api/stats/overview?region=330702', jindong)
    expect(out.statusCode).toBe(404)
    expect(out.json().error).toBe('region_not_found')
    const mine = (await get('/api/stats/overview', jindong)).json()
    expect(mine.region?.id).toBe('330703')
    expect((await get('/api/stats/loop?region=330703001', jindong)).statusCode).toBe(200)
    expect((await get('/api/stats/loop?region=330702001', jindong)).statusCode).toBe(404)
  })

  it('Open311 public reads never show personal data; sensitive categories lose description, address, photo and exact position', async () => {
    const post = (fields: Record<string, unknown>) =>
      f.app.inject({ method: 'POST', url: '/open311/v2/requests.json', payload: { api_key: DEMO_OPEN311_KEY, ...fields, lat: f.ctx.point.lat, long: f.ctx.point.lon } })
    const contact = { email: 'zhang@example.com', phone: '13800138000', first_name: '张', last_name: '三' }
    const dispute = await post({ service_code: 'dispute.neighbour', description: '楼上王某某半夜噪音', address_string: '人民路12号3单元501', ...contact })
    expect(dispute.statusCode, dispute.body).toBe(201)
    const light = await post({ service_code: 'public_facilities.street_light', description: '路灯不亮', address_string: '人民路12号门口', ...contact })
    expect(light.statusCode, light.body).toBe(201)
    const read = async (code: string) => {
      const res = await f.app.inject(`/open311/v2/requests/${code}.json`)
      expect(res.statusCode).toBe(200)
      expect(res.body).not.toMatch(/13800138000|zhang@example\.com|张三|reporter/)
      return res.json()[0]
    }
    const d = await read(dispute.json()[0].service_request_id)
    expect(d).toMatchObject({ service_code: 'dispute.neighbour', description: null, status_notes: null, media_url: null })
    expect(d.address).not.toMatch(/人民路/)
    expect(d.lat).toBe(Math.round(f.ctx.point.lat * 100) / 100)
    expect(d.long).toBe(Math.round(f.ctx.point.lon * 100) / 100)
    // The list shows the same redacted record.
    const listed = (await f.app.inject(`/open311/v2/requests.json?service_request_id=${d.service_request_id}`)).json()[0]
    expect(listed).toEqual(d)
    // A public category keeps what the report is about.
    const l = await read(light.json()[0].service_request_id)
    expect(l).toMatchObject({ description: '路灯不亮', address: '人民路12号门口', lat: f.ctx.point.lat, long: f.ctx.point.lon })
  })

  it('photos: attached ones follow the case read rule, unattached ones only their uploader; out of reach is a 404', async () => {
    const upload = async (caller: Caller) => {
      const body = img.multipart([{ name: 'photos', filename: 'p.jpg', type: 'image/jpeg', data: await img.jpeg() }])
      const res = await f.app.inject({ method: 'POST', url: '/api/photos', payload: body.payload, headers: { ...body.headers, ...as(caller) } })
      expect(res.statusCode, res.body).toBe(201)
      return res.json().photos[0].id as string
    }
    const get = (id: string, headers: Record<string, string>) => f.app.inject({ url: `/api/photos/${id}`, headers })
    // Unattached: the uploader only — not even an admin (nothing to read it by until it belongs to a case).
    const loose = await upload('resident')
    expect((await get(loose, as('resident'))).statusCode).toBe(200)
    expect((await get(loose, as('resident'))).headers['cache-control']).toMatch(/^private/)
    for (const c of ['admin', 'dispatcher', 'grid_worker'] as const) expect((await get(loose, as(c))).statusCode, c).toBe(404)
    expect((await get(loose, as('anonymous'))).statusCode).toBe(401)

    // Attached to a resident-zhang report in 城东 of a sensitive category (a dispute).
    const photo = await upload('resident')
    const report = await f.app.inject({
      method: 'POST',
      url: '/api/cases',
      headers: as('resident'),
      payload: { category: 'dispute.neighbour', description: '邻里纠纷（照片范围）', ...f.ctx.point, photos: [photo] },
    })
    expect(report.statusCode, report.body).toBe(201)
    for (const c of ['resident', 'admin', 'commander', 'dispatcher', 'leader', 'grid_worker'] as const) expect((await get(photo, as(c))).statusCode, c).toBe(200)
    const li = (await signIn(f.app, 'resident-li')).accessToken
    const jindong = (await signIn(f.app, 'dispatcher-jindong')).accessToken
    const missing = await get(UUID, bearer(jindong))
    for (const token of [li, jindong]) {
      const res = await get(photo, bearer(token))
      expect(res.statusCode).toBe(404)
      expect(res.json()).toEqual({ ...missing.json(), message: missing.json().message.replace(UUID, photo) })
    }
    // Anonymous (AUTH_MODE=token): a sensitive case's photo is not public.
    expect((await get(photo, as('anonymous'))).statusCode).toBe(401)
    // A public-category case's photo is: Open311 links it as media_url.
    const open = await upload('anonymous')
    const lamp = await f.app.inject({ method: 'POST', url: '/api/cases', payload: { category: 'public_facilities.street_light', description: '路灯（照片）', ...f.ctx.point, photos: [open] } })
    expect(lamp.statusCode, lamp.body).toBe(201)
    expect((await get(open, as('anonymous'))).statusCode).toBe(200)
  })
})
