import { ESCALATABLE_STATUSES } from '../../../shared/domain/case-lifecycle.ts'
import { FINAL_STATUSES } from '../../../shared/domain/case-status.ts'
import type { RegionProfile } from '../../../shared/schemas/region.ts'
import type { Queryable } from '../db/types.ts'

/** One query; everything "under" the region is found by path (`<@`), so any level works the same way. */
const PROFILE = `
  SELECT json_build_object(
    'id', r.id, 'name', r.name, 'level', r.level, 'parentId', r.parent_id,
    'households', r.households, 'population', r.population, 'attributes', r.attributes,
    'validFrom', r.valid_from, 'validTo', r.valid_to,
    'areaKm2', round((ST_Area(r.geom::geography) / 1e6)::numeric, 4),
    'bbox', json_build_array(ST_XMin(r.geom), ST_YMin(r.geom), ST_XMax(r.geom), ST_YMax(r.geom)),
    'center', json_build_array(ST_X(ST_PointOnSurface(r.geom)), ST_Y(ST_PointOnSurface(r.geom))),
    'chain', (SELECT json_agg(json_build_object('id', a.id, 'name', a.name, 'level', a.level) ORDER BY a.level)
                FROM regions a WHERE a.id = ANY (string_to_array(r.path::text, '.'))),
    'children', (SELECT count(*) FROM regions c WHERE c.parent_id = r.id AND c.valid_to IS NULL),
    'descendants', coalesce((SELECT json_object_agg(level, n) FROM (
                      SELECT d.level, count(*) AS n FROM regions d
                       WHERE d.path <@ r.path AND d.id <> r.id AND d.valid_to IS NULL GROUP BY d.level) x), '{}'::json),
    'staff', json_build_object(
       'chief', (SELECT json_build_object('id', w.id, 'name', w.name, 'phone', w.phone, 'status', w.status)
                   FROM workers w WHERE w.id = r.chief_id),
       'byRole', coalesce((SELECT json_object_agg(role, n) FROM (
                    SELECT w.role, count(*) AS n FROM workers w JOIN regions s ON s.id = w.region_id
                     WHERE s.path <@ r.path GROUP BY w.role) y), '{}'::json),
       'onDuty', (SELECT count(*) FROM workers w JOIN regions s ON s.id = w.region_id
                   WHERE s.path <@ r.path AND w.status <> 'off_duty')),
    'cameras', (SELECT count(*) FROM cameras c WHERE c.region_path <@ r.path),
    'openCases', (SELECT count(*) FROM cases k WHERE k.region_path <@ r.path AND k.status <> ALL ($2::text[])),
    'overdueCases', (SELECT count(*) FROM cases k WHERE k.region_path <@ r.path AND k.status = ANY ($3::text[]) AND k.due_at < $4),
    'members', CASE WHEN r.level >= 4 THEN coalesce((SELECT json_agg(m ORDER BY m.rank, m.name, m.id) FROM (
                  SELECT w.id, w.name, w.role, w.status, w.region_id AS "regionId", w.last_seen_at AS "lastSeenAt",
                         CASE w.role WHEN 'grid_chief' THEN 0 WHEN 'grid_worker' THEN 1 ELSE 2 END AS rank
                    FROM workers w JOIN regions s ON s.id = w.region_id
                   WHERE s.path <@ r.path ORDER BY 7, w.name, w.id LIMIT 100) m), '[]'::json) END
  ) AS profile
  FROM regions r WHERE r.id = $1`

type MemberRow = NonNullable<RegionProfile['members']>[number] & { rank?: number }

/** The profile without `performance` (null): services/region-performance.ts adds it for staff. */
export async function regionProfile(q: Queryable, id: string, now: Date = new Date()): Promise<RegionProfile | undefined> {
  const { rows } = await q.query<{ profile: RegionProfile }>(PROFILE, [id, FINAL_STATUSES, ESCALATABLE_STATUSES, now])
  const p = rows[0]?.profile
  if (!p) return undefined
  // timestamptz inside json comes as text without a fixed format: normalise to ISO 8601.
  const members = p.members === null ? null : (p.members as MemberRow[]).map(({ rank: _r, ...m }) => ({ ...m, lastSeenAt: m.lastSeenAt && new Date(m.lastSeenAt).toISOString() }))
  return { ...p, members, performance: null, validFrom: new Date(p.validFrom).toISOString(), validTo: p.validTo && new Date(p.validTo).toISOString() }
}
