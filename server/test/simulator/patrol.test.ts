import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import type { Db } from '../../src/db/types.ts'
import { Area } from '../../src/simulator/patrol-area.ts'
import { patrolOptionsFromEnv } from '../../src/simulator/patrol-env.ts'
import { PatrolModel } from '../../src/simulator/patrol-model.ts'
import { startPatrol, type Patrol } from '../../src/simulator/patrol.ts'

/** An L-shaped area (concave), about 220 m × 220 m near Jinhua, as one closed ring. */
function lShape(): Area {
  const x0 = 119.65
  const y0 = 29.08
  const d = 0.002
  const ring = [x0, y0, x0 + d, y0, x0 + d, y0 + d / 3, x0 + d / 3, y0 + d / 3, x0 + d / 3, y0 + d, x0, y0 + d, x0, y0]
  return new Area('L', [Float64Array.from(ring)])
}

/** Most recent 10:00 in Asia/Shanghai at least an hour before now (a day-shift hour in the past). */
function recentMorning(): Date {
  const t = new Date(Date.now() - 3600_000)
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), 2, 0, 0)) // 10:00 +08:00
  return d.getTime() > t.getTime() ? new Date(d.getTime() - 86_400_000) : d
}

describe('patrol model (pure)', () => {
  it('walks straight legs that never leave a concave area', () => {
    const area = lShape()
    const sources = Array.from({ length: 12 }, (_, i) => ({ id: `w${i}`, gridId: 'L', areaId: 'L', lon: null, lat: null }))
    const model = new PatrolModel(new Map([['L', area]]), sources, { dayShare: 1, nightShare: 1, busyPerHour: 0, pauseSeconds: [0, 5] })
    let ms = Date.parse('2026-05-11T10:00:00+08:00')
    const prev = new Map<string, [number, number]>()
    let moved = 0
    for (let step = 0; step < 600; step++, ms += 2000) {
      model.advance(ms)
      for (const w of model.walkers) {
        expect(area.contains(w.x, w.y)).toBe(true)
        const p = prev.get(w.id)
        if (p) {
          const metres = Math.hypot((w.x - p[0]) * area.mPerDegLon, (w.y - p[1]) * 110_574)
          expect(metres).toBeLessThanOrEqual(1.5 * 2 + 1e-6)
          // A straight step between two inside points never crosses the notch: its midpoint is inside too.
          expect(area.contains((w.x + p[0]) / 2, (w.y + p[1]) / 2)).toBe(true)
          if (metres > 0.5) moved++
        }
        prev.set(w.id, [w.x, w.y])
      }
    }
    expect(moved).toBeGreaterThan(12 * 600 * 0.3)
    // Both arms of the L are visited.
    const xs = model.walkers.map((w) => w.x)
    expect(Math.max(...xs)).toBeGreaterThan(119.65 + 0.001)
  })

  it('puts a share of each grid\'s staff on duty by shift, and some go busy', () => {
    const area = lShape()
    const sources = ['A', 'B'].flatMap((g) => Array.from({ length: 10 }, (_, i) => ({ id: `${g}${i}`, gridId: g, areaId: 'L', lon: null, lat: null })))
    const model = new PatrolModel(new Map([['L', area]]), sources, { dayShare: 0.6, nightShare: 0.2, busyPerHour: 6 })
    const count = (g: string, s: string) => model.walkers.filter((w) => w.gridId === g && w.status === s).length
    model.advance(Date.parse('2026-05-11T10:00:00+08:00'))
    expect(count('A', 'on_duty')).toBe(6)
    expect(count('B', 'on_duty')).toBe(6)
    const first = model.report(Date.parse('2026-05-11T10:00:00+08:00'))
    expect(first).toHaveLength(20) // everyone once: the status of the off-duty ones is set too
    expect(first.filter((f) => f.status === 'on_duty')).toHaveLength(12)
    // An hour of day shift: someone went busy; statuses are reported only when they change.
    let busySeen = 0
    for (let m = 1; m <= 60; m++) {
      model.advance(Date.parse('2026-05-11T10:00:00+08:00') + m * 60_000)
      busySeen += model.walkers.filter((w) => w.status === 'busy').length
      const fixes = model.report(Date.parse('2026-05-11T10:00:00+08:00') + m * 60_000)
      expect(fixes).toHaveLength(12)
    }
    expect(busySeen).toBeGreaterThan(0)
    model.advance(Date.parse('2026-05-11T20:00:00+08:00'))
    expect(count('A', 'off_duty')).toBe(8)
    const evening = model.report(Date.parse('2026-05-11T20:00:00+08:00'))
    expect(evening.filter((f) => f.status === 'off_duty')).toHaveLength(8)
  })

  it('reads its settings from the environment', () => {
    expect(patrolOptionsFromEnv({ PATROL: '0' })).toBeNull()
    expect(patrolOptionsFromEnv({})).toMatchObject({ grids: 60, reportEveryMs: 10_000, dayShare: 0.6 })
    expect(patrolOptionsFromEnv({ PATROL_GRIDS: 'all', PATROL_REGIONS: '330702001, 330703', PATROL_INTERVAL_S: '5' })).toMatchObject({
      grids: 'all',
      within: ['330702001', '330703'],
      reportEveryMs: 5000,
    })
    expect(() => patrolOptionsFromEnv({ PATROL_DAY_SHARE: '1.5' })).toThrow(/PATROL_DAY_SHARE/)
  })
})

