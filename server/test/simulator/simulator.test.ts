import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/db/types.ts'
import { escalateOverdue } from '../../src/services/escalation.ts'
import { arrivalRate, nextStep, planDraw, startSimulator, type Simulator } from '../../src/simulator/simulator.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { performAction, reportCase } from '../../src/services/cases.ts'

describe('simulator plan (pure)', () => {
  it('follows a day/night curve and scales with SIM_RATE', () => {
    const night = arrivalRate(new Date('2026-05-11T03:00:00+08:00'), 1)
    const day = arrivalRate(new Date('2026-05-11T10:00:00+08:00'), 1)
    expect(day).toBeCloseTo(6 / 60, 6)
    expect(night).toBeLessThan(day / 5)
    expect(arrivalRate(new Date('2026-05-11T10:00:00+08:00'), 100)).toBeCloseTo(10, 6)
  })
  it('gives each case a deterministic plan through the legal loop', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)
    for (const id of ids.slice(0, 5)) expect(planDraw(id, 3)).toBe(planDraw(id, 3))
    const first = ids.map((id) => nextStep(id, 'reported', { rating: null, escalations: 0, category: 'sanitation' })!.action)
    const rejected = first.filter((a) => a === 'reject').length / ids.length
    expect(rejected).toBeGreaterThan(0.02)
    expect(rejected).toBeLessThan(0.07)
    const stalled = ids.filter((id) => nextStep(id, 'dispatched', { rating: null, escalations: 0, category: 'sanitation' }) === null).length / ids.length
    expect(stalled).toBeGreaterThan(0.04)
    expect(stalled).toBeLessThan(0.1)
    // A stalled case moves again once it has been escalated.
    for (const id of ids) expect(nextStep(id, 'dispatched', { rating: null, escalations: 1, category: 'sanitation' })?.action).toBe('accept')
  })
})

