/**
 * SQL of the region import (services/region-import.ts). Everything runs inside the import's one transaction on
 * two TEMP tables dropped at its end: `region_import` (the file's features as staged) and `region_import_final`
 * (the regions as they would be after the import: the checked features plus the current regions they touch).
 *
 * Written for PostGIS 3.3 (Debian, CI) and 3.6 (embedded) alike: pairwise ST_Relate / ST_Intersection with an `&&`
 * prefilter rather than ST_CoverageInvalidEdges (3.4+), and ST_SymDifference rather than ST_Difference for gaps.
 * The embedded PGlite 0.5.8 turns a GEOS exception into an EMPTY RESULT instead of an error (seen with ST_Difference
 * and with ST_IsValidReason on an unclosed ring): every query that calls GEOS returns one row per candidate and
 * its row count is compared with a GEOS-free count of the candidates (`expectRows`).
 */
import type { Queryable } from '../db/types.ts'

/** pg_advisory_xact_lock key: imports run one at a time (two imports of the same ids would race). */
const IMPORT_LOCK_KEY = 7_100_002
const STAGE_CHUNK = 1000

/**
 * m² per square degree at latitude `lat` (SQL expression, degrees) on the WGS84 ellipsoid: M·N·cos φ·(π/180)².
 * Areas are measured as the planar shapes GEOS computed (edges straight in lon/lat) scaled at the latitude of their
 * bounding-box centre. ST_Area(geography) would read every edge as a great-circle arc instead: a sliver with no
 * planar area along a parallel 20 km long (two children's shared vertex 1e-14° off their parent's edge, as after a
 * reprojection) then measures ~40,000 m², a false gap.
 */
const perSquareDegree = (lat: string) =>
  `(0.0003046174197867086 * 40680631590769 * 0.99330562000986 * cos(radians(${lat}))
     / power(1 - 0.00669437999014 * sin(radians(${lat}))^2, 2))`
const midLat = (g: string) => `((ST_YMin(${g}) + ST_YMax(${g})) / 2)`
/** Area in m² of a lon/lat geometry expression (see perSquareDegree). */
const areaM2 = (g: string) => `(ST_Area(${g}) * ${perSquareDegree(midLat(g))})`

export class SilentGeosFailure extends Error {
  constructor(what: string, expected: number, got: number) {
    super(`${what}: PostGIS returned ${got} rows for ${expected} candidates (a GEOS error swallowed by the embedded database?)`)
    this.name = 'SilentGeosFailure'
  }
}

function expectRows<T>(rows: T[], expected: number, what: string): T[] {
  if (rows.length !== expected) throw new SilentGeosFailure(what, expected, rows.length)
  return rows
}

export async function lockRegionImports(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK_KEY])
}

export interface StagedFeature {
  ord: number
  id: string | null
  parent_id: string | null
  level: number | null
  name: string | null
  households: number | null
  population: number | null
  attributes: Record<string, unknown>
  /** GeoJSON geometry (structurally checked), or null. */
  geometry: unknown
}

const CREATE_STAGING = `
  CREATE TEMP TABLE region_import (
    ord        integer PRIMARY KEY,      -- position in the file
    id         text UNIQUE,              -- NULL when missing, malformed or a duplicate
    parent_id  text,
    level      smallint,
    name       text,
    households integer,
    population integer,
    attributes jsonb NOT NULL,
    geom_in    geometry,                 -- as given (2D, 4326), possibly invalid
    geom       geometry(MultiPolygon, 4326), -- valid (or repaired) version; NULL when unusable
    checked    boolean NOT NULL DEFAULT false, -- passed every per-feature check: takes part in topology checks
    action     text,                     -- create | update | unchanged
    path       ltree                     -- computed before writing
  ) ON COMMIT DROP;
  CREATE INDEX region_import_parent_idx ON region_import (parent_id);`

const STAGE = `
  INSERT INTO region_import (ord, id, parent_id, level, name, households, population, attributes, geom_in)
  SELECT f.ord, f.id, f.parent_id, f.level, f.name, f.households, f.population, coalesce(f.attributes, '{}'::jsonb),
         CASE WHEN f.geometry IS NOT NULL THEN ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(f.geometry::text), 4326)) END
    FROM json_to_recordset($1::json) AS f(ord integer, id text, parent_id text, level smallint, name text,
                                          households integer, population integer, attributes jsonb, geometry json)`

