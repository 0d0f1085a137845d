/**
 * SQL of the region import (services/region-import.ts), last part: the checked features classified against the
 * current regions and written — paths, history rows, new and changed rows, then the paths below any region that
 * moved.
 */
import { sqlBlocks } from '../../db/sql-file.ts'
import type { Queryable } from '../../db/types.ts'
import { expectRows } from './silent-geos.ts'

const SQL = sqlBlocks(new URL('./write.sql', import.meta.url), [
  'checkedCount',
  'classify',
  'computePaths',
  'moved',
  'copyToHistory',
  'insertNew',
  'updateChanged',
  'repathLevel',
])

export interface ClassifiedRow {
  ord: number
  action: 'create' | 'update' | 'unchanged'
}

/** create (new id), unchanged (same name, parent, level, numbers, attributes and ST_Equals geometry), or update. */
export async function classify(tx: Queryable): Promise<ClassifiedRow[]> {
  const { rows: n } = await tx.query<{ n: number }>(SQL.checkedCount)
  const { rows } = await tx.query<ClassifiedRow>(SQL.classify)
  expectRows(rows, n[0].n, 'comparing with the current regions')
  for (const action of ['create', 'update', 'unchanged'] as const) {
    const ords = rows.filter((r) => r.action === action).map((r) => r.ord)
    if (ords.length) await tx.query('UPDATE region_import SET action = $2 WHERE ord = ANY($1::int[])', [ords, action])
  }
  return rows
}

export interface ApplyResult {
  /** Regions not written by the import whose path changed because an ancestor moved (each versioned too). */
  repathed: number
}

/**
 * Writes the classified import: paths, history rows, new rows, changed rows, then the paths of the regions below
 * any region whose path changed. Each row is written once (a trigger on `regions` may act on every write).
 */
export async function applyImport(tx: Queryable): Promise<ApplyResult> {
  await tx.query(SQL.computePaths)
  const { rows: moved } = await tx.query<{ id: string; path: string }>(SQL.moved)
  await tx.query(SQL.copyToHistory)
  await tx.query(SQL.insertNew)
  await tx.query(SQL.updateChanged)
  let repathed = 0
  if (moved.length) {
    const oldPaths = moved.map((m) => m.path)
    const written = new Set((await tx.query<{ id: string }>(`SELECT id FROM region_import WHERE action IN ('create', 'update')`)).rows.map((r) => r.id))
    for (let level = 2; level <= 5; level++) {
      const { rows } = await tx.query<{ id: string }>(SQL.repathLevel, [level, oldPaths])
      repathed += rows.filter((r) => !written.has(r.id)).length
    }
  }
  return { repathed }
}