describe.each(DB_MODES)('patrol through the positions service (%s)', (mode) => {
  let db: Db
  let patrol: Patrol
  let gridIds: string[]
  const clock = { now: recentMorning() }
  beforeAll(async () => {
    db = await testDb(mode)
    // Three grids from the middle of the list: routes/workers.test.ts takes workers from the tail, the auth suites sign
    // in as 城东街道 staff (the head) and set their status while this runs on the same database.
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM regions WHERE level = 4 AND id LIKE '3307%' ORDER BY id OFFSET 700 LIMIT 3`)
    gridIds = rows.map((r) => r.id)
    patrol = await startPatrol(db, {
      manual: true,
      within: gridIds,
      grids: 'all',
      now: () => clock.now,
      busyPerHour: 0,
      log: { error: (e) => { throw e } },
    })
  })
  afterAll(() => patrol.stop())

  it('moves on-duty staff inside their own grid (ST_Covers), tagged, and takes them off at the end of the shift', async () => {
    const staff = patrol.model.walkers.map((w) => w.id)
    expect(new Set(patrol.model.walkers.map((w) => w.gridId))).toEqual(new Set(gridIds))
    const first = await patrol.tick()
    expect(first.reported).toBe(staff.length)
    for (let i = 0; i < 30; i++) {
      clock.now = new Date(clock.now.getTime() + 10_000)
      await patrol.tick()
    }
    // On duty per grid: 60 % of its staff, in the database too.
    const { rows: duty } = await db.query<{ grid: string; n: number; on: number }>(
      `SELECT g.id AS grid, count(*)::int AS n, count(*) FILTER (WHERE w.status = 'on_duty')::int AS on
         FROM workers w JOIN regions r ON r.id = w.region_id JOIN regions g ON g.id = CASE WHEN r.level = 5 THEN r.parent_id ELSE r.id END
        WHERE w.id = ANY($1::text[]) GROUP BY g.id`,
      [staff],
    )
    for (const d of duty) expect(d.on).toBe(Math.round(0.6 * d.n))

    // Every fix lies in the worker's own area and grid, and is tagged with a region of that grid.
    const { rows: fixes } = await db.query<{ n: number; outside_area: number; outside_grid: number; wrong_tag: number }>(
      `SELECT count(*)::int AS n,
              count(*) FILTER (WHERE NOT ST_Covers(r.geom, p.location))::int AS outside_area,
              count(*) FILTER (WHERE NOT ST_Covers(g.geom, p.location))::int AS outside_grid,
              count(*) FILTER (WHERE NOT (p.grid_id = g.id OR t.parent_id = g.id))::int AS wrong_tag
         FROM worker_positions p
         JOIN workers w ON w.id = p.worker_id JOIN regions r ON r.id = w.region_id
         JOIN regions g ON g.id = CASE WHEN r.level = 5 THEN r.parent_id ELSE r.id END
         LEFT JOIN regions t ON t.id = p.grid_id
        WHERE p.worker_id = ANY($1::text[]) AND p.at >= $2`,
      [staff, new Date(clock.now.getTime() - 3600_000)],
    )
    expect(fixes[0].n).toBeGreaterThan(staff.length * 10)
    expect(fixes[0]).toMatchObject({ outside_area: 0, outside_grid: 0, wrong_tag: 0 })

    // They walk: at 1–1.5 m/s between fixes 10 s apart, most of them got somewhere.
    const { rows: legs } = await db.query<{ worker_id: string; metres: number; seconds: number }>(
      `SELECT worker_id, ST_Distance(location::geography, lag(location) OVER w::geography) AS metres,
              extract(epoch FROM at - lag(at) OVER w)::float8 AS seconds
         FROM worker_positions WHERE worker_id = ANY($1::text[]) AND at >= $2
       WINDOW w AS (PARTITION BY worker_id ORDER BY at)`,
      [staff, new Date(clock.now.getTime() - 3600_000)],
    )
    const steps = legs.filter((l) => l.metres !== null)
    for (const l of steps) expect(l.metres / l.seconds).toBeLessThanOrEqual(1.5 * 1.01)
    const walkers = new Set(steps.filter((l) => l.metres > 1).map((l) => l.worker_id))
    expect(walkers.size).toBeGreaterThan(0.5 * duty.reduce((s, d) => s + d.on, 0))

    // Evening: the night share stays, the others report off duty once and stop.
    clock.now = new Date(clock.now.getTime() + 10 * 3600_000)
    const evening = await patrol.tick()
    expect(evening.offDuty).toBeGreaterThan(evening.onDuty)
    const { rows: after } = await db.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM workers WHERE id = ANY($1::text[]) GROUP BY status',
      [staff],
    )
    expect(Object.fromEntries(after.map((r) => [r.status, r.n]))).toMatchObject({ off_duty: evening.offDuty, on_duty: evening.onDuty })
    clock.now = new Date(clock.now.getTime() + 10_000)
    expect((await patrol.tick()).reported).toBe(evening.onDuty)
  })
})