/** Loads the features into the TEMP table `region_import` (dropped at the end of the transaction). */
export async function stageFeatures(tx: Queryable, features: StagedFeature[]): Promise<void> {
  await tx.exec(CREATE_STAGING)
  for (let i = 0; i < features.length; i += STAGE_CHUNK) {
    const chunk = features.slice(i, i + STAGE_CHUNK)
    const { rowCount } = await tx.query(STAGE, [JSON.stringify(chunk)])
    if (rowCount !== chunk.length) throw new SilentGeosFailure('staging the features', chunk.length, rowCount)
  }
}

export interface ValidityRow {
  ord: number
  valid: boolean
  reason: string | null
  x: number | null
  y: number | null
}

const VALIDITY = `
  SELECT f.ord, d.valid,
         CASE WHEN NOT d.valid THEN ST_IsValidReason(f.geom_in) END AS reason,
         ST_X(d.location) AS x, ST_Y(d.location) AS y
    FROM region_import f, ST_IsValidDetail(f.geom_in) d
   WHERE f.geom_in IS NOT NULL AND ($1::int[] IS NULL OR f.ord = ANY($1::int[]))
   ORDER BY f.ord`

/**
 * ST_IsValid / ST_IsValidReason / the location of the problem for every staged geometry. When the batch comes back
 * short (embedded database, GEOS exception) each geometry is asked alone; one that still yields nothing is
 * returned with valid = false and reason null.
 */
export async function geometryValidity(tx: Queryable): Promise<ValidityRow[]> {
  const { rows: all } = await tx.query<{ ord: number }>('SELECT ord FROM region_import WHERE geom_in IS NOT NULL ORDER BY ord')
  const { rows } = await tx.query<ValidityRow>(VALIDITY, [null])
  if (rows.length === all.length) return rows
  const out: ValidityRow[] = []
  for (const { ord } of all) {
    const one = (await tx.query<ValidityRow>(VALIDITY, [[ord]])).rows[0]
    out.push(one ?? { ord, valid: false, reason: null, x: null, y: null })
  }
  return out
}

/** Valid geometries as MultiPolygons in `geom`. */
export async function acceptGeometries(tx: Queryable, ords: number[]): Promise<void> {
  if (ords.length === 0) return
  const { rowCount } = await tx.query('UPDATE region_import SET geom = ST_Multi(geom_in) WHERE ord = ANY($1::int[])', [ords])
  if (rowCount !== ords.length) throw new SilentGeosFailure('accepting valid geometries', ords.length, rowCount)
}

export interface RepairRow {
  ord: number
  empty: boolean
  valid: boolean
  beforeM2: number
  afterM2: number
}

/**
 * ST_MakeValid, polygons kept (ST_CollectionExtract(…, 3)), for the invalid geometries `ords`. Returns what it made
 * of each so the caller can keep or refuse it (refuseRepairs).
 */
export async function repairGeometries(tx: Queryable, ords: number[]): Promise<RepairRow[]> {
  if (ords.length === 0) return []
  const { rowCount } = await tx.query(
    'UPDATE region_import SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(geom_in), 3)) WHERE ord = ANY($1::int[])',
    [ords],
  )
  if (rowCount !== ords.length) throw new SilentGeosFailure('repairing geometries', ords.length, rowCount)
  const { rows } = await tx.query<RepairRow>(
    `SELECT ord, ST_IsEmpty(geom) AS empty, ST_IsValid(geom) AS valid,
            ${areaM2('geom_in')} AS "beforeM2", ST_Area(geom) * ${perSquareDegree(midLat('geom_in'))} AS "afterM2"
       FROM region_import WHERE ord = ANY($1::int[]) ORDER BY ord`,
    [ords],
  )
  return expectRows(rows, ords.length, 'checking repaired geometries')
}

export async function refuseRepairs(tx: Queryable, ords: number[]): Promise<void> {
  if (ords.length) await tx.query('UPDATE region_import SET geom = NULL WHERE ord = ANY($1::int[])', [ords])
}

export interface ExistingRegion {
  id: string
  level: number
  parentId: string | null
  retired: boolean
}

/** The database's rows for these ids (current or retired). */
export async function existingRegions(tx: Queryable, ids: string[]): Promise<Map<string, ExistingRegion>> {
  const { rows } = await tx.query<ExistingRegion>(
    `SELECT id, level, parent_id AS "parentId", valid_to IS NOT NULL AS retired FROM regions WHERE id = ANY($1::text[])`,
    [ids],
  )
  return new Map(rows.map((r) => [r.id, r]))
}

