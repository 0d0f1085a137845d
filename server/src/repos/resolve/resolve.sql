-- Point → region chain (repos/resolve/): the SQL of both ways to the answer. $1, $2: longitudes and latitudes
-- (float8[], WGS84), one point per pair, answered in input order (ord).

-- name: points
pts AS (
  SELECT u.ord, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326) AS pt
    FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(lon, lat, ord))

-- The finest piece covering p.pt, lowest region id on a tie: THE rule, shared by both ways.
-- name: finestPart
LEFT JOIN LATERAL (
  SELECT r.region_id, r.chain FROM region_parts r WHERE ST_Covers(r.geom, p.pt) ORDER BY r.level DESC, r.region_id LIMIT 1) f ON true

-- The chains of the current boundaries, as one JSON array text.
-- name: resolveCurrent
WITH {{points}}
SELECT coalesce(json_agg(f.chain ORDER BY p.ord), '[]')::text AS results
  FROM pts p {{finestPart}}

-- The chains of the boundaries valid at $3 (regions_as_of), whole regions rather than pieces.
-- name: resolveAsOf
WITH {{points}},
finest AS (
  SELECT p.ord, f.path
    FROM pts p
    LEFT JOIN LATERAL (
      SELECT r.path FROM regions_as_of($3::timestamptz) r WHERE ST_Covers(r.geom, p.pt)
       ORDER BY r.level DESC, r.id LIMIT 1) f ON true)
SELECT coalesce(json_agg(
         (SELECT json_agg(json_build_object('id', a.id, 'name', a.name, 'level', a.level) ORDER BY a.level)
            FROM regions_as_of($3::timestamptz) a WHERE a.id = ANY (string_to_array(f.path::text, '.')))
         ORDER BY f.ord), '[]')::text AS results
  FROM finest f

-- name: regionVersion
SELECT version FROM region_version

-- The exact test for the points the cells leave open, and the version, in one statement (one snapshot).
-- name: exactIds
WITH {{points}}
SELECT (SELECT version FROM region_version) AS version,
       (SELECT coalesce(json_agg(f.region_id ORDER BY p.ord), '[]') FROM pts p {{finestPart}})::text AS ids

-- Everything the cell index is built from, with its version, in one statement; pieces in rank order (finestPart's).
-- name: cellSource
SELECT v.version, p.region_id AS "regionId", p.chain::text AS chain, ST_AsBinary(p.geom) AS wkb
  FROM region_version v LEFT JOIN region_parts p ON true
 ORDER BY p.level DESC, p.region_id
