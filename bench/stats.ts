/**
 * Loop statistics (GET /api/stats/loop, /api/stats/overview) on a large synthetic case table: latency of the
 * service functions (one SQL pass each, no HTTP) per scope (everything, a district, a street, a community, a grid)
 * and grouping, over the last 30 days and a 366-day window, then the same after adding the indexes recommended in
 * docs/BENCHMARKS.md. Baseline in the same run: `count(*)` over the same window and region, the least any
 * statistics query over those rows has to read.
 *
 *   node --import tsx bench/stats.ts                                 # embedded PostGIS, 200,000 cases
 *   DATABASE_URL=postgres://… node --import tsx bench/stats.ts       # scratch database, 1,000,000 cases
 *   BENCH_CASES=… BENCH_RUNS=… BENCH_EXPLAIN=1 …                      # size, runs per row, print query plans
 *
 * Cases are written with SQL (not through the API), in reporting order: reported uniformly over the year before
 * "now", on random micro-grids, 3 % rejected, 2 % merged, the rest closed or rated unless reported in the last week (then half
 * of them still open); 5 % escalated once (half by the clock, with a timeline row). One `report` timeline row per case.
 */
import { syncReferenceData } from '../server/src/db/reference.ts'
import type { Db } from '../server/src/db/types.ts'
import { loopStats, overview } from '../server/src/services/stats.ts'
import type { StatsGroupBy } from '../shared/schemas/stats.ts'
import { openBenchDb } from './bench-db.ts'

const N = Number(process.env.BENCH_CASES ?? (process.env.DATABASE_URL ? 1_000_000 : 200_000))
const RUNS = Number(process.env.BENCH_RUNS ?? 15)
const EXPLAIN = process.env.BENCH_EXPLAIN === '1'
const NOW = new Date('2026-11-20T12:00:00+08:00')
const DAY = 86_400_000

const GENERATE = `
  WITH leaf AS (SELECT (row_number() OVER (ORDER BY id) - 1)::int AS i, id, path, ST_PointOnSurface(geom) AS pt
                  FROM regions WHERE level = 5 AND valid_to IS NULL),
       nl AS (SELECT count(*) AS n FROM leaf),
       cat AS (SELECT (row_number() OVER (ORDER BY code) - 1)::int AS i, code, expected_level FROM categories),
       nc AS (SELECT count(*) AS n FROM cat),
       g AS (SELECT g, random() AS u_leaf, random() AS u_cat, random() AS u_status, random() AS u_open, random() AS u_when,
                    random() AS u1, random() AS u2, random() AS u3, random() AS u4, random() AS u5, random() AS u6,
                    random() AS u_rate, random() AS u_esc
               FROM generate_series(1, $1::int) g),
       x AS (SELECT g.*, l.id AS leaf_id, l.path, l.pt, c.code AS category, c.expected_level,
                    $2::timestamptz - g.u_when * interval '365 days' AS rep,
                    CASE WHEN u_status < 0.03 THEN 'rejected'
                         WHEN u_status < 0.05 THEN 'merged'
                         WHEN u_when * 365 < 7 AND u_status < 0.5
                           THEN (ARRAY['reported','registered','dispatched','in_progress','handled','verified'])[1 + floor(u_open * 6)::int]
                         WHEN u_status < 0.6 THEN 'rated'
                         ELSE 'closed' END AS status
               FROM g
               JOIN leaf l ON l.i = floor(g.u_leaf * (SELECT n FROM nl))::int
               JOIN cat c ON c.i = floor(g.u_cat * (SELECT n FROM nc))::int),
       y AS (SELECT x.*,
                    array_position(ARRAY['reported','registered','dispatched','in_progress','handled','verified','closed','rated'], status) - 1 AS rank,
                    CASE WHEN u_esc < 0.05 THEN 1 ELSE 0 END AS esc,
                    rep + u1 * interval '1 hour' AS t_reg,
                    rep + u1 * interval '1 hour' + u2 * interval '1 hour' AS t_dis,
                    rep + u1 * interval '1 hour' + u2 * interval '1 hour' + u3 * interval '2 hours' AS t_acc,
                    rep + u1 * interval '1 hour' + u2 * interval '1 hour' + u3 * interval '2 hours' + u4 * interval '72 hours' AS t_han,
                    rep + u1 * interval '1 hour' + u2 * interval '1 hour' + u3 * interval '2 hours' + u4 * interval '72 hours' + u5 * interval '24 hours' AS t_ver,
                    rep + u1 * interval '1 hour' + u2 * interval '1 hour' + u3 * interval '2 hours' + u4 * interval '72 hours' + u5 * interval '24 hours' + u6 * interval '2 hours' AS t_clo
               FROM x)
  INSERT INTO cases (code, category, priority, status, source, description, location, region_path,
                     district_id, street_id, community_id, grid_id, microgrid_id, owning_level, escalations,
                     reported_at, updated_at, level_started_at, due_at,
                     registered_at, dispatched_at, accepted_at, handled_at, verified_at, closed_at, rated_at, rating)
  SELECT 'BENCH' || g, category, 'normal', status, 'grid_worker', 'bench', pt, path,
         ltree2text(subpath(path, 0, 1)), ltree2text(subpath(path, 1, 1)), ltree2text(subpath(path, 2, 1)),
         ltree2text(subpath(path, 3, 1)), leaf_id, greatest(1, expected_level - esc), esc,
         rep, rep, rep, rep + interval '72 hours',
         CASE WHEN rank >= 1 OR status = 'merged' THEN t_reg END,
         CASE WHEN rank >= 2 THEN t_dis END,
         CASE WHEN rank >= 3 THEN t_acc END,
         CASE WHEN rank >= 4 THEN t_han END,
         CASE WHEN rank >= 5 THEN t_ver END,
         CASE WHEN rank >= 6 THEN t_clo END,
         CASE WHEN rank >= 7 THEN t_clo + interval '1 hour' END,
         CASE WHEN rank >= 7 THEN 1 + floor(u_rate * 5)::int END
    FROM y
   ORDER BY rep` // in reporting order, as a live table fills

