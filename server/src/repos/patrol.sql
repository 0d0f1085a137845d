-- What the simulated patrol (simulator/patrol.ts) reads at start: which grids, their staff, the areas they walk.

-- Up to $3 current grids (NULL: all) at or under the regions $1 (NULL: anywhere), the same ones for the same seed $2.
-- name: grids
SELECT g.id FROM regions g
 WHERE g.level = 4 AND g.valid_to IS NULL
   AND ($1::text[] IS NULL OR EXISTS (SELECT 1 FROM regions a WHERE a.id = ANY($1::text[]) AND g.path <@ a.path))
 ORDER BY md5(g.id || $2::text) LIMIT $3

-- The staff of the grids $1: their grid, the area they walk (their grid, or a leader's micro-grid) and where they are.
-- name: staff
SELECT w.id, g.id AS "gridId", r.id AS "areaId",
       ST_X(coalesce(w.position, w.home)) AS lon, ST_Y(coalesce(w.position, w.home)) AS lat
  FROM workers w JOIN regions r ON r.id = w.region_id
  JOIN regions g ON g.id = CASE WHEN r.level = 5 THEN r.parent_id ELSE r.id END
 WHERE g.id = ANY($1::text[])
 ORDER BY w.id
