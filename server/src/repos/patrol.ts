import { sqlBlocks } from '../db/sql-file.ts'
import type { Queryable } from '../db/types.ts'

const SQL = sqlBlocks(new URL('./patrol.sql', import.meta.url), ['grids', 'staff'])

/** Up to `limit` current grids (null: all), at or under `within` (null: anywhere), in an order fixed by `seed`. */
export async function patrolGrids(q: Queryable, within: string[] | null, seed: number, limit: number | null): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(SQL.grids, [within, String(seed), limit])
  return rows.map((r) => r.id)
}

export interface PatrolStaffRow {
  id: string
  gridId: string
  areaId: string
  /** Last known position (or home); null: start anywhere inside the area. */
  lon: number | null
  lat: number | null
}

/** The staff of these grids, by worker id. */
export async function patrolStaff(q: Queryable, gridIds: string[]): Promise<PatrolStaffRow[]> {
  const { rows } = await q.query<PatrolStaffRow>(SQL.staff, [gridIds])
  return rows
}

/** The geometries of these regions as WKB (ST_AsBinary). */
export async function regionWkb(q: Queryable, ids: string[]): Promise<Array<{ id: string; wkb: Uint8Array }>> {
  const { rows } = await q.query<{ id: string; wkb: Uint8Array }>('SELECT id, ST_AsBinary(geom) AS wkb FROM regions WHERE id = ANY($1::text[])', [ids])
  return rows
}
