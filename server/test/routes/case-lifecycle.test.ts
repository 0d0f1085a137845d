import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeDueAt } from '../../../shared/domain/calendar.ts'
import { CASE_ACTIONS, allowedActions, type CaseAction } from '../../../shared/domain/case-lifecycle.ts'
import { categoryInfo } from '../../../shared/domain/categories.ts'
import type { CaseStatus } from '../../../shared/domain/case-status.ts'
import { expandEvent } from '../../../shared/protocol/wire.ts'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db, DbMode } from '../../src/db/types.ts'
import { escalateOverdue, SCHEDULER_LOCK_KEY } from '../../src/services/escalation.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { connectClient, startServer, waitFor } from '../../../test/support/server.ts'
import { createPgDb } from '../../src/db/pg-db.ts'
import { inject } from 'vitest'

/** A point inside a grid of 婺城区 (the demo region). */
const HERE = { lon: 119.652, lat: 29.083 }
const at = (iso: string) => new Date(iso)

interface Harness {
  app: AppInstance
  db: Db
  clock: { now: Date }
}

async function report(h: Harness, body: Record<string, unknown>, actor = 'resident-1') {
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/cases',
    headers: { 'x-actor': actor },
    payload: { category: 'public_facilities.street_light', description: '路灯不亮', ...HERE, ...body },
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function act(h: Harness, id: string, action: string, body: Record<string, unknown>, actor: string, version?: number) {
  return h.app.inject({
    method: 'POST',
    url: `/api/cases/${id}/actions/${action}`,
    headers: { 'x-actor': actor, ...(version !== undefined ? { 'if-match': `"${version}"` } : {}) },
    payload: body,
  })
}

/** Acts with the case's current version and expects success. */
async function step(h: Harness, c: { id: string; version: number }, action: string, body: Record<string, unknown> = {}, actor = 'staff-1') {
  const res = await act(h, c.id, action, body, actor, c.version)
  expect(res.statusCode, `${action}: ${res.body}`).toBe(200)
  return res.json()
}

/** A valid body for each action (so a refusal is about the state, not the body). */
function validBody(action: CaseAction, other: string): Record<string, unknown> {
  switch (action) {
    case 'reject':
    case 'send_back':
    case 'reopen':
    case 'request_reopen':
    case 'escalate':
      return { reason: '理由' }
    case 'reassign':
      return { department: 'gas', reason: '理由' }
    case 'dispatch':
      return { department: 'gas' }
    case 'handle':
    case 'note':
      return { note: '已处理' }
    case 'rate':
      return { rating: 3 }
    case 'merge':
      return { into: other }
    default:
      return {}
  }
}

async function workerOf(db: Db, gridId: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM workers WHERE region_id = $1 ORDER BY id LIMIT 1`, [gridId])
  return rows[0].id
}

/** An app with a controllable clock on the run's shared database, for one describe block. */
function harness(mode: DbMode): Harness {
  const h = { clock: { now: new Date() } } as Harness
  beforeAll(async () => {
    h.db = await testDb(mode)
    h.app = await buildApp({ db: h.db, now: () => h.clock.now })
    await h.app.ready()
  })
  afterAll(() => h.app.close())
  return h
}

describe.each(DB_MODES)('case lifecycle (%s)', (mode) => {
  const h = harness(mode)

  it('runs the whole loop — with a failed verification and a reopen — and records every step', async () => {
    h.clock.now = at('2026-11-16T09:00:00+08:00')
    const c0 = await report(h, {}, 'resident-loop')
    expect(c0).toMatchObject({ status: 'reported', priority: 'normal', source: 'resident', department: 'municipal_gardens', owningLevel: 4, reporter: 'resident-loop', version: 1, overdue: false })
    const grid = c0.regions.find((r: any) => r.level === 4).id
    const worker = await workerOf(h.db, grid)

    let c = await step(h, c0, 'register', { note: '属实，立案' })
    c = await step(h, c, 'dispatch', { assigneeId: worker, department: 'municipal_gardens' })
    expect(c).toMatchObject({ status: 'dispatched', assigneeId: worker })
    c = await step(h, c, 'accept', {}, worker)
    c = await step(h, c, 'handle', { note: '已更换灯泡' }, worker)
    c = await step(h, c, 'send_back', { reason: '现场仍不亮' }, 'verifier-1')
    expect(c.status).toBe('in_progress')
    c = await step(h, c, 'handle', { note: '更换镇流器' }, worker)
    c = await step(h, c, 'verify', { note: '已核实' }, 'verifier-1')
    c = await step(h, c, 'close', {}, 'staff-1')
    c = await step(h, c, 'rate', { rating: 2, comment: '太慢' }, 'resident-loop')
    expect(c).toMatchObject({ status: 'rated', rating: 2, ratingComment: '太慢' })
    c = await step(h, c, 'reopen', { reason: '群众不满意' }, 'staff-1')
    expect(c).toMatchObject({ status: 'in_progress', rating: null })
    c = await step(h, c, 'handle', { note: '彻底修复' }, worker)
    c = await step(h, c, 'verify', {}, 'verifier-2')
    c = await step(h, c, 'close', {}, 'staff-1')
    c = await step(h, c, 'rate', { rating: 5 }, 'resident-loop')
    expect(c).toMatchObject({ status: 'rated', rating: 5, version: 15, timeLeftSeconds: null, overdue: false })
    for (const k of ['registeredAt', 'dispatchedAt', 'acceptedAt', 'handledAt', 'verifiedAt', 'closedAt', 'ratedAt']) {
      expect(c.stages[k], k).toBe(h.clock.now.toISOString())
    }

    const detail = (await h.app.inject(`/api/cases/${c.id}`)).json()
    expect(detail.timeline.map((e: any) => e.action)).toEqual([
      'report', 'register', 'dispatch', 'accept', 'handle', 'send_back', 'handle', 'verify', 'close', 'rate', 'reopen', 'handle', 'verify', 'close', 'rate',
    ])
    expect(detail.timeline[5]).toMatchObject({ actor: 'verifier-1', fromStatus: 'handled', toStatus: 'in_progress', note: '现场仍不亮' })
    expect(detail.timeline[3]).toMatchObject({ actor: worker, fromStatus: 'dispatched', toStatus: 'in_progress' })
    expect(detail.allowedActions).toEqual(['reopen', 'note'])
  })

  it('refuses every action the status does not allow with 409 listing the allowed ones, and changes nothing', async () => {
    h.clock.now = at('2026-11-16T10:00:00+08:00')
    const other = (await report(h, { description: 'merge target' })).id
    // One fresh case driven to each status.
    const worker = 'W-any'
    const path: Array<[CaseAction, Record<string, unknown>, string]> = [
      ['register', {}, 'staff-1'],
      ['dispatch', { department: 'gas' }, 'staff-1'],
      ['accept', {}, worker],
      ['handle', { note: 'ok' }, worker],
      ['verify', {}, 'verifier-9'],
      ['close', {}, 'staff-1'],
      ['rate', { rating: 4 }, 'resident-x'],
    ]
    const order: CaseStatus[] = ['reported', 'registered', 'dispatched', 'in_progress', 'handled', 'verified', 'closed', 'rated']
    const byStatus = new Map<CaseStatus, any>()
    for (const [i, status] of order.entries()) {
      let c = await report(h, {}, 'resident-x')
      for (const [action, body, actor] of path.slice(0, i)) c = await step(h, c, action, body, actor)
      byStatus.set(status, c)
    }
    byStatus.set('rejected', await step(h, await report(h, {}), 'reject', { reason: '不属于受理范围' }))
    byStatus.set('merged', await step(h, await report(h, {}), 'merge', { into: other }))

    let refused = 0
    for (const [status, held] of byStatus) {
      expect(held.status).toBe(status)
      for (const action of CASE_ACTIONS) {
        if (allowedActions(status).includes(action)) continue
        const res = await act(h, held.id, action, validBody(action, other), 'staff-1', held.version)
        expect(res.statusCode, `${action} on ${status}: ${res.body}`).toBe(409)
        expect(res.json()).toMatchObject({ error: 'action_not_allowed', allowed: allowedActions(status) })
        refused++
      }
      const now = (await h.app.inject(`/api/cases/${held.id}`)).json()
      expect(now.version, `${status} case untouched`).toBe(held.version)
    }
    expect(refused).toBeGreaterThan(80)
  })

  it('enforces the guards: verifier ≠ handler, only the assignee accepts, only the reporter rates, reopen needs a low rating', async () => {
    h.clock.now = at('2026-11-16T11:00:00+08:00')
    const c0 = await report(h, {}, 'resident-g')
    const W = await workerOf(h.db, c0.regions.find((r: any) => r.level === 4).id)
    let c = await step(h, await step(h, c0, 'register'), 'dispatch', { assigneeId: W, department: 'municipal_gardens' })
    const wrong = await act(h, c.id, 'accept', {}, 'W-other', c.version)
    expect(wrong.statusCode).toBe(403)
    expect(wrong.json()).toMatchObject({ error: 'not_assignee' })
    c = await step(h, c, 'accept', {}, W)
    c = await step(h, c, 'handle', { note: '处理完毕' }, W)
    const self = await act(h, c.id, 'verify', {}, W, c.version)
    expect(self.statusCode).toBe(403)
    expect(self.json()).toMatchObject({ error: 'verifier_is_handler' })
    c = await step(h, await step(h, c, 'verify', {}, 'verifier-1'), 'close')
    const stranger = await act(h, c.id, 'rate', { rating: 1 }, 'somebody-else', c.version)
    expect(stranger.statusCode).toBe(403)
    c = await step(h, c, 'rate', { rating: 4 }, 'resident-g')
    const anonymous = await step(h, await step(h, await step(h, await step(h, await step(h, await step(h,
      (await h.app.inject({ method: 'POST', url: '/api/cases', payload: { category: 'sanitation', description: '匿名', ...HERE } })).json(),
      'register'), 'dispatch', { department: 'gas' }), 'accept', {}, 'W9'), 'handle', { note: 'ok' }, 'W9'), 'verify', {}, 'V9'), 'close')
    const anyone = await act(h, anonymous.id, 'rate', { rating: 5 }, 'somebody', anonymous.version)
    expect(anyone.statusCode).toBe(403)
    const reopen = await act(h, c.id, 'reopen', { reason: '不满意' }, 'staff-1', c.version)
    expect(reopen.statusCode).toBe(409)
    expect(reopen.json()).toMatchObject({ error: 'reopen_not_allowed' })
  })

  it('answers clear 4xx for bad action requests, writing nothing', async () => {
    h.clock.now = at('2026-11-16T12:00:00+08:00')
    const c = await report(h, {})
    const cases: Array<[string, () => Promise<any>, number, string?]> = [
      ['no version at all → 428', () => h.app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/register`, headers: { 'x-actor': 's' }, payload: {} }), 428, 'version'],
      ['stale version → 412', () => act(h, c.id, 'register', {}, 's', c.version + 5), 412, 'version'],
      ['body.version stale → 412', () => act(h, c.id, 'register', { version: 7 }, 's'), 412, 'version'],
      ['If-Match and body.version disagree → 400', () => act(h, c.id, 'register', { version: 2 }, 's', 1), 400, 'version'],
      ['garbage If-Match → 400', () => h.app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/register`, headers: { 'x-actor': 's', 'if-match': 'yesterday' }, payload: {} }), 400, 'If-Match'],
      ['no actor → 400', () => h.app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/register`, headers: { 'if-match': '"1"' }, payload: {} }), 400, 'X-Actor'],
      ['reject without reason → 400', () => act(h, c.id, 'reject', {}, 's', 1), 400, 'reason'],
      ['unknown field → 400', () => act(h, c.id, 'register', { colour: 'red' }, 's', 1), 400, 'colour'],
      ['unknown category on register → 400', () => act(h, c.id, 'register', { category: 'aliens' }, 's', 1), 400, 'category'],
      ['unknown case → 404', () => act(h, '00000000-0000-4000-8000-000000000000', 'register', {}, 's', 1), 404],
      ['not a uuid → 400', () => act(h, 'nope', 'register', {}, 's', 1), 400, 'id'],
      ['unknown action → 404', () => act(h, c.id, 'teleport', {}, 's', 1), 404],
      ['merge into itself → 422', () => act(h, c.id, 'merge', { into: c.id }, 's', 1), 422, 'into'],
      ['merge into a missing case → 422', () => act(h, c.id, 'merge', { into: '00000000-0000-4000-8000-000000000000' }, 's', 1), 422, 'into'],
    ]
    for (const [what, call, status, field] of cases) {
      const res = await call()
      expect(res.statusCode, `${what}: ${res.body}`).toBe(status)
      if (field) expect(res.json().field, what).toBe(field)
      expect(res.json().message, what).toBeTruthy()
    }
    const stale = await act(h, c.id, 'register', {}, 's', 9)
    expect(stale.json().currentVersion).toBe(1)
    // Dispatch needs a department or a worker, and real ones.
    const reg = await step(h, c, 'register')
    for (const [body, field] of [[{}, 'department'], [{ department: 'nasa' }, 'department'], [{ assigneeId: 'nobody' }, 'assigneeId']] as const) {
      const res = await act(h, c.id, 'dispatch', body, 's', reg.version)
      expect(res.statusCode, JSON.stringify(body)).toBe(400)
      expect(res.json().field).toBe(field)
    }
    const detail = (await h.app.inject(`/api/cases/${c.id}`)).json()
    expect(detail.version).toBe(2)
    expect(detail.timeline.map((e: any) => e.action)).toEqual(['report', 'register'])
  })

  it('lets exactly one of two dispatchers acting on the same version win', async () => {
    h.clock.now = at('2026-11-16T13:00:00+08:00')
    for (let round = 0; round < 5; round++) {
      const c = await step(h, await report(h, {}), 'register')
      const results = await Promise.all([
        act(h, c.id, 'dispatch', { department: 'gas' }, 'dispatcher-a', c.version),
        act(h, c.id, 'dispatch', { department: 'water_supply' }, 'dispatcher-b', c.version),
      ])
      const codes = results.map((r) => r.statusCode).sort()
      expect(codes).toEqual([200, 412])
      const winner = results.find((r) => r.statusCode === 200)!.json()
      const detail = (await h.app.inject(`/api/cases/${c.id}`)).json()
      expect(detail).toMatchObject({ version: c.version + 1, department: winner.department })
      expect(detail.timeline.filter((e: any) => e.action === 'dispatch')).toHaveLength(1)
    }
  })

  it('keeps the timeline append-only: UPDATE, DELETE and TRUNCATE are refused by the database', async () => {
    const c = await report(h, {})
    for (const sql of [
      `UPDATE case_events SET note = 'rewritten' WHERE case_id = '${c.id}'`,
      `DELETE FROM case_events WHERE case_id = '${c.id}'`,
      'TRUNCATE case_events CASCADE',
    ]) {
      await expect(h.db.query(sql), sql).rejects.toThrow(/append-only/)
    }
    const detail = (await h.app.inject(`/api/cases/${c.id}`)).json()
    expect(detail.timeline).toHaveLength(1)
    expect(detail.timeline[0].note).toBeNull()
  })

  it('serves ETag on GET /api/cases/:id and accepts it as If-Match', async () => {
    const c = await report(h, {})
    const res = await h.app.inject(`/api/cases/${c.id}`)
    expect(res.headers.etag).toBe('"1"')
    const ok = await h.app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/register`, headers: { 'x-actor': 's', 'if-match': res.headers.etag as string }, payload: {} })
    expect(ok.statusCode).toBe(200)
    expect(ok.headers.etag).toBe('"2"')
  })
})

describe.each(DB_MODES)('time limits (%s)', (mode) => {
  const h = harness(mode)

  it.each([
    // [what, reported at, category, priority, due]
    ['3 working days over a weekend with a make-up Saturday (Oct 10)', '2026-10-09T16:00:00+08:00', 'public_facilities.street_light', 'normal', '2026-10-13T16:00:00+08:00'],
    ['5 working days across 国庆 (Oct 1–7)', '2026-09-30T10:00:00+08:00', 'dispute.neighbour', 'normal', '2026-10-13T10:00:00+08:00'],
    ['8 working hours across a weekend', '2026-11-20T16:00:00+08:00', 'sanitation.garbage', 'high', '2026-11-23T16:30:00+08:00'],
    ['urgent lift on the 24×7 clock at night on a holiday', '2026-10-01T03:00:00+08:00', 'safety_hazard.elevator', 'urgent', '2026-10-01T03:30:00+08:00'],
    ['24 natural hours for a high public-facilities case', '2026-11-21T09:00:00+08:00', 'public_facilities.road', 'high', '2026-11-22T09:00:00+08:00'],
  ])('%s', async (_what, reportedAt, category, priority, due) => {
    h.clock.now = at(reportedAt)
    const c = await report(h, { category, priority })
    expect(c.dueAt).toBe(at(due).toISOString())
    expect(c.timeLeftSeconds).toBe((at(due).getTime() - at(reportedAt).getTime()) / 1000)
    expect(c.overdue).toBe(false)
    h.clock.now = new Date(at(due).getTime() + 60_000)
    const later = (await h.app.inject(`/api/cases/${c.id}`)).json()
    expect(later).toMatchObject({ overdue: true, timeLeftSeconds: -60 })
  })

  it('re-reads the limit when registration changes the priority', async () => {
    h.clock.now = at('2026-11-16T09:00:00+08:00')
    const c = await report(h, { category: 'public_facilities.street_light' })
    h.clock.now = at('2026-11-16T09:30:00+08:00')
    const r = await step(h, c, 'register', { priority: 'urgent' })
    expect(r.dueAt).toBe(at('2026-11-16T11:00:00+08:00').toISOString())
  })
})

describe.each(DB_MODES)('escalation (%s)', (mode) => {
  const h = harness(mode)

  /** Only this test's cases: the shared database holds others whose limits may also have passed. */
  async function pass(now: Date) {
    h.clock.now = now
    await escalateOverdue(h.db, now)
  }

  it('climbs grid → community → street → district on the clock, with a fresh limit each time, then flags overdue once', async () => {
    const t0 = at('2026-06-01T09:00:00+08:00') // Monday
    h.clock.now = t0
    const c = await report(h, { category: 'public_facilities.road', priority: 'urgent' }) // 2 natural hours
    expect(c.owningLevel).toBe(4)
    const limit = categoryInfo('public_facilities.road')!.limits.urgent
    await pass(new Date(t0.getTime() + 60 * 60_000)) // before the limit: nothing
    expect((await h.app.inject(`/api/cases/${c.id}`)).json().owningLevel).toBe(4)

    let due = new Date(c.dueAt)
    for (const level of [3, 2, 1]) {
      const now = new Date(due.getTime() + 1000)
      await pass(now)
      const e = (await h.app.inject(`/api/cases/${c.id}`)).json()
      expect(e).toMatchObject({ owningLevel: level, escalations: 4 - level, status: 'reported', overdue: false })
      expect(e.dueAt).toBe(computeDueAt(now, limit, 'working').toISOString())
      due = new Date(e.dueAt)
    }
    await pass(new Date(due.getTime() + 1000))
    await pass(new Date(due.getTime() + 120_000)) // flagged only once
    const final = (await h.app.inject(`/api/cases/${c.id}`)).json()
    expect(final).toMatchObject({ owningLevel: 1, escalations: 3, overdue: true })
    const steps = final.timeline.filter((e: any) => e.action !== 'report')
    expect(steps.map((e: any) => [e.action, e.actor, e.fromLevel, e.toLevel])).toEqual([
      ['escalate', 'system', 4, 3],
      ['escalate', 'system', 3, 2],
      ['escalate', 'system', 2, 1],
      ['overdue', 'system', null, null],
    ])
    expect(steps[0].data).toMatchObject({ trigger: 'overdue' })
  })

  it('lets the handler blow the whistle (吹哨) and stops at the district', async () => {
    h.clock.now = at('2026-06-02T09:00:00+08:00')
    let c = await report(h, { category: 'dispute.neighbour' })
    for (const level of [3, 2, 1]) {
      c = await step(h, c, 'escalate', { reason: '本级无法解决' }, 'grid-chief-1')
      expect(c.owningLevel).toBe(level)
    }
    const top = await act(h, c.id, 'escalate', { reason: '再上报' }, 'grid-chief-1', c.version)
    expect(top.statusCode).toBe(409)
    expect(top.json()).toMatchObject({ error: 'top_level' })
  })

  it('does not escalate handled or final cases', async () => {
    h.clock.now = at('2026-06-03T09:00:00+08:00')
    const c = await step(h, await step(h, await step(h, await report(h, { category: 'public_facilities.road', priority: 'urgent' }), 'register'), 'dispatch', { department: 'gas' }), 'accept', {}, 'W1')
    const handled = await step(h, c, 'handle', { note: 'done' }, 'W1')
    await pass(at('2026-06-05T09:00:00+08:00'))
    const e = (await h.app.inject(`/api/cases/${c.id}`)).json()
    expect(e).toMatchObject({ owningLevel: 4, escalations: 0, version: handled.version, overdue: false, timeLeftSeconds: null })
  })

  it('runs a pass in one process at a time: concurrent passes escalate each case exactly once', async () => {
    const t0 = at('2026-06-08T09:00:00+08:00')
    h.clock.now = t0
    const ids = []
    for (let i = 0; i < 6; i++) ids.push((await report(h, { category: 'public_facilities.road', priority: 'urgent' })).id)
    const now = new Date(t0.getTime() + 3 * 3600_000)
    const results = await Promise.all([escalateOverdue(h.db, now), escalateOverdue(h.db, now), escalateOverdue(h.db, now)])
    expect(results.some((r) => r.ran)).toBe(true)
    for (const id of ids) {
      const e = (await h.app.inject(`/api/cases/${id}`)).json()
      expect(e.escalations, id).toBe(1)
      expect(e.timeline.filter((t: any) => t.action === 'escalate')).toHaveLength(1)
    }
  })

  it.runIf(mode === 'postgres')('skips the pass while another process holds the scheduler lock', async () => {
    const other = createPgDb(inject('pgUrl')!)
    try {
      await other.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEDULER_LOCK_KEY])
        const r = await escalateOverdue(h.db, new Date('2030-01-01T00:00:00Z'))
        expect(r).toEqual({ ran: false, escalated: 0, flagged: 0 })
      })
    } finally {
      await other.close()
    }
  })

  it('pushes each escalation to the case room over Socket.IO', async () => {
    const { app, url } = await startServer({ db: h.db, now: () => h.clock.now })
    try {
      const t0 = at('2026-06-09T09:00:00+08:00')
      h.clock.now = t0
      const c = await report({ ...h, app }, { category: 'public_facilities.road', priority: 'urgent' })
      const client = await connectClient(url)
      try {
        const grid = c.regions.find((r: any) => r.level === 4).id
        expect(await client.emitWithAck('events:resume', { scope: { regions: [grid] } })).toMatchObject({ ok: true })
        const got = waitFor<any>(
          (done) => client.on('events:frame', (frame) => frame.map(expandEvent).forEach((e) => e.kind === 'case:updated' && e.case.id === c.id && done(e))),
          10_000,
          'case:updated',
        )
        await escalateOverdue(h.db, new Date(t0.getTime() + 3 * 3600_000))
        const e = await got
        expect(e).toMatchObject({ action: 'escalate', case: { id: c.id, owningLevel: 3 }, entry: { actor: 'system', fromLevel: 4, toLevel: 3 } })
        expect(e.seq).toBeGreaterThan(0)
      } finally {
        client.close()
      }
    } finally {
      await app.close()
    }
  })
})
