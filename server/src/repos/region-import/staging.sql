-- The region import's staging (staging.ts): the file's features in the TEMP table region_import, and the checks
-- and repairs of each feature's geometry.

-- name: createStaging
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
CREATE INDEX region_import_parent_idx ON region_import (parent_id);

-- $1: a chunk of features as a JSON array (StagedFeature).
-- name: stage
INSERT INTO region_import (ord, id, parent_id, level, name, households, population, attributes, geom_in)
SELECT f.ord, f.id, f.parent_id, f.level, f.name, f.households, f.population, coalesce(f.attributes, '{}'::jsonb),
       CASE WHEN f.geometry IS NOT NULL THEN ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(f.geometry::text), 4326)) END
  FROM json_to_recordset($1::json) AS f(ord integer, id text, parent_id text, level smallint, name text,
                                        households integer, population integer, attributes jsonb, geometry json)

-- $1: the ords to check, or NULL for all.
-- name: validity
SELECT f.ord, d.valid,
       CASE WHEN NOT d.valid THEN ST_IsValidReason(f.geom_in) END AS reason,
       ST_X(d.location) AS x, ST_Y(d.location) AS y
  FROM region_import f, ST_IsValidDetail(f.geom_in) d
 WHERE f.geom_in IS NOT NULL AND ($1::int[] IS NULL OR f.ord = ANY($1::int[]))
 ORDER BY f.ord

-- What ST_MakeValid made of the geometries $1: empty, valid, area before and after (m²).
-- name: repaired
SELECT ord, ST_IsEmpty(geom) AS empty, ST_IsValid(geom) AS valid,
       {{areaM2(geom_in)}} AS "beforeM2", ST_Area(geom) * {{perSquareDegreeAt(geom_in)}} AS "afterM2"
  FROM region_import WHERE ord = ANY($1::int[]) ORDER BY ord