const TIMELINE = `
  INSERT INTO case_events (case_id, at, actor, action, from_status, to_status, to_level, data)
  SELECT id, reported_at, 'bench', 'report', NULL, 'reported', owning_level + escalations, '{}'::jsonb FROM cases;
  INSERT INTO case_events (case_id, at, actor, action, from_status, to_status, from_level, to_level, data)
  SELECT id, reported_at + interval '80 hours', 'system', 'escalate', 'dispatched', 'dispatched', owning_level + 1, owning_level,
         jsonb_build_object('trigger', CASE WHEN hashtext(id::text) % 2 = 0 THEN 'overdue' ELSE 'whistle' END)
    FROM cases WHERE escalations > 0;`

/** The indexes the report recommends (not in the migrations): measured here in a second pass. */
const RECOMMENDED = [
  `CREATE INDEX bench_cases_open_region_gist ON cases USING gist (region_path)
     WHERE status IN ('reported', 'registered', 'dispatched', 'in_progress', 'handled', 'verified')`,
  `CREATE INDEX bench_cases_closed_at_idx ON cases (closed_at) WHERE closed_at IS NOT NULL`,
]

function pct(ms: number[], p: number) {
  const s = [...ms].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]
}

async function time(fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  await fn() // warm-up
  const ms: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now()
    await fn()
    ms.push(performance.now() - t0)
  }
  return { p50: pct(ms, 0.5), p95: pct(ms, 0.95) }
}

const f = (x: { p50: number; p95: number }) => `${x.p50.toFixed(1)} / ${x.p95.toFixed(1)}`

async function scopes(db: Db) {
  const pick = async (sql: string) => (await db.query<{ id: string; path: string }>(sql)).rows[0]
  const district = await pick(`SELECT id, path::text AS path FROM regions WHERE level = 1 AND valid_to IS NULL ORDER BY id LIMIT 1`)
  const street = await pick(`SELECT id, path::text AS path FROM regions WHERE level = 2 AND path <@ '${district.path}' ORDER BY id LIMIT 1`)
  const community = await pick(`SELECT id, path::text AS path FROM regions WHERE level = 3 AND path <@ '${street.path}' ORDER BY id LIMIT 1`)
  const grid = await pick(`SELECT id, path::text AS path FROM regions WHERE level = 4 AND path <@ '${community.path}' ORDER BY id LIMIT 1`)
  return [
    ['everything', undefined],
    ['district', district],
    ['street', street],
    ['community', community],
    ['grid', grid],
  ] as const
}

