import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { Db } from '../../src/db/types.ts'
import { insertReportedCase, insertReportedCases, type NewCase, type ReportedCase } from '../../src/repos/cases.ts'
import { IntakeGroups, intakeGroupsOf } from '../../src/services/intake-group.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'

/**
 * Group intake (repos/cases.ts INTAKE_SQL, services/intake-group.ts): reports written together in one statement must
 * each get exactly what they get written one at a time — written or refused on their own, same region chain, same
 * possible duplicates — and a group that fails as a whole must give every report its own answer.
 */

const M = 1 / 111_320 // one metre north, in degrees
const A = { lon: 119.6531, lat: 29.0847 }

/**
 * These cases stay open in the run's shared database: reported on days in the past that no other suite uses (so a
 * list of the newest cases, as the wall's, never fills with them) and due far ahead (so no escalation pass of another
 * suite picks them up).
 */
const FAR = new Date('2099-01-01T00:00:00Z')

/** A report as services/cases.ts reportCase builds it (the event payload trimmed to what the statement reads). */
function report(at: Date, over: Partial<NewCase> = {}): NewCase {
  const id = randomUUID()
  const base = {
    id, category: 'sanitation.garbage', priority: 'normal', description: '垃圾桶满溢', address: null, ...A, source: 'resident',
    reporter: null, department: 'sanitation', owningLevel: 4, reportedAt: at, dueAt: FAR,
    actor: 'resident', attachments: [], timelineData: { source: 'resident' },
    ...over,
  }
  return { ...base, event: { id: base.id, status: 'reported', category: base.category, lon: base.lon, lat: base.lat } as unknown as NewCase['event'] }
}

/** The same eight reports at `at` (fresh ids): written, a repeat, another category, refused twice, and more. */
function eight(at: Date): NewCase[] {
  const later = (s: number) => new Date(at.getTime() + s * 1000)
  return [
    report(at),
    report(later(1), { lat: A.lat + 12 * M }), // 12 m from the first: a possible duplicate of it
    report(later(2), { lat: A.lat + 20 * M, category: 'dispute.neighbour' }), // near, but another category
    report(later(3), { lon: 121.47, lat: 31.23 }), // outside every grid: nothing written
    report(later(4), { category: 'no_such.category' }), // not an active category: nothing written
    report(later(5), { lat: A.lat + 30 * M }), // 30 m from the first, 18 m from the second: both
    report(later(6), { lon: A.lon + 400 * M, lat: A.lat }), // far from all of them
    report(later(7), { lat: A.lat - 5 * M, priority: 'urgent', address: '集贤路 12 号', reporter: 'worker-1' }),
  ]
}

/** An answer with its ids replaced by positions in the set, so two sets of the same reports compare equal. */
function shape(r: ReportedCase, ids: string[]) {
  return {
    categoryActive: r.categoryActive,
    finestLevel: r.finestLevel,
    written: r.code !== null,
    regions: r.regions,
    duplicates: r.possibleDuplicates.map((d) => ({ of: ids.indexOf(d.id), status: d.status, distanceM: d.distanceM })),
  }
}

