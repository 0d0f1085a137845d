/**
 * SQL of the region import (services/region-import.ts), second part: the topology of the regions as they would be
 * after the import — children inside their parents, siblings without overlaps, parents without gaps — on the TEMP
 * table `region_import_final` (the checked features plus the current regions they touch), and a point to show for
 * each problem. Every GEOS query's row count is checked (silent-geos.ts).
 */
import { sqlBlocks } from '../../db/sql-file.ts'
import type { Queryable } from '../../db/types.ts'
import { AREA_SQL } from './area-sql.ts'
import { expectRows, SilentGeosFailure } from './silent-geos.ts'

const SQL = sqlBlocks(
  new URL('./topology.sql', import.meta.url),
  ['createFinal', 'outsideCount', 'outside', 'overlapCount', 'overlaps', 'touchedParents', 'coveredBefore', 'gapCount', 'gaps', 'locateOutside', 'locateOverlap'],
  AREA_SQL,
)

/**
 * Marks the features that passed every per-feature check and builds `region_import_final`: those features plus
 * the current regions that are their parents, siblings, children, former parents (a moved region leaves them) and
 * those parents' children, or (for districts) fellow districts.
 */
export async function buildFinalState(tx: Queryable, checkedOrds: number[]): Promise<void> {
  const { rowCount } = await tx.query('UPDATE region_import SET checked = true WHERE ord = ANY($1::int[])', [checkedOrds])
  if (rowCount !== checkedOrds.length) throw new SilentGeosFailure('marking checked features', checkedOrds.length, rowCount)
  await tx.exec(SQL.createFinal)
}

export interface OutsideRow {
  childId: string
  parentId: string
  childImported: boolean
  outsideM2: number
}

/** Every (child, parent) pair touched by the import with the child's area outside its parent, m². */
export async function outsideParent(tx: Queryable): Promise<OutsideRow[]> {
  const { rows: n } = await tx.query<{ n: number }>(SQL.outsideCount)
  const { rows } = await tx.query<OutsideRow>(SQL.outside)
  return expectRows(rows, n[0].n, 'checking children inside their parents')
}

export interface OverlapRow {
  aId: string
  bId: string
  aImported: boolean
  overlapM2: number
}

/** Every pair of siblings (same parent; districts among themselves) touched by the import, with the area they share. */
export async function siblingOverlaps(tx: Queryable): Promise<OverlapRow[]> {
  const { rows: n } = await tx.query<{ n: number }>(SQL.overlapCount)
  const { rows } = await tx.query<OverlapRow>(SQL.overlaps)
  return expectRows(rows, n[0].n, 'checking overlaps between siblings')
}

export interface GapRow {
  parentId: string
  parentImported: boolean
  gaps: Array<{ m2: number; x: number; y: number }>
}

/**
 * Parents outside the file whose family the import changes — a child of theirs is in the file, or a region in the
 * file leaves them — while they keep children outside the file (else the family is complete in the file anyway).
 * GEOS-free; coveredBefore then keeps the ones whose children covered them before the import.
 */
export async function touchedParents(tx: Queryable): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(SQL.touchedParents)
  return rows.map((r) => r.id)
}

/** Those of `ids` whose current children leave no piece of them larger than `toleranceM2` uncovered (before the import). */
export async function coveredBefore(tx: Queryable, ids: string[], toleranceM2: number): Promise<string[]> {
  if (ids.length === 0) return []
  const { rows } = await tx.query<{ id: string; covered: boolean }>(SQL.coveredBefore, [ids, toleranceM2])
  return expectRows(rows, ids.length, 'checking how parents were covered before').filter((r) => r.covered).map((r) => r.id)
}

/**
 * The uncovered pieces larger than `toleranceM2` of each such parent: ST_SymDifference(parent, ST_Union(children))
 * split into pieces, keeping those inside the parent (pieces outside are children sticking out: outsideParent).
 */
export async function gaps(tx: Queryable, toleranceM2: number, alsoIds: string[]): Promise<GapRow[]> {
  const { rows: n } = await tx.query<{ n: number }>(SQL.gapCount, [alsoIds])
  const { rows } = await tx.query<GapRow>(SQL.gaps, [alsoIds, toleranceM2])
  return expectRows(rows, n[0].n, 'checking gaps between children')
}

export type LocationKind = 'outside' | 'overlap'

/**
 * A point for each (a, b) pair: inside a's part outside b ('outside'), or inside a ∩ b ('overlap'). Asked in one
 * batch, then one pair at a time if the batch comes back short; a pair PostGIS cannot place gets null.
 */
export async function locate(tx: Queryable, kind: LocationKind, pairs: Array<[string, string]>): Promise<Array<[number, number] | null>> {
  if (pairs.length === 0) return []
  const sql = kind === 'outside' ? SQL.locateOutside : SQL.locateOverlap
  const ask = (ps: Array<[string, string]>) => tx.query<{ i: number; x: number | null; y: number | null }>(sql, [ps.map((p) => p[0]), ps.map((p) => p[1])])
  const asPoint = (r?: { x: number | null; y: number | null }): [number, number] | null => (r && r.x !== null && r.y !== null ? [r.x, r.y] : null)
  const { rows } = await ask(pairs)
  if (rows.length === pairs.length) return rows.map(asPoint)
  const out: Array<[number, number] | null> = []
  for (const p of pairs) out.push(asPoint((await ask([p])).rows[0]))
  return out
}
