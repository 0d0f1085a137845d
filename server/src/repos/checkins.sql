-- Patrol check-ins (repos/checkins.ts).

-- Resolves the point ($1, $2) on region_parts (the rule of intake: the finest piece covering it) and, when that is a
-- grid or finer (level >= $11), writes the check-in: id $3, worker $4, actor $5, kind $6, at $7, made_at $8, address
-- $9, note $10, photos $12. One row back in every case: the finest level and chain found (NULL outside every region)
-- and the grid written (NULL: nothing written).
-- name: insert
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326) AS g),
f AS (
  SELECT r.level, r.path, r.chain FROM region_parts r, pt
   WHERE ST_Covers(r.geom, pt.g) ORDER BY r.level DESC, r.region_id LIMIT 1),
ins AS (
  INSERT INTO patrol_checkins (id, worker_id, actor, kind, at, made_at, location, region_path, grid_id, address, note, photos)
  SELECT $3::uuid, $4, $5, $6, $7::timestamptz, $8::timestamptz, pt.g, f.path,
         (SELECT x->>'id' FROM jsonb_array_elements(f.chain) x WHERE (x->>'level')::int = 4), $9, $10, $12::uuid[]
    FROM f, pt
   WHERE f.level >= $11
  RETURNING grid_id, region_path)
SELECT f.level AS "finestLevel", f.chain::text AS chain, ins.grid_id AS "gridId", ins.region_path::text AS "regionPath"
  FROM (SELECT 1) one LEFT JOIN f ON true LEFT JOIN ins ON true
