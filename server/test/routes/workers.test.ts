import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toWgs84 } from '../../../shared/geo/crs.ts'
import type { FrameEvent } from '../../../shared/protocol/events.ts'
import { expandEvent } from '../../../shared/protocol/wire.ts'
import type { WorkerPositionTuple } from '../../../shared/schemas/worker.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { connectClient, startServer, waitFor, type TestClient } from '../../../test/support/server.ts'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db, DbMode } from '../../src/db/types.ts'
import { maintainPositions } from '../../src/repos/workers.ts'

/** Liveness bound for a push, not a speed claim (bench/positions.ts measures latency). */
const PUSH_DEADLINE_MS = 8000
const DAY = 86_400_000

interface Harness {
  app: AppInstance
  db: Db
  clock: { now: Date }
  /** Grid workers not yet used by a test, each with a point inside their grid. */
  pool: Array<{ id: string; grid: string; lon: number; lat: number }>
}

function harness(mode: DbMode): Harness {
  const h = { clock: { now: new Date() }, pool: [] } as unknown as Harness
  beforeAll(async () => {
    h.db = await testDb(mode)
    h.app = await buildApp({ db: h.db, now: () => h.clock.now })
    await h.app.ready()
    // Workers of the tail of the staff list (the patrol tests take grids from the middle), each with a point inside
    // their own grid, and none with a track yet (other suites sharing the database move workers too: the dispatch
    // desk's nearest-worker tests, the simulator's).
    const { rows } = await h.db.query<{ id: string; grid: string; lon: number; lat: number }>(
      `SELECT w.id, w.region_id AS grid, ST_X(p) AS lon, ST_Y(p) AS lat
         FROM workers w JOIN regions r ON r.id = w.region_id, ST_PointOnSurface(r.geom) p
        WHERE w.role = 'grid_worker' AND NOT EXISTS (SELECT 1 FROM worker_positions t WHERE t.worker_id = w.id)
        ORDER BY w.id DESC LIMIT 400`,
    )
    h.pool = rows
  })
  afterAll(() => h.app.close())
  return h
}

const take = (h: Harness, n: number) => h.pool.splice(0, n)

async function post(h: Harness, url: string, payload: unknown, headers: Record<string, string> = {}) {
  const res = await h.app.inject({ method: 'POST', url, payload: payload as object, headers })
  return { status: res.statusCode, body: res.json() }
}

async function get(h: Harness, url: string) {
  const res = await h.app.inject({ method: 'GET', url })
  return { status: res.statusCode, body: res.json() }
}

/** The finest region the resolve API gives for a point, null outside every region. */
async function finest(h: Harness, lon: number, lat: number): Promise<string | null> {
  const res = await get(h, `/api/regions/resolve?lon=${lon}&lat=${lat}`)
  return res.status === 404 ? null : res.body.regions.at(-1).id
}

async function trackCount(db: Db, ids: string[]): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM worker_positions WHERE worker_id = ANY($1::text[])', [ids])
  return rows[0].n
}

async function lastSeen(db: Db, ids: string[]): Promise<Array<string | null>> {
  const { rows } = await db.query<{ t: Date | null }>(
    'SELECT last_seen_at AS t FROM workers WHERE id = ANY($1::text[]) ORDER BY id',
    [ids],
  )
  return rows.map((r) => (r.t === null ? null : new Date(r.t).toISOString()))
}

// ---- sockets: log events arrive inside `events:frame`, for the scope asked with `events:resume` -------------------

/** Calls `cb` for every event of `kind` in the frames the socket receives. */
function onKind<K extends FrameEvent['kind']>(socket: TestClient, kind: K, cb: (e: Extract<FrameEvent, { kind: K }>) => void): void {
  socket.on('events:frame', (frame) => {
    for (const e of frame) if (e.kind === kind) cb(expandEvent(e) as Extract<FrameEvent, { kind: K }>)
  })
}

/** Follows the events of `regions` (null: everything, the wall) from now on. */
async function follow(socket: TestClient, regions: string[] | null): Promise<void> {
  const res = await socket.emitWithAck('events:resume', regions ? { scope: { regions } } : {})
  expect(res, JSON.stringify(res)).toMatchObject({ ok: true })
}

