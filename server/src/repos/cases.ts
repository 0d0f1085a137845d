import type { CaseStatus } from '../../../shared/domain/case-status.ts'
import type { Case } from '../../../shared/schemas/case.ts'
import type { RegionRef } from '../../../shared/schemas/region.ts'
import type { Queryable } from '../db/types.ts'

/** Select list aliased to the shared Case shape; the region chain comes from the ids stored at report time. */
const CASE_COLUMNS = `
  c.id, c.code, c.status, c.category, c.description,
  ST_X(c.location) AS lon, ST_Y(c.location) AS lat,
  c.reported_at AS "reportedAt", c.version,
  (SELECT coalesce(json_agg(json_build_object('id', r.id, 'name', r.name, 'level', r.level) ORDER BY r.level), '[]'::json)
     FROM regions r
    WHERE r.id IN (c.district_id, c.street_id, c.community_id, c.grid_id, c.microgrid_id)) AS regions`

type CaseRow = Omit<Case, 'reportedAt'> & { reportedAt: Date | string }

function toCase(row: CaseRow): Case {
  return { ...row, reportedAt: new Date(row.reportedAt).toISOString() }
}

export interface NewCase {
  category: string
  description: string
  lon: number
  lat: number
  source: string
  reporter?: string | null
  /** Region chain resolved for the point, district first. */
  regions: RegionRef[]
  regionPath: string
}

const levelId = (regions: RegionRef[], level: number) => regions.find((r) => r.level === level)?.id ?? null

/** Inserts a case in status `reported` with its first timeline row; returns its id. */
export async function insertCase(tx: Queryable, c: NewCase): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO cases (code, category, description, location, source, reporter, region_path,
                        district_id, street_id, community_id, grid_id, microgrid_id, owning_level)
     VALUES ('GC' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(nextval('case_code_seq')::text, 6, '0'),
             $1, $2, ST_SetSRID(ST_MakePoint($3, $4), 4326), $5, $6, $7::ltree, $8, $9, $10, $11, $12, 4)
     RETURNING id`,
    [c.category, c.description, c.lon, c.lat, c.source, c.reporter ?? null, c.regionPath,
     levelId(c.regions, 1), levelId(c.regions, 2), levelId(c.regions, 3), levelId(c.regions, 4), levelId(c.regions, 5)],
  )
  const id = rows[0].id
  await tx.query(
    `INSERT INTO case_events (case_id, actor, action, from_status, to_status, data)
     VALUES ($1, $2, 'report', NULL, 'reported', jsonb_build_object('source', $3::text))`,
    [id, c.reporter ?? null, c.source],
  )
  return id
}

export async function getCase(q: Queryable, id: string): Promise<Case | undefined> {
  const { rows } = await q.query<CaseRow>(`SELECT ${CASE_COLUMNS} FROM cases c WHERE c.id = $1`, [id])
  return rows[0] && toCase(rows[0])
}

export async function listCasesByStatus(q: Queryable, statuses: readonly CaseStatus[], limit: number): Promise<Case[]> {
  const { rows } = await q.query<CaseRow>(
    `SELECT ${CASE_COLUMNS} FROM cases c WHERE c.status = ANY($1::text[]) ORDER BY c.reported_at DESC, c.code DESC LIMIT $2`,
    [statuses, limit],
  )
  return rows.map(toCase)
}
