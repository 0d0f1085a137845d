/**
 * Prints the GENERIC plan of the intake statement (repos/cases.ts INTAKE_SQL), the plan the server runs it with
 * (pg-db.ts: plan_cache_mode=force_generic_plan), for a group of three reports, and checks it: its only scans of
 * cases (the possible duplicates) must be the GIST index on cases.location, never a walk of reported_at or category,
 * and its region lookup, once per report, the GIST index on region_parts.geom. PostgreSQL only:
 *   DATABASE_URL=postgres://… node --import tsx bench/explain-intake.ts
 */
import { randomUUID } from 'node:crypto'
import { INTAKE_SQL, insertReportedCases, type NewCase } from '../server/src/repos/cases.ts'
import { syncReferenceData } from '../server/src/db/reference.ts'
import { openBenchDb } from './bench-db.ts'

const { db, dispose } = await openBenchDb()
try {
  if (db.mode !== 'postgres') throw new Error('set DATABASE_URL: the generic plan is a PostgreSQL thing')
  // A table with cases in it (an empty one is read by a sequential scan whatever the plan): BENCH_CASES reports at
  // random points of the region, through the statement itself, then fresh statistics.
  await syncReferenceData(db)
  const n = Number(process.env.BENCH_CASES ?? 5000)
  const { rows: pts } = await db.query<{ lon: number; lat: number }>(
    `SELECT ST_X(g) AS lon, ST_Y(g) AS lat FROM (SELECT (ST_Dump(ST_GeneratePoints(ST_Union(geom), $1, 7))).geom AS g FROM regions WHERE level = 1) s`,
    [n],
  )
  const cats = ['sanitation', 'safety_hazard', 'public_facilities', 'dispute']
  const report = (p: { lon: number; lat: number }, i: number): NewCase => {
    const at = new Date(Date.now() - (i % 48) * 1800_000)
    return {
      id: randomUUID(), category: cats[i % 4], priority: 'normal', description: 'x', lon: p.lon, lat: p.lat, source: 'resident',
      department: 'urban_management', owningLevel: 4, reportedAt: at, dueAt: at, actor: 'x', attachments: [], timelineData: {},
      event: {} as NewCase['event'],
    }
  }
  for (let k = 0; k < pts.length; k += 100) await insertReportedCases(db, pts.slice(k, k + 100).map((p, j) => report(p, k + j)))
  await db.query('ANALYZE')
  const { rows: cnt } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cases')
  console.log(`${cnt[0].n} cases`)
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL plan_cache_mode = force_generic_plan')
    await tx.query(`PREPARE intake AS ${INTAKE_SQL}`)
    const now = new Date().toISOString()
    const arr = (v: string) => `ARRAY[${v}, ${v}, ${v}]`
    const ids = [randomUUID(), randomUUID(), randomUUID()].map((u) => `'${u}'`).join(', ')
    const { rows } = await tx.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN EXECUTE intake(${arr('119.65')}, ${arr('29.08')}, ${arr("'sanitation'")}, ARRAY[${ids}]::uuid[], ${arr("'normal'")},
         ${arr("'x'")}, ARRAY[NULL, NULL, NULL]::text[], ${arr("'resident'")}, ARRAY[NULL, NULL, NULL]::text[], ${arr('4')},
         ${arr(`'${now}'`)}::timestamptz[], ${arr("'x'")}, ${arr(`'${now}'`)}::timestamptz[], ${arr("'x'")}, ${arr("'[]'")}::jsonb[],
         ${arr("'{}'")}::jsonb[], ${arr("'{}'")}::jsonb[], '{reported}', 24, 50, 0.001, ARRAY[NULL, NULL, NULL]::timestamptz[], ${arr('false')})`,
    )
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n')
    console.log(plan)
    const casesScans = [...plan.matchAll(/(Index Scan using \S+|Bitmap Index Scan on \S+|Seq Scan) on cases\b|Bitmap Index Scan on (cases_\S+)/g)].map((m) => m[0])
    const partsScan = /(Index Scan using \S+|Bitmap Index Scan on \S+|Seq Scan) on region_parts|Bitmap Index Scan on (region_parts\S+)/.exec(plan)?.[0] ?? '(none found)'
    console.log(`\nscans of cases: ${casesScans.join('; ') || '(none)'} → ${casesScans.length && casesScans.every((x) => /location/.test(x)) ? 'the GIST index on cases.location only, as it must be' : 'NOT the GIST index only: the fence failed'}`)
    console.log(`region lookup: ${partsScan} → ${/geom/.test(partsScan) ? 'the GIST index on region_parts.geom, as it must be' : 'NOT the GIST index'}`)
    await tx.query('DEALLOCATE intake')
  })
} finally {
  await dispose()
}