describe.each(DB_MODES)('worker positions (%s)', (mode) => {
  const h = harness(mode)

  it('tags a single position with its finest region, moves the live position and keeps the fix in the track', async () => {
    h.clock.now = new Date()
    const [w] = take(h, 1)
    const res = await post(h, `/api/workers/${w.id}/positions`, { lon: w.lon, lat: w.lat, accuracyM: 8, status: 'on_duty' })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const expected = await finest(h, w.lon, w.lat)
    expect(expected).not.toBeNull()
    expect(res.body).toMatchObject({ workerId: w.id, gridId: expected, outsideCoverage: false, stored: true, live: true, at: h.clock.now.toISOString() })
    expect(res.body.regions.map((r: any) => r.level)).toEqual(res.body.regions.map((_: unknown, i: number) => i + 1))
    expect(res.body.regions.some((r: any) => r.id === w.grid)).toBe(true)

    const worker = (await get(h, `/api/workers/${w.id}`)).body
    expect(worker).toMatchObject({ id: w.id, status: 'on_duty', positionGridId: expected, lastSeenAt: h.clock.now.toISOString() })
    expect(worker.position[0]).toBeCloseTo(w.lon, 9)
    expect(worker.position[1]).toBeCloseTo(w.lat, 9)
    const { rows } = await h.db.query<{ grid_id: string; accuracy_m: number; status: string }>(
      'SELECT grid_id, accuracy_m, status FROM worker_positions WHERE worker_id = $1',
      [w.id],
    )
    expect(rows).toEqual([{ grid_id: expected, accuracy_m: 8, status: 'on_duty' }])

    // A retried upload (same worker, same instant) stores nothing new.
    const again = await post(h, `/api/workers/${w.id}/positions`, { lon: w.lon, lat: w.lat, at: h.clock.now.toISOString() })
    expect(again.body).toMatchObject({ stored: false })
    expect(await trackCount(h.db, [w.id])).toBe(1)
  })

  it('converts GCJ-02 input to WGS84 before tagging and storing', async () => {
    const [w] = take(h, 1)
    const gcj = { lon: w.lon + 0.0049, lat: w.lat - 0.0025 }
    const res = await post(h, `/api/workers/${w.id}/positions`, { ...gcj, crs: 'gcj02' })
    expect(res.status).toBe(200)
    const [lon, lat] = toWgs84(gcj.lon, gcj.lat, 'gcj02')
    expect(res.body.gridId).toBe(await finest(h, lon, lat))
    const worker = (await get(h, `/api/workers/${w.id}`)).body
    expect(worker.position[0]).toBeCloseTo(lon, 9)
    expect(worker.position[1]).toBeCloseTo(lat, 9)
  })

  it('tags a batch through the spatial engine exactly as the resolve API does, outside points stored with a null grid', async () => {
    h.clock.now = new Date()
    const ws = take(h, 60)
    // Half at their grid's inner point, half scattered over (and beyond) the demo region.
    const positions: Array<{ workerId: string; lon: number; lat: number; at?: string }> = ws.map((w, i) =>
      i % 2 === 0
        ? { workerId: w.id, lon: w.lon, lat: w.lat }
        : { workerId: w.id, lon: 119.45 + (((i * 7919) % 1000) / 1000) * 0.45, lat: 28.95 + (((i * 104729) % 1000) / 1000) * 0.3 },
    )
    // Shanghai, outside every region, and the newest fix of ws[1]: its live position.
    positions.push({ workerId: ws[1].id, lon: 121.47, lat: 31.23, at: new Date(h.clock.now.getTime() + 1000).toISOString() })
    const res = await post(h, '/api/workers/positions', { positions })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const resolved = await post(h, '/api/regions/resolve', { points: positions.map((p) => [p.lon, p.lat]) })
    const expected = resolved.body.results.map((chain: any[] | null) => (chain ? chain.at(-1).id : null))
    expect(res.body.grids).toEqual(expected)
    expect(expected.at(-1)).toBeNull()
    expect(res.body).toMatchObject({
      accepted: positions.length,
      stored: positions.length,
      duplicates: 0,
      outsideCoverage: expected.filter((g: string | null) => g === null).length,
      live: ws.length,
      outOfOrder: 0,
    })
    expect(await trackCount(h.db, ws.map((w) => w.id))).toBe(positions.length)
    // The worker whose newest fix lies in Shanghai is seen there, with no grid under it.
    const w1 = (await get(h, `/api/workers/${ws[1].id}`)).body
    expect(w1).toMatchObject({ position: [121.47, 31.23], positionGridId: null })
    const { rows } = await h.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM worker_positions WHERE worker_id = $1 AND grid_id IS NULL AND ST_X(location) = 121.47',
      [ws[1].id],
    )
    expect(rows[0].n).toBe(1)
  })

  it('refuses invalid input with a 400 naming the field, and writes nothing', async () => {
    const ws = take(h, 20)
    const ok = ws.map((w) => ({ workerId: w.id, lon: w.lon, lat: w.lat }))
    const before = await lastSeen(h.db, ws.map((w) => w.id))
    const cases: Array<[unknown, string]> = [
      [{ positions: ok.map((p, i) => (i === 12 ? { ...p, lat: 91 } : p)) }, 'positions[12].lat'],
      [{ positions: ok.map((p, i) => (i === 3 ? { lon: p.lon, lat: p.lat } : p)) }, 'positions[3].workerId'],
      [{ positions: ok.map((p, i) => (i === 5 ? { ...p, speed: 3 } : p)) }, 'positions[5].speed'],
      [{ positions: ok.map((p, i) => (i === 7 ? { ...p, lon: '119.6' } : p)) }, 'positions[7].lon'],
      [{ positions: ok.map((p, i) => (i === 9 ? { ...p, status: 'asleep' } : p)) }, 'positions[9].status'],
      [{ positions: ok.map((p, i) => (i === 2 ? { ...p, at: 'yesterday' } : p)) }, 'positions[2].at'],
      [{ positions: ok.map((p, i) => (i === 4 ? { ...p, at: new Date(Date.now() + 3600_000).toISOString() } : p)) }, 'positions[4].at'],
      [{ positions: ok.map((p, i) => (i === 6 ? { ...p, accuracyM: -1 } : p)) }, 'positions[6].accuracyM'],
      [{ positions: [] }, 'positions'],
      [{ positions: Array.from({ length: 5001 }, () => ok[0]) }, 'positions'],
      [{ positions: ok, crs: 'bd09' }, 'crs'],
    ]
    for (const [body, field] of cases) {
      const res = await post(h, '/api/workers/positions', body)
      expect(res.status, `${field}: ${JSON.stringify(res.body)}`).toBe(400)
      expect(res.body).toMatchObject({ error: 'invalid_request', field })
      expect(res.body.message).toContain(field)
    }
    const single = await post(h, `/api/workers/${ws[0].id}/positions`, { lon: 200, lat: 29 })
    expect(single).toMatchObject({ status: 400, body: { field: 'lon' } })
    expect(await trackCount(h.db, ws.map((w) => w.id))).toBe(0)
    expect(await lastSeen(h.db, ws.map((w) => w.id))).toEqual(before)
  })

  it('refuses a batch naming an unknown worker with a 422 naming it, and writes nothing', async () => {
    const ws = take(h, 5)
    const positions = ws.map((w) => ({ workerId: w.id, lon: w.lon, lat: w.lat }))
    positions.splice(3, 0, { workerId: 'W_NOBODY', lon: ws[0].lon, lat: ws[0].lat })
    const res = await post(h, '/api/workers/positions', { positions })
    expect(res.status).toBe(422)
    expect(res.body).toMatchObject({ error: 'unknown_worker', field: 'positions[3].workerId' })
    expect(res.body.message).toContain('W_NOBODY')
    expect(await trackCount(h.db, ws.map((w) => w.id))).toBe(0)
    const single = await post(h, '/api/workers/W_NOBODY/positions', { lon: ws[0].lon, lat: ws[0].lat })
    expect(single).toMatchObject({ status: 404, body: { error: 'worker_not_found' } })
  })

  it('keeps an out-of-order fix in the track without moving the live position (or status) back', async () => {
    const t = new Date()
    h.clock.now = t
    const [w] = take(h, 1)
    const newer = await post(h, `/api/workers/${w.id}/positions`, { lon: w.lon, lat: w.lat, at: t.toISOString(), status: 'on_duty' })
    expect(newer.body.live).toBe(true)
    const older = await post(h, `/api/workers/${w.id}/positions`, { lon: w.lon + 0.001, lat: w.lat, at: new Date(t.getTime() - 60_000).toISOString(), status: 'off_duty' })
    expect(older.status).toBe(200)
    expect(older.body).toMatchObject({ stored: true, live: false })
    const worker = (await get(h, `/api/workers/${w.id}`)).body
    expect(worker).toMatchObject({ status: 'on_duty', lastSeenAt: t.toISOString() })
    expect(worker.position[0]).toBeCloseTo(w.lon, 9)

    // In a batch: the newest fix per worker wins, whatever the order in the body; older ones are counted.
    const batch = await post(h, '/api/workers/positions', {
      positions: [
        { workerId: w.id, lon: w.lon + 0.0003, lat: w.lat, at: new Date(t.getTime() + 20_000).toISOString() },
        { workerId: w.id, lon: w.lon + 0.0001, lat: w.lat, at: new Date(t.getTime() + 10_000).toISOString() },
        { workerId: w.id, lon: w.lon + 0.0005, lat: w.lat, at: new Date(t.getTime() - 30_000).toISOString() },
      ],
    })
    expect(batch.body).toMatchObject({ accepted: 3, stored: 3, live: 1, outOfOrder: 1 })
    const after = (await get(h, `/api/workers/${w.id}`)).body
    expect(after.lastSeenAt).toBe(new Date(t.getTime() + 20_000).toISOString())
    expect(after.position[0]).toBeCloseTo(w.lon + 0.0003, 9)

    const track = (await get(h, `/api/workers/${w.id}/track?from=${new Date(t.getTime() - 3600_000).toISOString()}&to=${new Date(t.getTime() + 3600_000).toISOString()}`)).body
    expect(track.properties.times).toEqual([-60_000, -30_000, 0, 10_000, 20_000].map((d) => t.getTime() + d))
    expect(track.geometry.type).toBe('LineString')
    expect(track.geometry.coordinates).toHaveLength(5)
  })

  it('answers the track of a worker as a LineString or as points, in a window', async () => {
    const t = new Date(Date.now() - 3600_000)
    h.clock.now = new Date()
    const [w] = take(h, 1)
    const fixes = [0, 60, 120].map((s, i) => ({ workerId: w.id, lon: w.lon + i * 1e-4, lat: w.lat, at: new Date(t.getTime() + s * 1000).toISOString(), accuracyM: 5 + i }))
    expect((await post(h, '/api/workers/positions', { positions: fixes })).status).toBe(200)
    const window = `from=${encodeURIComponent(t.toISOString())}&to=${encodeURIComponent(new Date(t.getTime() + 600_000).toISOString())}`
    const line = await get(h, `/api/workers/${w.id}/track?${window}`)
    expect(line.status).toBe(200)
    expect(line.body).toMatchObject({ type: 'Feature', id: w.id, geometry: { type: 'LineString' }, properties: { workerId: w.id, count: 3, truncated: false } })
    expect(line.body.geometry.coordinates[2][0]).toBeCloseTo(w.lon + 2e-4, 9)
    expect(line.body.properties.grids).toHaveLength(3)
    const points = await get(h, `/api/workers/${w.id}/track?${window}&format=points&limit=2`)
    expect(points.body.type).toBe('FeatureCollection')
    expect(points.body.features).toHaveLength(2)
    expect(points.body.properties).toMatchObject({ count: 2, truncated: true })
    expect(points.body.features[1].properties).toMatchObject({ at: fixes[1].at, accuracyM: 6, status: null })
    // `from` is inclusive, `to` exclusive.
    const later = await get(h, `/api/workers/${w.id}/track?from=${encodeURIComponent(fixes[1].at)}&to=${encodeURIComponent(fixes[2].at)}`)
    expect(later.body.properties.count).toBe(1)
    expect(later.body.geometry).toBeNull()
    // Default window: the 24 h before now.
    expect((await get(h, `/api/workers/${w.id}/track`)).body.properties.count).toBe(3)
    expect((await get(h, `/api/workers/W_NOBODY/track`)).status).toBe(404)
    const backwards = await get(h, `/api/workers/${w.id}/track?from=${encodeURIComponent(fixes[2].at)}&to=${encodeURIComponent(fixes[0].at)}`)
    expect(backwards).toMatchObject({ status: 400, body: { field: 'from' } })
  })

  it('lists workers by region at any level, status, role and bbox, with lastSeenAt and the server time', async () => {
    const { rows } = await h.db.query<{ street: string; grid: string }>(
      `SELECT subpath(r.path, 1, 1)::text AS street, r.id AS grid FROM regions r WHERE r.level = 4 ORDER BY r.id LIMIT 1`,
    )
    const { street, grid } = rows[0]
    const all = await get(h, `/api/workers?region=${street}&limit=20000`)
    expect(all.status).toBe(200)
    const expected = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM workers w JOIN regions r ON r.id = w.region_id WHERE r.path <@ (SELECT path FROM regions WHERE id = $1)`,
      [street],
    )
    expect(all.body.workers.length).toBe(expected.rows[0].n)
    expect(all.body.nextOffset).toBeNull()
    expect(Date.parse(all.body.now)).toBe(h.clock.now.getTime())
    const chiefs = await get(h, `/api/workers?region=${grid}&role=grid_chief`)
    expect(chiefs.body.workers.map((w: any) => w.role)).toEqual(['grid_chief'])
    expect(chiefs.body.workers[0].regionId).toBe(grid)
    // The grid's staff includes its micro-grid leaders.
    const staff = (await get(h, `/api/workers?region=${grid}`)).body.workers
    expect(staff.some((w: any) => w.role === 'microgrid_leader' && w.regionId.startsWith(grid))).toBe(true)
    const page = await get(h, `/api/workers?region=${street}&limit=3&offset=3`)
    expect(page.body.workers.map((w: any) => w.id)).toEqual(all.body.workers.slice(3, 6).map((w: any) => w.id))
    expect(page.body.nextOffset).toBe(6)

    const [w] = take(h, 1)
    await post(h, `/api/workers/${w.id}/positions`, { lon: w.lon, lat: w.lat, status: 'busy' })
    const d = 1e-6
    const boxed = await get(h, `/api/workers?bbox=${w.lon - d},${w.lat - d},${w.lon + d},${w.lat + d}&status=busy`)
    expect(boxed.body.workers.map((x: any) => x.id)).toContain(w.id)
    for (const x of boxed.body.workers) expect(x.status).toBe('busy')
    expect((await get(h, '/api/workers?status=resting')).body).toMatchObject({ field: 'status' })
    expect((await get(h, '/api/workers?region=NOWHERE')).body).toMatchObject({ error: 'invalid_request', field: 'region' })
    expect((await get(h, '/api/workers?bbox=1,2,3')).body).toMatchObject({ field: 'bbox' })
  })

  it('answers the live snapshot as [id, name, status, lon, lat] tuples: the same workers and positions as the full list, no phone', async () => {
    const { rows } = await h.db.query<{ street: string }>(
      `SELECT subpath(r.path, 1, 1)::text AS street FROM regions r WHERE r.level = 4 ORDER BY r.id LIMIT 1`,
    )
    const { street } = rows[0]
    const [w] = take(h, 1)
    await post(h, `/api/workers/${w.id}/positions`, { lon: w.lon, lat: w.lat, status: 'busy' })
    const full = (await get(h, `/api/workers?region=${street}&limit=20000`)).body
    const live = await get(h, `/api/workers/live?region=${street}`)
    expect(live.status).toBe(200)
    expect(Date.parse(live.body.now)).toBe(h.clock.now.getTime())
    const expected = full.workers
      .filter((x: any) => x.position)
      .map((x: any) => [x.id, x.name, x.status, x.position[0], x.position[1]])
    expect(expected.length).toBeGreaterThan(0)
    expect(live.body.workers).toEqual(expected)
    expect(JSON.stringify(live.body)).not.toMatch(/phone|home/)
    // The whole region too (the wall asks without a region): every worker with a position, the moved one as moved.
    const everyone = (await get(h, '/api/workers/live')).body.workers as Array<[string, string, string, number, number]>
    const { rows: n } = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM workers WHERE position IS NOT NULL')
    expect(everyone).toHaveLength(n[0].n)
    expect(everyone.find((x) => x[0] === w.id)).toEqual([w.id, expect.any(String), 'busy', w.lon, w.lat])
    expect((await get(h, '/api/workers/live?region=NOWHERE')).body).toMatchObject({ error: 'invalid_request', field: 'region' })
    expect((await get(h, '/api/workers/live?limit=5')).status).toBe(400)
  })

  it('finds the nearest workers by geodesic distance (KNN), filtered by status', async () => {
    const ws = take(h, 4)
    const base = ws[0]
    // Three on duty at about 30 m, 80 m and 200 m north of a point, one busy at 10 m.
    const dLat = (m: number) => m / 110_900
    const moves = [
      { workerId: ws[0].id, lon: base.lon, lat: base.lat + dLat(80), status: 'on_duty' },
      { workerId: ws[1].id, lon: base.lon, lat: base.lat + dLat(30), status: 'on_duty' },
      { workerId: ws[2].id, lon: base.lon, lat: base.lat + dLat(200), status: 'on_duty' },
      { workerId: ws[3].id, lon: base.lon, lat: base.lat + dLat(10), status: 'busy' },
    ]
    expect((await post(h, '/api/workers/positions', { positions: moves })).status).toBe(200)
    for (const [status, limit] of [['on_duty', 5], ['busy', 3], ['off_duty', 7], ['on_duty,busy', 4]] as const) {
      const res = await get(h, `/api/workers/nearest?lon=${base.lon}&lat=${base.lat}&limit=${limit}&status=${status}`)
      expect(res.status).toBe(200)
      const oracle = await h.db.query<{ id: string; d: number }>(
        `SELECT id, ST_Distance(position::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) AS d
           FROM workers WHERE position IS NOT NULL AND status = ANY($3::text[]) ORDER BY 2, id LIMIT $4`,
        [base.lon, base.lat, status.split(','), limit],
      )
      expect(res.body.workers.map((w: any) => w.id)).toEqual(oracle.rows.map((r) => r.id))
      res.body.workers.forEach((w: any, i: number) => expect(w.distanceM).toBeCloseTo(oracle.rows[i].d, 0))
    }
    const mine = (await get(h, `/api/workers/nearest?lon=${base.lon}&lat=${base.lat}&limit=3`)).body.workers
    expect(mine.map((w: any) => w.id)).toEqual([ws[1].id, ws[0].id, ws[2].id])
    expect(mine[0].distanceM).toBeGreaterThan(25)
    expect(mine[0].distanceM).toBeLessThan(35)
    // Default status: on duty only (the busy one at 10 m is not offered).
    expect(mine.map((w: any) => w.id)).not.toContain(ws[3].id)
    const fresh = await get(h, `/api/workers/nearest?lon=${base.lon}&lat=${base.lat}&limit=3&maxAgeS=60`)
    expect(fresh.body.workers.every((w: any) => Date.now() - Date.parse(w.lastSeenAt) <= 70_000)).toBe(true)
    expect((await get(h, `/api/workers/nearest?lat=${base.lat}`)).body).toMatchObject({ field: 'lon' })
  })

  it('sets a worker\'s status (404 for nobody, 400 for a status that does not exist)', async () => {
    const [w] = take(h, 1)
    const res = await post(h, `/api/workers/${w.id}/status`, { status: 'busy' }, { 'x-actor': 'dispatcher-1' })
    expect(res).toMatchObject({ status: 200, body: { changed: true, worker: { id: w.id, status: 'busy' } } })
    const same = await post(h, `/api/workers/${w.id}/status`, { status: 'busy' })
    expect(same.body.changed).toBe(false)
    expect((await post(h, `/api/workers/${w.id}/status`, { status: 'asleep' })).body).toMatchObject({ field: 'status' })
    expect((await post(h, `/api/workers/${w.id}/status`, { status: 'busy', why: 1 })).body).toMatchObject({ field: 'why' })
    expect((await post(h, '/api/workers/W_NOBODY/status', { status: 'busy' })).status).toBe(404)
  })

  it('prunes tracks past retention by dropping day partitions; rows waiting in the default partition move into theirs', async () => {
    const now = new Date()
    h.clock.now = now
    const [w] = take(h, 1)
    const ago = [40, 31, 29, 1, 0].map((d) => new Date(now.getTime() - d * DAY).toISOString())
    const res = await post(h, '/api/workers/positions', { positions: ago.map((at) => ({ workerId: w.id, lon: w.lon, lat: w.lat, at })) })
    expect(res.body).toMatchObject({ stored: 5, live: 1 })
    const day = (iso: string) => `worker_positions_p${iso.slice(0, 10).replace(/-/g, '')}`

    // A pass five days ago: the days within its retention get partitions (their rows move in), the 40-day-old fix
    // is past it and deleted from the default partition.
    const first = await maintainPositions(h.db, { now: new Date(now.getTime() - 5 * DAY), retentionDays: 30 })
    expect(first.ran).toBe(true)
    expect(first.deleted).toBeGreaterThanOrEqual(1)
    const where = async () =>
      (
        await h.db.query<{ at: Date; part: string }>(
          'SELECT at, tableoid::regclass::text AS part FROM worker_positions WHERE worker_id = $1 ORDER BY at',
          [w.id],
        )
      ).rows.map((r) => [new Date(r.at).toISOString(), r.part])
    expect(await where()).toEqual([
      [ago[1], day(ago[1])],
      [ago[2], day(ago[2])],
      [ago[3], expect.stringMatching(/^worker_positions_(default|p\d{8})$/)],
      [ago[4], expect.stringMatching(/^worker_positions_(default|p\d{8})$/)],
    ])

    // Today's pass: the 31-day-old day is dropped whole, everything else sits in its day's partition.
    const second = await maintainPositions(h.db, { now, retentionDays: 30 })
    expect(second.dropped).toContain(day(ago[1]))
    expect(await where()).toEqual([ago[2], ago[3], ago[4]].map((at) => [at, day(at)]))
    const { rows } = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM worker_positions_default WHERE at < $1', [second.cutoff])
    expect(rows[0].n).toBe(0)
    // Idempotent: a second pass finds nothing to do.
    const third = await maintainPositions(h.db, { now, retentionDays: 30 })
    expect(third).toMatchObject({ ran: true, created: [], dropped: [], deleted: 0 })
  })
})

describe.each(DB_MODES)('cameras (%s)', (mode) => {
  const h = harness(mode)

  it('lists cameras by region at any level, status, kind and bbox; sets their status', async () => {
    const { rows } = await h.db.query<{ id: string; street: string; region: string }>(
      `SELECT id, subpath(region_path, 0, 2)::text AS street, region_id AS region FROM cameras WHERE region_path IS NOT NULL AND nlevel(region_path) >= 2 ORDER BY id LIMIT 1`,
    )
    const cam = rows[0]
    const streetId = cam.street.split('.')[1]
    const inStreet = await get(h, `/api/cameras?region=${streetId}`)
    expect(inStreet.status).toBe(200)
    const expected = await h.db.query<{ id: string }>(`SELECT id FROM cameras WHERE region_path <@ $1::ltree ORDER BY id`, [cam.street])
    expect(inStreet.body.cameras.map((c: any) => c.id)).toEqual(expected.rows.map((r) => r.id))
    expect((await get(h, `/api/cameras?region=${cam.region}`)).body.cameras.map((c: any) => c.id)).toContain(cam.id)

    const off = await post(h, `/api/cameras/${cam.id}/status`, { status: 'offline' }, { 'x-actor': 'ops-1' })
    expect(off).toMatchObject({ status: 200, body: { changed: true, camera: { id: cam.id, status: 'offline' } } })
    const offline = (await get(h, `/api/cameras?status=offline&region=${streetId}`)).body.cameras
    expect(offline.map((c: any) => c.id)).toContain(cam.id)
    for (const c of offline) expect(c.status).toBe('offline')
    const c0 = inStreet.body.cameras.find((c: any) => c.id === cam.id)
    const boxed = await get(h, `/api/cameras?bbox=${c0.lon - 1e-6},${c0.lat - 1e-6},${c0.lon + 1e-6},${c0.lat + 1e-6}`)
    expect(boxed.body.cameras.map((c: any) => c.id)).toContain(cam.id)
    const kinds = (await get(h, '/api/cameras?kind=enterprise&limit=50')).body.cameras
    for (const c of kinds) expect(c.kind).toBe('enterprise')
    expect((await post(h, `/api/cameras/${cam.id}/status`, { status: 'offline' })).body.changed).toBe(false)
    expect((await post(h, `/api/cameras/${cam.id}/status`, { status: 'broken' })).body).toMatchObject({ field: 'status' })
    expect((await post(h, '/api/cameras/NOPE/status', { status: 'online' })).status).toBe(404)
    expect((await get(h, '/api/cameras?region=NOWHERE')).body).toMatchObject({ field: 'region' })
    await post(h, `/api/cameras/${cam.id}/status`, { status: 'online' })
  })
})

describe.each(DB_MODES)('live resources over Socket.IO (%s)', (mode) => {
  let app: AppInstance
  let url: string
  let db: Db
  const clients: TestClient[] = []
  beforeAll(async () => {
    db = await testDb(mode)
    ;({ app, url } = await startServer({ db }))
  })
  afterAll(async () => {
    for (const c of clients) c.disconnect()
    await app.close()
  })

  const connect = async () => {
    const c = await connectClient(url)
    clients.push(c)
    return c
  }

  /** Two grid workers in different streets, each with a point inside their own grid, and their streets. */
  async function twoStreets(offset: number) {
    const { rows } = await db.query<{ id: string; grid: string; street: string; lon: number; lat: number }>(
      `SELECT DISTINCT ON (subpath(r.path, 1, 1)) w.id, w.region_id AS grid, subpath(r.path, 1, 1)::text AS street, ST_X(p) AS lon, ST_Y(p) AS lat
         FROM workers w JOIN regions r ON r.id = w.region_id, ST_PointOnSurface(r.geom) p
        WHERE w.role = 'grid_chief'
        ORDER BY subpath(r.path, 1, 1), w.id OFFSET $1 LIMIT 2`,
      [offset],
    )
    return rows
  }

  it('pushes one workers:moved per street: a street scope gets its own street, the wall gets both', async () => {
    const [a, b] = await twoStreets(3)
    const wall = await connect()
    const inA = await connect()
    const inB = await connect()
    await follow(wall, null)
    await follow(inA, [a.street])
    await follow(inB, [b.street])
    const seen = { wall: [] as any[], a: [] as any[], b: [] as any[] }
    onKind(wall, 'workers:moved', (e) => seen.wall.push(e))
    onKind(inA, 'workers:moved', (e) => seen.a.push(e))
    onKind(inB, 'workers:moved', (e) => seen.b.push(e))

    const at = Date.now()
    const res = await fetch(`${url}/api/workers/positions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        positions: [
          { workerId: a.id, lon: a.lon, lat: a.lat, at: new Date(at).toISOString(), status: 'on_duty' },
          { workerId: b.id, lon: b.lon, lat: b.lat, at: new Date(at).toISOString(), status: 'busy' },
        ],
      }),
    })
    const body = await res.json()
    expect(res.status, JSON.stringify(body)).toBe(200)
    await waitFor<void>((done) => {
      const check = () => (seen.wall.length >= 2 && seen.a.length >= 1 && seen.b.length >= 1 ? done() : setTimeout(check, 20))
      check()
    }, PUSH_DEADLINE_MS, 'workers:moved at the wall and both streets')
    const entry = (e: any) => e.positions as WorkerPositionTuple[]
    expect(seen.a.map((e) => e.regionId)).toEqual([a.street])
    expect(entry(seen.a[0])).toEqual([[a.id, expect.any(Number), expect.any(Number), at, 'on_duty', body.grids[0]]])
    expect(entry(seen.a[0])[0][1]).toBeCloseTo(a.lon, 6)
    expect(entry(seen.b[0])).toEqual([[b.id, expect.any(Number), expect.any(Number), at, 'busy', body.grids[1]]])
    expect(seen.wall.map((e) => e.regionId).sort()).toEqual([a.street, b.street].sort())
    expect(seen.wall[0].seq).toBeGreaterThan(0)
    // An out-of-order fix is stored but pushes nothing: the next event a street sees is the next live one.
    await fetch(`${url}/api/workers/${a.id}/positions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lon: a.lon, lat: a.lat, at: new Date(at - 5000).toISOString() }),
    })
    const next = waitFor<any>((done) => onKind(inA, 'workers:moved', done), PUSH_DEADLINE_MS, 'the next live position')
    await fetch(`${url}/api/workers/${a.id}/positions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lon: a.lon, lat: a.lat, at: new Date(at + 5000).toISOString() }),
    })
    expect((await next).positions[0][3]).toBe(at + 5000)
    expect(seen.a.map((e) => e.positions[0][3])).toEqual([at, at + 5000])
  })

  it('pushes a status change to the worker\'s grid scope, and a camera going offline to its region', async () => {
    const [a] = await twoStreets(5)
    const grid = await connect()
    await follow(grid, [a.grid])
    const moved: any[] = []
    onKind(grid, 'workers:moved', (e) => moved.push(e))
    // A grid scope does not get workers:moved (routed by street): proven by the status event, later in the log, arriving alone.
    await fetch(`${url}/api/workers/${a.id}/positions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lon: a.lon, lat: a.lat, status: 'on_duty' }),
    })
    const updated = waitFor<any>((done) => onKind(grid, 'worker:updated', done), PUSH_DEADLINE_MS, 'worker:updated')
    const res = await fetch(`${url}/api/workers/${a.id}/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-actor': 'dispatcher-7' },
      body: JSON.stringify({ status: 'busy' }),
    })
    expect(res.status).toBe(200)
    const e = await updated
    expect(e).toMatchObject({ worker: { id: a.id, status: 'busy', regionId: a.grid }, from: { status: 'on_duty' }, by: 'dispatcher-7' })
    expect(moved).toEqual([])

    const { rows } = await db.query<{ id: string; region_id: string }>(
      `SELECT id, region_id FROM cameras WHERE region_id IS NOT NULL ORDER BY id DESC LIMIT 1`,
    )
    const cam = rows[0]
    const scoped = await connect()
    await follow(scoped, [cam.region_id])
    const camEvent = waitFor<any>((done) => onKind(scoped, 'camera:updated', done), PUSH_DEADLINE_MS, 'camera:updated')
    const off = await fetch(`${url}/api/cameras/${cam.id}/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'offline' }),
    })
    expect(off.status).toBe(200)
    expect(await camEvent).toMatchObject({ camera: { id: cam.id, status: 'offline', regionId: cam.region_id }, from: { status: 'online' }, by: null })
    await fetch(`${url}/api/cameras/${cam.id}/status`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'online' }) })
  })
})