describe.each(DB_MODES)('simulator against the real services (%s)', (mode) => {
  let db: Db
  let sim: Simulator
  const clock = { now: new Date('2026-05-11T08:00:00+08:00') } // a Monday
  beforeAll(async () => {
    db = await testDb(mode)
    sim = startSimulator(db, { rate: 1, manual: true, now: () => clock.now, log: { error: (e) => { throw e } } })
  })
  afterAll(() => sim.stop())

  it('drives cases through every stage using only legal actions, and whistles where a plan says so', async () => {
    for (let i = 0; i < 80; i++) await sim.arrive()
    // Eight simulated hours in five-minute steps, with the clock's escalation pass as in production.
    for (let minute = 5; minute <= 8 * 60; minute += 5) {
      clock.now = new Date(clock.now.getTime() + 5 * 60_000)
      await sim.advance()
      await escalateOverdue(db, clock.now)
    }
    const { rows } = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM cases WHERE reporter LIKE 'sim-%' AND reported_at >= '2026-05-11T00:00:00Z' AND reported_at < '2026-05-12T00:00:00Z' GROUP BY status`,
    )
    const by = Object.fromEntries(rows.map((r) => [r.status, r.n]))
    const total = Object.values(by).reduce((a, b) => a + b, 0)
    expect(total).toBe(80)
    expect((by.closed ?? 0) + (by.rated ?? 0)).toBeGreaterThan(50)
    const steps = await db.query<{ action: string; n: number }>(
      `SELECT e.action, count(*)::int AS n FROM case_events e JOIN cases c ON c.id = e.case_id
        WHERE c.reporter LIKE 'sim-%' AND c.reported_at >= '2026-05-11T00:00:00Z' AND c.reported_at < '2026-05-12T00:00:00Z'
        GROUP BY e.action`,
    )
    const actions = Object.fromEntries(steps.rows.map((r) => [r.action, r.n]))
    for (const a of ['report', 'register', 'dispatch', 'accept', 'handle', 'verify', 'close', 'rate']) expect(actions[a], a).toBeGreaterThan(0)
    // Every merge went into an earlier open report of the same category within 50 m.
    const merges = await db.query<{ ok: boolean }>(
      `SELECT (t.category = c.category AND t.reported_at < c.reported_at AND ST_DWithin(t.location::geography, c.location::geography, 50)) AS ok
         FROM cases c JOIN cases t ON t.id = c.merged_into
        WHERE c.reporter LIKE 'sim-%' AND c.status = 'merged'`,
    )
    for (const m of merges.rows) expect(m.ok).toBe(true)
    expect(actions.report).toBe(80)
    // Every case whose plan blows the whistle once accepted did so (an escalation by a person, not the clock).
    const cases = await db.query<{ id: string; accepted: boolean; whistles: number; byClock: boolean }>(
      `SELECT c.id, EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.action = 'accept') AS accepted,
              EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.action = 'escalate' AND e.actor = 'system') AS "byClock",
              (SELECT count(*)::int FROM case_events e WHERE e.case_id = c.id AND e.action = 'escalate' AND e.actor LIKE 'sim-chief-%') AS whistles
         FROM cases c WHERE c.reporter LIKE 'sim-%' AND c.reported_at >= '2026-05-11T00:00:00Z' AND c.reported_at < '2026-05-12T00:00:00Z'`,
    )
    for (const c of cases.rows) {
      const plan = nextStep(c.id, 'in_progress', { rating: null, escalations: 0, category: 'sanitation' })!
      // (a case the clock already escalated has used its climb: its plan whistles no more)
      if (c.accepted && !c.byClock) expect(c.whistles, c.id).toBe(plan.action === 'escalate' ? 1 : 0)
    }
    // The clock kept up: after the last pass no simulated case is past its limit below the district level, and the
    // cases that stalled (never accepted) and ran out of time were escalated by it.
    const late = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM cases WHERE reporter LIKE 'sim-%' AND status IN ('reported', 'registered', 'dispatched', 'in_progress')
          AND due_at < $1 AND owning_level > 1`,
      [clock.now],
    )
    expect(late.rows[0].n).toBe(0)
    const stalled = await db.query<{ byClock: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.action = 'escalate' AND e.actor = 'system') AS "byClock"
         FROM cases c
        WHERE c.reporter LIKE 'sim-%' AND c.reported_at >= '2026-05-11T00:00:00Z' AND c.reported_at < '2026-05-12T00:00:00Z'
          AND c.dispatched_at IS NOT NULL AND c.accepted_at IS NULL AND c.escalations = 0 AND c.due_at < $1`,
      [clock.now],
    )
    expect(stalled.rows).toEqual([])
    // The verifier is never the handler.
    const same = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM case_events v JOIN case_events h ON h.case_id = v.case_id AND h.action = 'handle' AND h.id < v.id
        WHERE v.action = 'verify' AND v.actor = h.actor
          AND NOT EXISTS (SELECT 1 FROM case_events x WHERE x.case_id = v.case_id AND x.action = 'handle' AND x.id > h.id AND x.id < v.id)`,
    )
    expect(same.rows[0].n).toBe(0)
  })
  it('merges a repeated report into the earlier open one before registering it', async () => {
    clock.now = new Date('2026-05-12T10:00:00+08:00')
    const spot = { lon: 119.6433, lat: 29.0871 }
    const body = { category: 'sanitation.garbage', description: '垃圾满溢', source: 'resident' as const }
    const first = await reportCase(db, { ...body, ...spot }, { reporter: 'sim-resident-a', now: clock.now })
    // Register the first report by hand: left to the simulator, its random plan rejects 4 % of reports, and a
    // rejected report is no longer open, so there would be nothing to merge into.
    await performAction(db, first.id, 'register', { version: first.version }, { actor: 'sim-centre', now: clock.now })
    clock.now = new Date(clock.now.getTime() + 60_000)
    const again = await reportCase(db, { ...body, lon: spot.lon + 0.0001, lat: spot.lat }, { reporter: 'sim-resident-b', now: clock.now })
    expect(again.possibleDuplicates.map((d) => d.id)).toContain(first.id)
    clock.now = new Date(clock.now.getTime() + 10 * 60_000)
    await sim.advance()
    const { rows } = await db.query<{ id: string; status: string; merged_into: string | null }>(
      'SELECT id, status, merged_into FROM cases WHERE id = ANY($1::uuid[])',
      [[first.id, again.id]],
    )
    const by = Object.fromEntries(rows.map((r) => [r.id, r]))
    expect(by[again.id]).toMatchObject({ status: 'merged', merged_into: first.id })
    expect(by[first.id].status).not.toBe('merged')
  })
})
