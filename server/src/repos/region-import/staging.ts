/**
 * SQL of the region import (services/region-import.ts), first part: the file's features staged and each geometry
 * checked. Everything runs inside the import's one transaction on two TEMP tables dropped at its end:
 * `region_import` (the file's features as staged, here) and `region_import_final` (the regions as they would be
 * after the import: topology.ts); write.ts writes the result.
 *
 * Written for PostGIS 3.3 (Debian, CI) and 3.6 (embedded) alike: pairwise ST_Relate / ST_Intersection with an `&&`
 * prefilter rather than ST_CoverageInvalidEdges (3.4+), and ST_SymDifference rather than ST_Difference for gaps.
 * Row counts are checked against the embedded database's silent GEOS failures (silent-geos.ts).
 */
import { sqlBlocks } from '../../db/sql-file.ts'
import type { Queryable } from '../../db/types.ts'
import { AREA_SQL } from './area-sql.ts'
import { expectRows, SilentGeosFailure } from './silent-geos.ts'

const SQL = sqlBlocks(new URL('./staging.sql', import.meta.url), ['createStaging', 'stage', 'validity', 'repaired'], AREA_SQL)

/** pg_advisory_xact_lock key: imports run one at a time (two imports of the same ids would race). */
const IMPORT_LOCK_KEY = 7_100_002
const STAGE_CHUNK = 1000

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

/** Loads the features into the TEMP table `region_import` (dropped at the end of the transaction). */
export async function stageFeatures(tx: Queryable, features: StagedFeature[]): Promise<void> {
  await tx.exec(SQL.createStaging)
  for (let i = 0; i < features.length; i += STAGE_CHUNK) {
    const chunk = features.slice(i, i + STAGE_CHUNK)
    const { rowCount } = await tx.query(SQL.stage, [JSON.stringify(chunk)])
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

/**
 * ST_IsValid / ST_IsValidReason / the location of the problem for every staged geometry. When the batch comes back
 * short (embedded database, GEOS exception) each geometry is asked alone; one that still yields nothing is
 * returned with valid = false and reason null.
 */
export async function geometryValidity(tx: Queryable): Promise<ValidityRow[]> {
  const { rows: all } = await tx.query<{ ord: number }>('SELECT ord FROM region_import WHERE geom_in IS NOT NULL ORDER BY ord')
  const { rows } = await tx.query<ValidityRow>(SQL.validity, [null])
  if (rows.length === all.length) return rows
  const out: ValidityRow[] = []
  for (const { ord } of all) {
    const one = (await tx.query<ValidityRow>(SQL.validity, [[ord]])).rows[0]
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
  const { rows } = await tx.query<RepairRow>(SQL.repaired, [ords])
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