const CREATE_FINAL = `
  CREATE TEMP TABLE region_import_final ON COMMIT DROP AS
    SELECT id, parent_id, level, geom, true AS imported FROM region_import WHERE checked
    UNION ALL
    SELECT r.id, r.parent_id, r.level, r.geom, false
      FROM regions r
     WHERE r.valid_to IS NULL
       AND NOT EXISTS (SELECT 1 FROM region_import f WHERE f.id = r.id)
       AND (   r.id IN (SELECT parent_id FROM region_import WHERE checked)          -- parents
            OR r.parent_id IN (SELECT parent_id FROM region_import WHERE checked)   -- siblings
            OR r.parent_id IN (SELECT id FROM region_import WHERE checked)          -- children
            OR r.id IN (SELECT o.parent_id FROM regions o JOIN region_import f ON f.id = o.id WHERE f.checked) -- former parents
            OR r.parent_id IN (SELECT o.parent_id FROM regions o JOIN region_import f ON f.id = o.id WHERE f.checked) -- their children
            OR (r.level = 1 AND EXISTS (SELECT 1 FROM region_import WHERE checked AND level = 1))); -- other districts
  CREATE INDEX region_import_final_geom ON region_import_final USING gist (geom);
  CREATE INDEX region_import_final_parent ON region_import_final (parent_id);
  ANALYZE region_import_final;`

/**
 * Marks the features that passed every per-feature check and builds `region_import_final`: those features plus
 * the current regions that are their parents, siblings, children, former parents (a moved region leaves them) and
 * those parents' children, or (for districts) fellow districts.
 */
export async function buildFinalState(tx: Queryable, checkedOrds: number[]): Promise<void> {
  const { rowCount } = await tx.query('UPDATE region_import SET checked = true WHERE ord = ANY($1::int[])', [checkedOrds])
  if (rowCount !== checkedOrds.length) throw new SilentGeosFailure('marking checked features', checkedOrds.length, rowCount)
  await tx.exec(CREATE_FINAL)
}

export interface OutsideRow {
  childId: string
  parentId: string
  childImported: boolean
  outsideM2: number
}

const OUTSIDE_FROM = `
    FROM region_import_final c
    JOIN region_import_final p ON p.id = c.parent_id
   WHERE c.imported OR p.imported`

/** Every (child, parent) pair touched by the import with the child's area outside its parent, m². */
export async function outsideParent(tx: Queryable): Promise<OutsideRow[]> {
  const { rows: n } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n ${OUTSIDE_FROM}`)
  const { rows } = await tx.query<OutsideRow>(
    `SELECT c.id AS "childId", p.id AS "parentId", c.imported AS "childImported",
            CASE WHEN ST_CoveredBy(c.geom, p.geom) THEN 0
                 ELSE greatest(ST_Area(c.geom) - ST_Area(ST_CollectionExtract(ST_Intersection(c.geom, p.geom), 3)), 0)
                      * ${perSquareDegree(midLat('c.geom'))}
            END AS "outsideM2"
     ${OUTSIDE_FROM}
     ORDER BY c.id`,
  )
  return expectRows(rows, n[0].n, 'checking children inside their parents')
}

export interface OverlapRow {
  aId: string
  bId: string
  aImported: boolean
  overlapM2: number
}

const SIBLING_JOIN = `
    FROM region_import_final a
    JOIN region_import_final b
      ON coalesce(b.parent_id, '') = coalesce(a.parent_id, '') AND a.id < b.id AND a.geom && b.geom`
const TOUCHED = `WHERE a.imported OR b.imported`

/** Every pair of siblings (same parent; districts among themselves) touched by the import, with the area they share. */
export async function siblingOverlaps(tx: Queryable): Promise<OverlapRow[]> {
  const { rows: n } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n ${SIBLING_JOIN} ${TOUCHED}`)
  const { rows } = await tx.query<OverlapRow>(
    `SELECT a.id AS "aId", b.id AS "bId", a.imported AS "aImported", coalesce(${areaM2('i.g')}, 0) AS "overlapM2"
     ${SIBLING_JOIN}
     CROSS JOIN LATERAL (
       SELECT CASE WHEN ST_Relate(a.geom, b.geom, '2********')  -- interiors share an area (touching is fine)
                   THEN ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3) END AS g) i
     ${TOUCHED}
     ORDER BY a.id, b.id`,
  )
  return expectRows(rows, n[0].n, 'checking overlaps between siblings')
}

