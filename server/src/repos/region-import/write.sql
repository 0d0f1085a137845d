-- The region import's writes (write.ts): each checked feature classified, then written once.

-- name: checkedCount
SELECT count(*)::int AS n FROM region_import WHERE checked

-- create (new id), unchanged (same name, parent, level, numbers, attributes and ST_Equals geometry), or update.
-- name: classify
SELECT f.ord,
       CASE WHEN r.id IS NULL THEN 'create'
            WHEN r.valid_to IS NULL AND r.name = f.name AND r.parent_id IS NOT DISTINCT FROM f.parent_id
             AND r.level = f.level AND r.households IS NOT DISTINCT FROM f.households
             AND r.population IS NOT DISTINCT FROM f.population AND r.attributes = f.attributes
             AND r.geom ~= f.geom AND ST_Equals(r.geom, f.geom) THEN 'unchanged'
            ELSE 'update' END AS action
  FROM region_import f LEFT JOIN regions r ON r.id = f.id
 WHERE f.checked
 ORDER BY f.ord

-- The path of every feature of the file (all passed by now): the parent's path — in the file, or a region's
-- current one — followed by its own id. Top-down from the features whose parent is not in the file.
-- name: computePaths
WITH RECURSIVE tree AS (
  SELECT f.id, CASE WHEN f.parent_id IS NULL THEN text2ltree(f.id) ELSE r.path || text2ltree(f.id) END AS path
    FROM region_import f LEFT JOIN regions r ON r.id = f.parent_id
   WHERE f.checked AND (f.parent_id IS NULL OR NOT EXISTS (SELECT 1 FROM region_import g WHERE g.id = f.parent_id))
  UNION ALL
  SELECT f.id, t.path || text2ltree(f.id)
    FROM tree t JOIN region_import f ON f.parent_id = t.id AND f.checked)
UPDATE region_import f SET path = t.path FROM tree t WHERE t.id = f.id

-- Updated regions whose path changes: their old paths.
-- name: moved
SELECT r.id, r.path::text AS path FROM region_import f JOIN regions r ON r.id = f.id
 WHERE f.action = 'update' AND r.path <> f.path

-- name: copyToHistory
INSERT INTO region_history (id, parent_id, level, name, path, geom, households, population, attributes, valid_from, valid_to)
SELECT r.id, r.parent_id, r.level, r.name, r.path, r.geom, r.households, r.population, r.attributes,
       r.valid_from, coalesce(r.valid_to, now())
  FROM regions r JOIN region_import f ON f.id = r.id
 WHERE f.action = 'update'

-- name: insertNew
INSERT INTO regions (id, parent_id, level, name, path, geom, households, population, attributes, valid_from, valid_to)
SELECT id, parent_id, level, name, path, geom, households, population, attributes, now(), NULL
  FROM region_import WHERE action = 'create'

-- name: updateChanged
UPDATE regions r
   SET parent_id = f.parent_id, level = f.level, name = f.name, path = f.path, geom = f.geom, households = f.households,
       population = f.population, attributes = f.attributes, valid_from = now(), valid_to = NULL
  FROM region_import f
 WHERE f.id = r.id AND f.action = 'update'

-- One level ($1) of the current regions below a region whose path changed (their path still starts with one of the
-- old paths $2), top-down so that parents are already right. Those not written by the import get a new version:
-- the old row goes to region_history.
-- name: repathLevel
WITH moved AS (
  SELECT c.id, p.path || text2ltree(c.id) AS path
    FROM regions c JOIN regions p ON p.id = c.parent_id
   WHERE c.level = $1 AND c.valid_to IS NULL AND c.path <@ $2::text[]::ltree[]
     AND c.path <> p.path || text2ltree(c.id)),
history AS (
  INSERT INTO region_history (id, parent_id, level, name, path, geom, households, population, attributes, valid_from, valid_to)
  SELECT r.id, r.parent_id, r.level, r.name, r.path, r.geom, r.households, r.population, r.attributes, r.valid_from, now()
    FROM regions r JOIN moved m ON m.id = r.id
   WHERE NOT EXISTS (SELECT 1 FROM region_import f WHERE f.id = r.id AND f.action IN ('create', 'update')))
UPDATE regions r
   SET path = m.path,
       valid_from = CASE WHEN EXISTS (SELECT 1 FROM region_import f WHERE f.id = r.id AND f.action IN ('create', 'update'))
                         THEN r.valid_from ELSE now() END
  FROM moved m
 WHERE m.id = r.id
RETURNING r.id