/** What the database holds for a report, without its id, code and times (which differ between two sets). */
async function stored(db: Db, id: string) {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT c.category, c.priority, c.description, c.address, ST_AsText(c.location) AS location, c.source, c.reporter,
            c.region_path::text AS path, c.district_id, c.street_id, c.community_id, c.grid_id, c.microgrid_id,
            c.owning_level, c.department, c.status,
            (SELECT json_agg(json_build_object('actor', t.actor, 'action', t.action, 'to', t.to_status, 'level', t.to_level, 'data', t.data))
               FROM case_events t WHERE t.case_id = c.id) AS timeline,
            (SELECT json_agg(json_build_object('kind', e.kind, 'path', e.region_path::text, 'regions', e.payload->'case'->'regions',
                                               'codeMatches', e.payload->'case'->>'code' = c.code, 'status', e.payload->'case'->>'status'))
               FROM events e WHERE e.payload->'case'->>'id' = c.id::text) AS events
       FROM cases c WHERE c.id = $1`,
    [id],
  )
  return rows[0]
}

describe.each(DB_MODES)('group intake (%s)', (mode) => {
  let db: Db

  beforeAll(async () => {
    db = await testDb(mode)
  })

  it('reports written together get what they get written one at a time, and the same rows', async () => {
    // Two days nobody else uses, a month apart: the two sets cannot see each other as duplicates.
    const singles = eight(new Date('2022-01-10T09:00:00+08:00'))
    const grouped = eight(new Date('2022-02-10T09:00:00+08:00'))
    const one: ReportedCase[] = []
    for (const c of singles) one.push(await insertReportedCase(db, c))
    const all = await insertReportedCases(db, grouped)

    expect(all).toHaveLength(8)
    const singleIds = singles.map((c) => c.id)
    const groupIds = grouped.map((c) => c.id)
    expect(all.map((r) => shape(r, groupIds))).toEqual(one.map((r) => shape(r, singleIds)))
    // The cases themselves, as the outcome says: refused → nothing; written → the same row, timeline and event.
    expect(all.map((r) => r.code !== null)).toEqual([true, true, true, false, false, true, true, true])
    expect(all[3]).toMatchObject({ categoryActive: true, finestLevel: null, code: null })
    expect(all[4]).toMatchObject({ categoryActive: false, code: null })
    expect(all[1].possibleDuplicates.map((d) => d.id)).toEqual([groupIds[0]])
    expect(all[5].possibleDuplicates.map((d) => d.id)).toEqual([groupIds[1], groupIds[0]])
    expect(all[2].possibleDuplicates).toEqual([])
    expect(all[6].possibleDuplicates).toEqual([])
    for (let k = 0; k < 8; k++) {
      const s = await stored(db, singleIds[k])
      const g = await stored(db, groupIds[k])
      expect(g).toEqual(s)
      if (all[k].code) {
        expect(g.events).toEqual([expect.objectContaining({ kind: 'case:created', codeMatches: true, status: 'reported' })])
        expect(g.timeline).toHaveLength(1)
      } else expect(g).toBeUndefined()
    }
    // Codes are distinct, numbered in the group's order.
    const codes = all.flatMap((r) => (r.code ? [r.code] : []))
    expect(new Set(codes).size).toBe(codes.length)
    expect([...codes].sort()).toEqual(codes)
  })

  it('reports that arrive while a statement runs leave together as the next group', async () => {
    const groups = new IntakeGroups(db, { maxInFlight: 1 })
    const at = new Date('2022-03-10T09:00:00+08:00')
    const cs = Array.from({ length: 10 }, (_, k) => report(new Date(at.getTime() + k * 1000), { lon: A.lon + k * 200 * M }))
    const answers = await Promise.all(cs.map((c) => groups.write(c)))
    expect(groups.stats).toEqual({ statements: 2, reports: 10, splits: 0, largest: 9 })
    expect(answers.every((r) => r.code !== null)).toBe(true)
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE payload->'case'->>'id' = ANY($1::text[])`, [cs.map((c) => c.id)])
    expect(rows[0].n).toBe(10)
  })

  it("gathered per event-loop turn (the embedded database's intake): the reports of one turn leave as one group", async () => {
    // The embedded database runs statements on this thread, so nothing arrives while one runs: without gathering,
    // every report was written alone. intakeGroupsOf gives it one statement in flight, gathered per turn.
    const groups = new IntakeGroups(db, { maxInFlight: 1, gatherTurn: true })
    const at = new Date('2022-04-20T09:00:00+08:00')
    const cs = Array.from({ length: 6 }, (_, k) => report(new Date(at.getTime() + k * 1000), { lon: A.lon + k * 200 * M }))
    const first = await Promise.all(cs.slice(0, 3).map((c) => groups.write(c)))
    expect(groups.stats).toEqual({ statements: 1, reports: 3, splits: 0, largest: 3 })
    // A report of a later turn is a group of its own, and goes as soon as that turn ends.
    const later = await groups.write(cs[3])
    const last = await Promise.all(cs.slice(4).map((c) => groups.write(c)))
    expect(groups.stats).toEqual({ statements: 3, reports: 6, splits: 0, largest: 3 })
    expect([...first, later, ...last].every((r) => r.code !== null)).toBe(true)
    if (mode === 'embedded') {
      // The shared intake of an embedded handle gathers: three reports of one turn, one statement.
      const shared = intakeGroupsOf(db)
      const before = shared.stats.statements
      const more = Array.from({ length: 3 }, (_, k) => report(new Date(at.getTime() + (10 + k) * 1000), { lon: A.lon + (10 + k) * 200 * M }))
      await Promise.all(more.map((c) => shared.write(c)))
      expect(shared.stats.statements - before).toBe(1)
    }
  })

  it('a slow statement does not hold the queue: after spareAfterMs the next group leaves on another connection', async () => {
    // The first statement is held up for 300 ms (a stalled commit, say); the second report must not wait for it.
    let held = false
    const slow = {
      query: async (...args: Parameters<Db['query']>) => {
        if (!held) {
          held = true
          await new Promise((r) => setTimeout(r, 300))
        }
        return db.query(...args)
      },
    } as unknown as Db
    const groups = new IntakeGroups(slow, { maxInFlight: 2, spareAfterMs: 5 })
    const at = new Date('2022-03-20T09:00:00+08:00')
    const done: string[] = []
    const a = groups.write(report(at, { lon: A.lon + 10 * 200 * M })).then(() => void done.push('a'))
    const b = groups.write(report(at, { lon: A.lon + 11 * 200 * M })).then(() => void done.push('b'))
    await Promise.all([a, b])
    expect(done).toEqual(['b', 'a'])
    expect(groups.stats).toMatchObject({ statements: 2, reports: 2, largest: 1 })
  })

  it('a group that fails as a whole is written report by report: the bad one fails alone', async () => {
    const groups = new IntakeGroups(db, { maxInFlight: 1 })
    const at = new Date('2022-04-10T09:00:00+08:00')
    const first = report(at)
    const clash = report(at, { id: first.id, lon: A.lon + 100 * M }) // the first's id again: the primary key refuses it
    clash.event = { ...clash.event, id: first.id }
    const others = [report(at, { lon: A.lon + 200 * M }), report(at, { lon: A.lon + 300 * M })]
    const pending = [first, clash, ...others].map((c) => groups.write(c).then((r) => ({ ok: r }), (err: Error) => ({ err })))
    const [a, b, c, d] = await Promise.all(pending)
    // The first alone, the group of three (refused whole), then each of the three again alone.
    expect(groups.stats).toEqual({ statements: 5, reports: 7, splits: 1, largest: 3 })
    expect('ok' in a && a.ok.code).toBeTruthy()
    expect('err' in b && String(b.err)).toMatch(/duplicate key|unique/i)
    expect('ok' in c && c.ok.code).toBeTruthy()
    expect('ok' in d && d.ok.code).toBeTruthy()
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM cases WHERE id = ANY($1::uuid[])`, [[first.id, ...others.map((o) => o.id)]])
    expect(rows[0].n).toBe(3)
  })

  it('over HTTP, forty reports at once: each gets its own answer, every written one has its event, codes unique', async () => {
    // The app's own clock: these forty cases are reported now and due in hours, like any report of the run (a day in
    // the future would put them above every later report in the wall's list of the newest).
    const app = await buildApp({ db })
    onTestFinished(() => app.close())
    const bodies = Array.from({ length: 40 }, (_, k) =>
      k === 17
        ? { category: 'sanitation.garbage', description: '界外', lon: 121.47, lat: 31.23 }
        : { category: 'sanitation.garbage', description: `第 ${k} 件`, lon: A.lon + (k % 8) * 150 * M, lat: A.lat + Math.floor(k / 8) * 150 * M },
    )
    const res = await Promise.all(bodies.map((payload) => app.inject({ method: 'POST', url: '/api/cases', headers: { 'x-actor': 'worker-1' }, payload })))
    expect(res.map((r) => r.statusCode)).toEqual(bodies.map((_, k) => (k === 17 ? 422 : 201)))
    expect(res[17].json()).toMatchObject({ error: 'outside_grid', field: 'lon' })
    const created = res.filter((r) => r.statusCode === 201).map((r) => r.json())
    expect(created.map((c) => c.description)).toEqual(bodies.filter((_, k) => k !== 17).map((b) => b.description))
    expect(new Set(created.map((c) => c.code)).size).toBe(39)
    const { rows } = await db.query<{ id: string; code: string }>(
      `SELECT payload->'case'->>'id' AS id, payload->'case'->>'code' AS code FROM events WHERE kind = 'case:created' AND payload->'case'->>'id' = ANY($1::text[])`,
      [created.map((c) => c.id)],
    )
    expect(new Map(rows.map((r) => [r.id, r.code]))).toEqual(new Map(created.map((c) => [c.id, c.code])))
  })
})