export interface GapRow {
  parentId: string
  parentImported: boolean
  gaps: Array<{ m2: number; x: number; y: number }>
}

/** Pieces of `parent` not covered by `covering` (SQL expressions): ST_SymDifference split up, pieces inside the parent. */
const uncovered = (parent: string, covering: string) => `
  SELECT ${areaM2('piece.geom')} AS m2, ST_PointOnSurface(piece.geom) AS pt
    FROM ST_Dump(ST_CollectionExtract(ST_SymDifference(${parent}, ${covering}), 3)) piece
   WHERE ST_Covers(${parent}, ST_PointOnSurface(piece.geom))`

/**
 * Parents outside the file whose family the import changes — a child of theirs is in the file, or a region in the
 * file leaves them — while they keep children outside the file (else the family is complete in the file anyway).
 * GEOS-free; coveredBefore then keeps the ones whose children covered them before the import.
 */
export async function touchedParents(tx: Queryable): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT p.id FROM region_import_final p
      WHERE NOT p.imported
        AND EXISTS (SELECT 1 FROM region_import_final c WHERE c.parent_id = p.id AND NOT c.imported)
        AND (EXISTS (SELECT 1 FROM region_import_final c WHERE c.parent_id = p.id AND c.imported)
             OR EXISTS (SELECT 1 FROM regions o JOIN region_import f ON f.id = o.id WHERE f.checked AND o.parent_id = p.id))
      ORDER BY p.id`,
  )
  return rows.map((r) => r.id)
}

/** Those of `ids` whose current children leave no piece of them larger than `toleranceM2` uncovered (before the import). */
export async function coveredBefore(tx: Queryable, ids: string[], toleranceM2: number): Promise<string[]> {
  if (ids.length === 0) return []
  const { rows } = await tx.query<{ id: string; covered: boolean }>(
    `SELECT p.id, o.u IS NOT NULL AND NOT EXISTS (SELECT 1 FROM (${uncovered('p.geom', 'o.u')}) d WHERE d.m2 > $2) AS covered
       FROM regions p
       LEFT JOIN LATERAL (SELECT ST_Union(c.geom) AS u FROM regions c WHERE c.parent_id = p.id AND c.valid_to IS NULL) o ON true
      WHERE p.id = ANY($1::text[])
      ORDER BY p.id`,
    [ids, toleranceM2],
  )
  return expectRows(rows, ids.length, 'checking how parents were covered before').filter((r) => r.covered).map((r) => r.id)
}

/**
 * Parents whose children must cover them: the parent is in the file, or every current child of it is (the file
 * holds the complete set), or it is one of `alsoIds` (coveredBefore: the import must not open a gap in it); it has
 * children, none of which failed a per-feature check.
 */
const GAP_PARENTS = `
  WITH parents AS (
    SELECT p.id, p.geom, p.imported
      FROM region_import_final p
     WHERE EXISTS (SELECT 1 FROM region_import_final c WHERE c.parent_id = p.id)
       AND (p.imported OR p.id = ANY($1::text[])
            OR NOT EXISTS (SELECT 1 FROM region_import_final c WHERE c.parent_id = p.id AND NOT c.imported))
       AND NOT EXISTS (SELECT 1 FROM region_import f WHERE f.parent_id = p.id AND NOT f.checked))`

/**
 * The uncovered pieces larger than `toleranceM2` of each such parent: ST_SymDifference(parent, ST_Union(children))
 * split into pieces, keeping those inside the parent (pieces outside are children sticking out: outsideParent).
 */
export async function gaps(tx: Queryable, toleranceM2: number, alsoIds: string[]): Promise<GapRow[]> {
  const { rows: n } = await tx.query<{ n: number }>(`${GAP_PARENTS} SELECT count(*)::int AS n FROM parents`, [alsoIds])
  const { rows } = await tx.query<GapRow>(
    `${GAP_PARENTS}
     SELECT p.id AS "parentId", p.imported AS "parentImported", g.gaps
       FROM parents p
      CROSS JOIN LATERAL (SELECT ST_Union(c.geom) AS u FROM region_import_final c WHERE c.parent_id = p.id) u
      CROSS JOIN LATERAL (
        SELECT coalesce(json_agg(json_build_object('m2', d.m2, 'x', ST_X(d.pt), 'y', ST_Y(d.pt)) ORDER BY d.m2 DESC)
                          FILTER (WHERE d.m2 > $2), '[]'::json) AS gaps
          FROM (${uncovered('p.geom', 'u.u')}) d) g
      ORDER BY p.id`,
    [alsoIds, toleranceM2],
  )
  return expectRows(rows, n[0].n, 'checking gaps between children')
}

export type LocationKind = 'outside' | 'overlap'

const LOCATE: Record<LocationKind, string> = {
  // The largest piece of the child outside its parent: child minus (child ∩ parent), by ST_SymDifference.
  outside: `(SELECT ST_PointOnSurface(d.geom)
               FROM ST_Dump(ST_CollectionExtract(ST_SymDifference(a.geom,
                      ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)), 3)) d
              ORDER BY ST_Area(d.geom) DESC LIMIT 1)`,
  overlap: `ST_PointOnSurface(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3))`,
}

/**
 * A point for each (a, b) pair: inside a's part outside b ('outside'), or inside a ∩ b ('overlap'). Asked in one
 * batch, then one pair at a time if the batch comes back short; a pair PostGIS cannot place gets null.
 */
export async function locate(tx: Queryable, kind: LocationKind, pairs: Array<[string, string]>): Promise<Array<[number, number] | null>> {
  if (pairs.length === 0) return []
  const sql = `
    SELECT u.i::int AS i, ST_X(pt.p) AS x, ST_Y(pt.p) AS y
      FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(a, b, i)
      JOIN region_import_final a ON a.id = u.a
      JOIN region_import_final b ON b.id = u.b
     CROSS JOIN LATERAL (SELECT ${LOCATE[kind]} AS p) pt
     ORDER BY u.i`
  const ask = (ps: Array<[string, string]>) => tx.query<{ i: number; x: number | null; y: number | null }>(sql, [ps.map((p) => p[0]), ps.map((p) => p[1])])
  const asPoint = (r?: { x: number | null; y: number | null }): [number, number] | null => (r && r.x !== null && r.y !== null ? [r.x, r.y] : null)
  const { rows } = await ask(pairs)
  if (rows.length === pairs.length) return rows.map(asPoint)
  const out: Array<[number, number] | null> = []
  for (const p of pairs) out.push(asPoint((await ask([p])).rows[0]))
  return out
}

export interface ClassifiedRow {
  ord: number
  action: 'create' | 'update' | 'unchanged'
}

/** create (new id), unchanged (same name, parent, level, numbers, attributes and ST_Equals geometry), or update. */
export async function classify(tx: Queryable): Promise<ClassifiedRow[]> {
  const { rows: n } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM region_import WHERE checked')
  const { rows } = await tx.query<ClassifiedRow>(
    `SELECT f.ord,
            CASE WHEN r.id IS NULL THEN 'create'
                 WHEN r.valid_to IS NULL AND r.name = f.name AND r.parent_id IS NOT DISTINCT FROM f.parent_id
                  AND r.level = f.level AND r.households IS NOT DISTINCT FROM f.households
                  AND r.population IS NOT DISTINCT FROM f.population AND r.attributes = f.attributes
                  AND r.geom ~= f.geom AND ST_Equals(r.geom, f.geom) THEN 'unchanged'
                 ELSE 'update' END AS action
       FROM region_import f LEFT JOIN regions r ON r.id = f.id
      WHERE f.checked
      ORDER BY f.ord`,
  )
  expectRows(rows, n[0].n, 'comparing with the current regions')
  for (const action of ['create', 'update', 'unchanged'] as const) {
    const ords = rows.filter((r) => r.action === action).map((r) => r.ord)
    if (ords.length) await tx.query('UPDATE region_import SET action = $2 WHERE ord = ANY($1::int[])', [ords, action])
  }
  return rows
}

/**
 * The path of every feature of the file (all passed by now): the parent's path — in the file, or a region's
 * current one — followed by its own id. Top-down from the features whose parent is not in the file.
 */
const COMPUTE_PATHS = `
  WITH RECURSIVE tree AS (
    SELECT f.id, CASE WHEN f.parent_id IS NULL THEN text2ltree(f.id) ELSE r.path || text2ltree(f.id) END AS path
      FROM region_import f LEFT JOIN regions r ON r.id = f.parent_id
     WHERE f.checked AND (f.parent_id IS NULL OR NOT EXISTS (SELECT 1 FROM region_import g WHERE g.id = f.parent_id))
    UNION ALL
    SELECT f.id, t.path || text2ltree(f.id)
      FROM tree t JOIN region_import f ON f.parent_id = t.id AND f.checked)
  UPDATE region_import f SET path = t.path FROM tree t WHERE t.id = f.id`

const COPY_TO_HISTORY = `
  INSERT INTO region_history (id, parent_id, level, name, path, geom, households, population, attributes, valid_from, valid_to)
  SELECT r.id, r.parent_id, r.level, r.name, r.path, r.geom, r.households, r.population, r.attributes,
         r.valid_from, coalesce(r.valid_to, now())
    FROM regions r JOIN region_import f ON f.id = r.id
   WHERE f.action = 'update'`

const INSERT_NEW = `
  INSERT INTO regions (id, parent_id, level, name, path, geom, households, population, attributes, valid_from, valid_to)
  SELECT id, parent_id, level, name, path, geom, households, population, attributes, now(), NULL
    FROM region_import WHERE action = 'create'`

const UPDATE_CHANGED = `
  UPDATE regions r
     SET parent_id = f.parent_id, level = f.level, name = f.name, path = f.path, geom = f.geom, households = f.households,
         population = f.population, attributes = f.attributes, valid_from = now(), valid_to = NULL
    FROM region_import f
   WHERE f.id = r.id AND f.action = 'update'`

/**
 * One level of the current regions below a region whose path changed (their path still starts with one of the old
 * paths $2), top-down so that parents are already right. Those not written by the import get a new version: the
 * old row goes to region_history.
 */
const REPATH_LEVEL = `
  WITH moved AS (
    SELECT c.id, p.path || text2ltree(c.id) AS path
      FROM regions c JOIN regions p ON p.id = c.parent_id
     WHERE c.level = $1 AND c.valid_to IS NULL AND c.path <@ $2::text[]::ltree[]
       AND c.path <> p.path || text2ltree(c.id)),
  history AS (
    INSERT INTO region_history (id, parent_id, level, name, path, geom, households, population, attributes, valid_from, valid_to)
    SELECT r.id, r.parent_id, r.level, r.name, r.path, r.geom, r.households, r.population, r.attributes, r.valid_from, now()
      FROM regions r JOIN moved m ON m.id = r.id
     WHERE NOT EXISTS (SELECT 1 FROM region_import f WHERE f.id = r.id AND f.action IN ('create', 'update')))
  UPDATE regions r
     SET path = m.path,
         valid_from = CASE WHEN EXISTS (SELECT 1 FROM region_import f WHERE f.id = r.id AND f.action IN ('create', 'update'))
                           THEN r.valid_from ELSE now() END
    FROM moved m
   WHERE m.id = r.id
  RETURNING r.id`

export interface ApplyResult {
  /** Regions not written by the import whose path changed because an ancestor moved (each versioned too). */
  repathed: number
}

/**
 * Writes the classified import: paths, history rows, new rows, changed rows, then the paths of the regions below
 * any region whose path changed. Each row is written once (a trigger on `regions` may act on every write).
 */
export async function applyImport(tx: Queryable): Promise<ApplyResult> {
  await tx.query(COMPUTE_PATHS)
  const { rows: moved } = await tx.query<{ id: string; path: string }>(
    `SELECT r.id, r.path::text AS path FROM region_import f JOIN regions r ON r.id = f.id
      WHERE f.action = 'update' AND r.path <> f.path`,
  )
  await tx.query(COPY_TO_HISTORY)
  await tx.query(INSERT_NEW)
  await tx.query(UPDATE_CHANGED)
  let repathed = 0
  if (moved.length) {
    const oldPaths = moved.map((m) => m.path)
    const written = new Set((await tx.query<{ id: string }>(`SELECT id FROM region_import WHERE action IN ('create', 'update')`)).rows.map((r) => r.id))
    for (let level = 2; level <= 5; level++) {
      const { rows } = await tx.query<{ id: string }>(REPATH_LEVEL, [level, oldPaths])
      repathed += rows.filter((r) => !written.has(r.id)).length
    }
  }
  return { repathed }
}
