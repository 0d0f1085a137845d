import pg from 'pg'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { analyzeStaleTables, staleTables, startPlannerStats } from '../../src/db/statistics.ts'
import type { Queryable } from '../../src/db/types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'

/**
 * Planner statistics where autovacuum does not keep them (server/src/db/statistics.ts): a table that has grown since
 * its last ANALYZE is analysed, and a prepared statement planned while the table was empty is planned again — the
 * intake statement's duplicate check read every case by a sequential scan until this was done.
 */
describe.each(DB_MODES)('planner statistics (%s)', (mode) => {
  it('analyses a table that outgrew its statistics, and a generic plan made while it was empty is made again', async () => {
    const db = await testDb(mode)
    const table = `stats_probe_${process.pid}_${Date.now()}`
    await db.exec(`CREATE TABLE ${table} (id serial PRIMARY KEY, pt geometry(Point, 4326));
                   CREATE INDEX ${table}_pt ON ${table} USING gist (pt);
                   ANALYZE ${table};`)
    // The plan is made on one session: a client of its own on PostgreSQL, the one session of the embedded database.
    let session: Queryable = db
    if (mode === 'postgres') {
      const c = new pg.Client({ connectionString: inject('pgUrl')! })
      await c.connect()
      onTestFinished(() => c.end())
      session = { query: (sql: string, params?: unknown[]) => c.query(sql, params) as never, exec: async (sql: string) => void (await c.query(sql)) }
    }
    onTestFinished(async () => {
      await session.query('DEALLOCATE ALL')
      await session.query('RESET plan_cache_mode')
      await db.exec(`DROP TABLE IF EXISTS ${table}`)
    })
    const probe = async () => {
      const { rows } = await session.query<{ 'QUERY PLAN': string }>('EXPLAIN EXECUTE stats_probe(119.65, 29.08)')
      return rows.map((r) => r['QUERY PLAN']).join('\n')
    }
    await session.query('SET plan_cache_mode = force_generic_plan')
    await session.query(`PREPARE stats_probe(float8, float8) AS
      SELECT id FROM ${table} WHERE pt && ST_Expand(ST_SetSRID(ST_MakePoint($1, $2), 4326), 0.0005)`)
    expect(await probe()).toMatch(/Seq Scan/) // planned on an empty table
    expect((await staleTables(db)).map((t) => t.name)).not.toContain(`public.${table}`)

    await db.query(`INSERT INTO ${table} (pt)
      SELECT ST_SetSRID(ST_MakePoint(119.3 + random() * 0.6, 28.9 + random() * 0.4), 4326) FROM generate_series(1, 20000)`)
    expect(await probe()).toMatch(/Seq Scan/) // the plan made when it was empty is kept
    expect((await staleTables(db)).map((t) => t.name)).toContain(`public.${table}`)

    expect(await analyzeStaleTables(db)).toContain(`public.${table}`)
    expect((await staleTables(db)).map((t) => t.name)).not.toContain(`public.${table}`)
    const { rows } = await db.query<{ reltuples: number }>(`SELECT reltuples::float8 AS reltuples FROM pg_class WHERE relname = $1`, [table])
    expect(rows[0].reltuples).toBeGreaterThan(15_000)
    // The ANALYZE invalidated the cached plan: made again from the table's real size, it reads the index.
    const plan = await probe()
    expect(plan).not.toMatch(/Seq Scan/)
    expect(plan).toMatch(new RegExp(`${table}_pt`))
  })

  it('analyses a table once when two passes run at the same time', async () => {
    const db = await testDb(mode)
    const table = `stats_twice_${process.pid}_${Date.now()}`
    await db.exec(`CREATE TABLE ${table} (id int); ANALYZE ${table};`)
    onTestFinished(() => db.exec(`DROP TABLE IF EXISTS ${table}`))
    await db.query(`INSERT INTO ${table} SELECT generate_series(1, 5000)`)
    const passes = await Promise.all([analyzeStaleTables(db), analyzeStaleTables(db)])
    expect(passes.flat().filter((n) => n === `public.${table}`)).toHaveLength(1)
  })

  it('a table that cannot be analysed does not stop the others: its error is reported, the rest are analysed', async () => {
    const db = await testDb(mode)
    const tag = `${process.pid}_${Date.now()}`
    // An expression index whose function fails once a flag is set: inserting works, ANALYZE (which evaluates the
    // expression on its sample) then fails for that table.
    await db.exec(`CREATE TABLE stats_flag_${tag} (on_ boolean NOT NULL);
                   INSERT INTO stats_flag_${tag} VALUES (false);
                   CREATE FUNCTION stats_boom_${tag}(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
                   BEGIN
                     IF (SELECT on_ FROM public.stats_flag_${tag}) THEN RAISE EXCEPTION 'boom ${tag}'; END IF;
                     RETURN x;
                   END $$;
                   CREATE TABLE stats_a_bad_${tag} (id int);
                   CREATE INDEX ON stats_a_bad_${tag} (stats_boom_${tag}(id));
                   CREATE TABLE stats_b_good_${tag} (id int);
                   ANALYZE stats_flag_${tag}; ANALYZE stats_a_bad_${tag}; ANALYZE stats_b_good_${tag};`)
    onTestFinished(() => db.exec(`DROP TABLE IF EXISTS stats_a_bad_${tag}, stats_b_good_${tag}, stats_flag_${tag}; DROP FUNCTION IF EXISTS stats_boom_${tag}(int);`))
    await db.query(`INSERT INTO stats_a_bad_${tag} SELECT generate_series(1, 5000)`)
    await db.query(`INSERT INTO stats_b_good_${tag} SELECT generate_series(1, 5000)`)
    await db.query(`UPDATE stats_flag_${tag} SET on_ = true`)

    const errors: unknown[] = []
    const done = await analyzeStaleTables(db, 5, 0.1, (err) => errors.push(err))
    expect(done).toContain(`public.stats_b_good_${tag}`)
    expect(done).not.toContain(`public.stats_a_bad_${tag}`)
    expect(errors.map(String).filter((e) => e.includes(`boom ${tag}`))).toHaveLength(1)
    // Without a handler, the failure is the caller's.
    await expect(analyzeStaleTables(db)).rejects.toThrow(`boom ${tag}`)
  })

  it('runs a pass at start where autovacuum does not keep statistics, and stops', async () => {
    const db = await testDb(mode)
    const { rows } = await db.query<{ on: boolean }>(`SELECT current_setting('autovacuum') = 'on' AS on`)
    const job = await startPlannerStats(db, { intervalMs: 60_000 })
    // On PostgreSQL with autovacuum on, autovacuum does it: no job. PGlite runs no autovacuum, whatever it says.
    if (mode === 'postgres' && rows[0].on) expect(job).toBeUndefined()
    else expect(job).toBeDefined()
    await job?.stop()

    const table = `stats_start_${process.pid}_${Date.now()}`
    await db.exec(`CREATE TABLE ${table} (id int); ANALYZE ${table};`)
    onTestFinished(() => db.exec(`DROP TABLE IF EXISTS ${table}`))
    await db.query(`INSERT INTO ${table} SELECT generate_series(1, 5000)`)
    const analysed: string[][] = []
    const forced = await startPlannerStats(db, { intervalMs: 60_000, always: true, onAnalyze: (t) => analysed.push(t) })
    await forced!.stop() // waits for the pass it started at once
    expect(analysed.flat()).toContain(`public.${table}`)
  })
})