async function measure(db: Db, label: string) {
  const rows: string[] = []
  const from30 = new Date(NOW.getTime() - 30 * DAY).toISOString()
  const from366 = new Date(NOW.getTime() - 366 * DAY).toISOString()
  for (const [name, region] of await scopes(db)) {
    const base = (from: string) => async () => {
      const where = region ? ` AND region_path <@ '${region.path}'::ltree` : ''
      await db.query(`SELECT count(*) FROM cases WHERE reported_at >= $1 AND reported_at < $2${where}`, [from, NOW])
    }
    const { rows: n } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM cases WHERE reported_at >= $1 AND reported_at < $2${region ? ` AND region_path <@ '${region.path}'::ltree` : ''}`,
      [from30, NOW],
    )
    const loop = (groupBy: StatsGroupBy, from: string) => () =>
      loopStats(db, { regionId: region?.id, from, to: NOW.toISOString(), groupBy }, NOW)
    const cells = [
      f(await time(base(from30))),
      f(await time(loop('none', from30))),
      f(await time(loop('child_region', from30))),
      f(await time(loop('day', from30))),
      f(await time(loop('category', from30))),
      f(await time(base(from366))),
      f(await time(loop('none', from366))),
      f(await time(() => overview(db, { regionId: region?.id }, NOW))),
    ]
    rows.push(`| ${label} | ${name} | ${n[0].n.toLocaleString('en')} | ${cells.join(' | ')} |`)
    console.log(rows.at(-1))
  }
  return rows
}

async function explain(db: Db, title: string, sql: string, params: unknown[]) {
  if (!EXPLAIN) return
  const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, params)
  console.log(`\n-- ${title}\n${rows.map((r) => r['QUERY PLAN']).join('\n')}`)
}

const { db, dispose } = await openBenchDb()
try {
  await syncReferenceData(db)
  let t0 = performance.now()
  await db.transaction(async (tx) => {
    await tx.query('SELECT setseed(0.42)')
    await tx.query(GENERATE, [N, NOW])
  })
  await db.exec(TIMELINE)
  await db.query('ANALYZE')
  console.log(`${db.mode}: ${N.toLocaleString('en')} cases written in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

  const [, [, district]] = await scopes(db)
  const from30 = new Date(NOW.getTime() - 30 * DAY)
  await explain(db, 'open cases of a district (overview)', `SELECT c.status, count(*) FROM cases c WHERE c.status IN ('reported','registered','dispatched','in_progress','handled','verified') AND c.region_path <@ $1::ltree GROUP BY 1`, [district!.path])
  await explain(db, 'closed today in a district (overview)', `SELECT count(*) FROM cases c WHERE c.closed_at >= $1 AND c.closed_at < $2 AND c.status IN ('closed','rated') AND c.region_path <@ $3::ltree`, [new Date(NOW.getTime() - DAY / 2), NOW, district!.path])
  await explain(db, 'last 30 days of a district (loop)', `SELECT count(*) FROM cases c WHERE c.reported_at >= $1 AND c.reported_at < $2 AND c.region_path <@ $3::ltree`, [from30, NOW, district!.path])

  console.log(`\n| indexes | scope | cases in 30 days | count(*) 30 d | loop 30 d | by child region | by day | by category | count(*) 366 d | loop 366 d | overview |`)
  console.log('|---|---|---|---|---|---|---|---|---|---|---|')
  await measure(db, 'migrations')
  t0 = performance.now()
  for (const sql of RECOMMENDED) await db.query(sql)
  await db.query('ANALYZE cases')
  console.log(`(recommended indexes built in ${((performance.now() - t0) / 1000).toFixed(1)} s)`)
  await explain(db, 'open cases of a district, recommended indexes', `SELECT c.status, count(*) FROM cases c WHERE c.status IN ('reported','registered','dispatched','in_progress','handled','verified') AND c.region_path <@ $1::ltree GROUP BY 1`, [district!.path])
  await explain(db, 'closed today in a district, recommended indexes', `SELECT count(*) FROM cases c WHERE c.closed_at >= $1 AND c.closed_at < $2 AND c.status IN ('closed','rated') AND c.region_path <@ $3::ltree`, [new Date(NOW.getTime() - DAY / 2), NOW, district!.path])
  await measure(db, '+ recommended')
} finally {
  await dispose()
}
