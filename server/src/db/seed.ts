import { readdirSync, readFileSync } from 'node:fs'
import type { Db, Queryable } from './types.ts'

/** Output of `npm run data:build` (data/scripts/build-region.ts): the five-level demo region, staff, cameras. */
export const GENERATED_DIR = new URL('../../../data/generated/', import.meta.url)

const INSERT_REGIONS = `
  INSERT INTO regions (id, parent_id, level, name, path, geom, households, population, attributes)
  SELECT f.id, f.parent_id, f.level, f.name,
         CASE WHEN f.parent_id IS NULL THEN text2ltree(f.id) ELSE p.path || text2ltree(f.id) END,
         ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(f.geometry), 4326)),
         f.households, f.population, f.attributes
    FROM (SELECT e->>'id' AS id, e->'properties'->>'parentId' AS parent_id, (e->'properties'->>'level')::smallint AS level,
                 e->'properties'->>'name' AS name, (e->'properties'->>'households')::int AS households,
                 (e->'properties'->>'population')::int AS population,
                 coalesce(e->'properties'->'attributes', '{}'::jsonb) - 'chiefId' AS attributes,
                 e->>'geometry' AS geometry
            FROM jsonb_array_elements($1::jsonb->'features') AS e) f
    LEFT JOIN regions p ON p.id = f.parent_id`

const INSERT_WORKERS = `
  INSERT INTO workers (id, name, role, region_id, phone, status, home, position)
  SELECT w->>'id', w->>'name', w->>'role', w->>'regionId', w->>'phone', 'off_duty',
         ST_SetSRID(ST_MakePoint((w->'home'->>0)::float8, (w->'home'->>1)::float8), 4326),
         ST_SetSRID(ST_MakePoint((w->'home'->>0)::float8, (w->'home'->>1)::float8), 4326)
    FROM jsonb_array_elements($1::jsonb) AS w`

const SET_GRID_CHIEFS = `
  UPDATE regions r SET chief_id = w.id FROM workers w WHERE w.region_id = r.id AND w.role = 'grid_chief'`

/**
 * Each camera is tagged with the finest region that covers it, by the same rule as point resolution
 * (server/src/repos/resolve/sql-fallback.ts): the region_parts the trigger built for the regions inserted just before.
 */
const INSERT_CAMERAS = `
  INSERT INTO cameras (id, name, kind, location, stream_url, status, region_id, region_path)
  SELECT c.id, c.name, c.kind, c.pt, c.stream_url, 'online', r.region_id, r.path
    FROM (SELECT e->>'id' AS id, e->'properties'->>'name' AS name, e->'properties'->>'kind' AS kind,
                 e->'properties'->>'streamUrl' AS stream_url, ST_SetSRID(ST_GeomFromGeoJSON(e->>'geometry'), 4326) AS pt
            FROM jsonb_array_elements($1::jsonb->'features') AS e) c
    LEFT JOIN LATERAL (SELECT region_id, path FROM region_parts WHERE ST_Covers(geom, c.pt)
                        ORDER BY level DESC, region_id LIMIT 1) r ON true`

/** The Foundation's first slice (districts + synthetic level-4 cells named like 330702G0001), replaced on upgrade. */
const FOUNDATION_SLICE = `
  SELECT count(*) FILTER (WHERE level = 2)::int AS streets,
         count(*) FILTER (WHERE level = 4 AND id ~ '^[0-9]{6}G[0-9]{4}$')::int AS foundation_grids
    FROM regions`

/** What a first start loaded; `seeded: false` when the database already held regions (nothing counted then). */
export type SeedResult =
  | { seeded: false }
  | { seeded: true; replacedFoundationSlice: boolean; counts: Record<number, number>; workers: number; cameras: number }

const read = (name: string) => readFileSync(new URL(name, GENERATED_DIR), 'utf8')

/**
 * Loads the demo region when the database has no regions (first start); one transaction, so a failed load leaves
 * nothing behind. Level by level, so each row's path extends its parent's.
 */
export async function seedDemoRegions(db: Db): Promise<SeedResult> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM regions')
  let replacedFoundationSlice = false
  if (rows[0].n > 0) {
    const slice = (await db.query<{ streets: number; foundation_grids: number }>(FOUNDATION_SLICE)).rows[0]
    if (!(slice.streets === 0 && slice.foundation_grids > 0)) return { seeded: false }
    replacedFoundationSlice = true
  }
  const files = readdirSync(GENERATED_DIR).filter((f) => /^regions-\d-.*\.geojson$/.test(f)).sort()
  await db.transaction(async (tx) => {
    if (replacedFoundationSlice) {
      // Demo data only: the Foundation slice's simulated cases point at grids that no longer exist.
      // case_events is append-only (a trigger refuses DELETE); this one-off demo clean-up lifts that for itself.
      await tx.exec(
        'ALTER TABLE case_events DISABLE TRIGGER USER; DELETE FROM case_events; ALTER TABLE case_events ENABLE TRIGGER USER; ' +
          'DELETE FROM cases; DELETE FROM events; DELETE FROM regions;',
      )
    }
    for (const file of files) await tx.query(INSERT_REGIONS, [read(file)])
    await tx.query(INSERT_WORKERS, [read('workers.json')])
    await tx.query(SET_GRID_CHIEFS)
    await tx.query(INSERT_CAMERAS, [read('cameras.geojson')])
  })
  return { seeded: true, replacedFoundationSlice, ...(await countAll(db)) }
}

async function countAll(q: Queryable): Promise<{ counts: Record<number, number>; workers: number; cameras: number }> {
  const { rows } = await q.query<{ level: number; n: number }>('SELECT level, count(*)::int AS n FROM regions GROUP BY level ORDER BY level')
  const w = await q.query<{ workers: number; cameras: number }>(
    'SELECT (SELECT count(*) FROM workers)::int AS workers, (SELECT count(*) FROM cameras)::int AS cameras',
  )
  return { counts: Object.fromEntries(rows.map((r) => [r.level, r.n])), ...w.rows[0] }
}
