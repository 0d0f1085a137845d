/**
 * Prints the GENERIC plan of the intake statement (repos/cases.ts INTAKE_SQL), the plan a prepared statement falls
 * back to after five runs: its duplicates scan must use the GIST index on cases.location, never a walk of
 * reported_at or category. The same for the group intake (INTAKE_GROUP_SQL): its duplicates scan and its region
 * lookup, once per report of the group, must be the GIST indexes. PostgreSQL only:
 *   DATABASE_URL=postgres://… node --import tsx bench/explain-intake.ts
 */
import { randomUUID } from 'node:crypto'
import { INTAKE_GROUP_SQL, INTAKE_SQL } from '../server/src/repos/cases.ts'
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
  for (const [i, p] of pts.entries()) {
    const at = new Date(Date.now() - (i % 48) * 1800_000).toISOString()
    await db.query(INTAKE_SQL, [p.lon, p.lat, cats[i % 4], randomUUID(), 'normal', 'x', null, 'resident', null, 4, at, 'urban_management', at, 4, 'x', '[]', '{}', '{}', ['reported'], 24, 50, 0.001])
  }
  await db.query('ANALYZE')
  const { rows: cnt } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cases')
  console.log(`${cnt[0].n} cases`)
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL plan_cache_mode = force_generic_plan')
    await tx.query(`PREPARE intake AS ${INTAKE_SQL}`)
    const now = new Date().toISOString()
    const { rows } = await tx.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN EXECUTE intake(119.65, 29.08, 'sanitation', '${randomUUID()}', 'normal', 'x', NULL, 'resident', NULL, 4, '${now}', 'x', '${now}', 4, 'x', '[]', '{}', '{}', '{reported}', 24, 50, 0.001)`,
    )
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n')
    console.log(plan)
    // `d` is inlined (an InitPlan over "Subquery Scan on d"): its scan is the first scan of cases below that line.
    const d = plan.slice(plan.indexOf('Subquery Scan on d'))
    const scan = /(Index Scan using \S+|Bitmap Index Scan on \S+|Seq Scan) on cases|Index Scan using (\S+) on cases/.exec(d)?.[0] ?? '(none found)'
    console.log(`\nduplicates scan: ${scan} → ${/location/.test(scan) ? 'the GIST index on cases.location, as it must be' : 'NOT the GIST index: the fence failed'}`)
    await tx.query('DEALLOCATE intake')

    // The group statement, as the server runs it (pg-db.ts: force_generic_plan), for a group of three.
    await tx.query(`PREPARE intake_group AS ${INTAKE_GROUP_SQL}`)
    const arr = (v: string) => `ARRAY[${v}, ${v}, ${v}]`
    const ids = [randomUUID(), randomUUID(), randomUUID()].map((u) => `'${u}'`).join(', ')
    const { rows: g } = await tx.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN EXECUTE intake_group(${arr('119.65')}, ${arr('29.08')}, ${arr("'sanitation'")}, ARRAY[${ids}]::uuid[], ${arr("'normal'")},
         ${arr("'x'")}, ARRAY[NULL, NULL, NULL]::text[], ${arr("'resident'")}, ARRAY[NULL, NULL, NULL]::text[], ${arr('4')},
         ${arr(`'${now}'`)}::timestamptz[], ${arr("'x'")}, ${arr(`'${now}'`)}::timestamptz[], ${arr("'x'")}, ${arr("'[]'")}::jsonb[],
         ${arr("'{}'")}::jsonb[], ${arr("'{}'")}::jsonb[], 4, '{reported}', 24, 50, 0.001)`,
    )
    const groupPlan = g.map((r) => r['QUERY PLAN']).join('\n')
    console.log(`\n${groupPlan}`)
    const casesScans = [...groupPlan.matchAll(/(Index Scan using \S+|Bitmap Index Scan on \S+|Seq Scan) on cases\b|Bitmap Index Scan on (cases_\S+)/g)].map((m) => m[0])
    const partsScan = /(Index Scan using \S+|Bitmap Index Scan on \S+|Seq Scan) on region_parts|Bitmap Index Scan on (region_parts\S+)/.exec(groupPlan)?.[0] ?? '(none found)'
    console.log(`\ngroup: scans of cases: ${casesScans.join('; ') || '(none)'} → ${casesScans.length && casesScans.every((x) => /location/.test(x)) ? 'the GIST index on cases.location only, as it must be' : 'NOT the GIST index only'}`)
    console.log(`group: region lookup: ${partsScan} → ${/geom/.test(partsScan) ? 'the GIST index on region_parts.geom' : 'NOT the GIST index'}`)
    await tx.query('DEALLOCATE intake_group')
  })
} finally {
  await dispose()
}
