-- The region import's topology checks (topology.ts) on region_import_final: the checked features plus the current
-- regions they touch.

-- name: createFinal
CREATE TEMP TABLE region_import_final ON COMMIT DROP AS
  SELECT id, parent_id, level, geom, true AS imported FROM region_import WHERE checked
  UNION ALL
  SELECT r.id, r.parent_id, r.level, r.geom, false
    FROM regions r
   WHERE r.valid_to IS NULL
     AND NOT EXISTS (SELECT 1 FROM region_import f WHERE f.id = r.id)
     AND (   r.id IN (SELECT parent_id FROM region_import WHERE checked)          -- parents
          OR r.parent_id IN (SELECT parent_id FROM region_import WHERE checked)   -- siblings
          OR r.parent_id IN (SELECT id FROM region_import WHERE checked)          -- children
          OR r.id IN (SELECT o.parent_id FROM regions o JOIN region_import f ON f.id = o.id WHERE f.checked) -- former parents
          OR r.parent_id IN (SELECT o.parent_id FROM regions o JOIN region_import f ON f.id = o.id WHERE f.checked) -- their children
          OR (r.level = 1 AND EXISTS (SELECT 1 FROM region_import WHERE checked AND level = 1))); -- other districts
CREATE INDEX region_import_final_geom ON region_import_final USING gist (geom);
CREATE INDEX region_import_final_parent ON region_import_final (parent_id);
ANALYZE region_import_final;

-- Every (child, parent) pair touched by the import.
-- name: outsideFrom
FROM region_import_final c
JOIN region_import_final p ON p.id = c.parent_id
WHERE c.imported OR p.imported

-- name: outsideCount
SELECT count(*)::int AS n {{outsideFrom}}

-- name: outside
SELECT c.id AS "childId", p.id AS "parentId", c.imported AS "childImported",
       CASE WHEN ST_CoveredBy(c.geom, p.geom) THEN 0
            ELSE greatest(ST_Area(c.geom) - ST_Area(ST_CollectionExtract(ST_Intersection(c.geom, p.geom), 3)), 0)
                 * {{perSquareDegreeAt(c.geom)}}
       END AS "outsideM2"
{{outsideFrom}}
ORDER BY c.id

-- Every pair of siblings (same parent; districts among themselves) whose boxes meet.
-- name: siblingJoin
FROM region_import_final a
JOIN region_import_final b
  ON coalesce(b.parent_id, '') = coalesce(a.parent_id, '') AND a.id < b.id AND a.geom && b.geom

-- name: touched
WHERE a.imported OR b.imported

-- name: overlapCount
SELECT count(*)::int AS n {{siblingJoin}} {{touched}}

-- name: overlaps
SELECT a.id AS "aId", b.id AS "bId", a.imported AS "aImported", coalesce({{areaM2(i.g)}}, 0) AS "overlapM2"
{{siblingJoin}}
CROSS JOIN LATERAL (
  SELECT CASE WHEN ST_Relate(a.geom, b.geom, '2********')  -- interiors share an area (touching is fine)
              THEN ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3) END AS g) i
{{touched}}
ORDER BY a.id, b.id

-- Parents outside the file whose family the import changes while they keep children outside the file.
-- name: touchedParents
SELECT p.id FROM region_import_final p
 WHERE NOT p.imported
   AND EXISTS (SELECT 1 FROM region_import_final c WHERE c.parent_id = p.id AND NOT c.imported)
   AND (EXISTS (SELECT 1 FROM region_import_final c WHERE c.parent_id = p.id AND c.imported)
        OR EXISTS (SELECT 1 FROM regions o JOIN region_import f ON f.id = o.id WHERE f.checked AND o.parent_id = p.id))
 ORDER BY p.id

-- $1: region ids, $2: tolerance (m²). Whether the current children of each left no larger piece uncovered.
-- name: coveredBefore
SELECT p.id, o.u IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ({{uncovered(p.geom, o.u)}}) d WHERE d.m2 > $2) AS covered
  FROM regions p
  LEFT JOIN LATERAL (SELECT ST_Union(c.geom) AS u FROM regions c WHERE c.parent_id = p.id AND c.valid_to IS NULL) o ON true
 WHERE p.id = ANY($1::text[])
 ORDER BY p.id

-- Parents whose children must cover them: the parent is in the file, or every current child of it is (the file
-- holds the complete set), or it is one of $1 (coveredBefore: the import must not open a gap in it); it has
-- children, none of which failed a per-feature check.
-- name: gapParents
WITH parents AS (
  SELECT p.id, p.geom, p.imported
    FROM region_import_final p
   WHERE EXISTS (SELECT 1 FROM region_import_final c WHERE c.parent_id = p.id)
     AND (p.imported OR p.id = ANY($1::text[])
          OR NOT EXISTS (SELECT 1 FROM region_import_final c WHERE c.parent_id = p.id AND NOT c.imported))
     AND NOT EXISTS (SELECT 1 FROM region_import f WHERE f.parent_id = p.id AND NOT f.checked))

-- name: gapCount
{{gapParents}} SELECT count(*)::int AS n FROM parents

-- $2: tolerance (m²).
-- name: gaps
{{gapParents}}
SELECT p.id AS "parentId", p.imported AS "parentImported", g.gaps
  FROM parents p
 CROSS JOIN LATERAL (SELECT ST_Union(c.geom) AS u FROM region_import_final c WHERE c.parent_id = p.id) u
 CROSS JOIN LATERAL (
   SELECT coalesce(json_agg(json_build_object('m2', d.m2, 'x', ST_X(d.pt), 'y', ST_Y(d.pt)) ORDER BY d.m2 DESC)
                     FILTER (WHERE d.m2 > $2), '[]'::json) AS gaps
     FROM ({{uncovered(p.geom, u.u)}}) d) g
 ORDER BY p.id

-- $1, $2: the pairs (a, b) as two id arrays.
-- name: pairs
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(a, b, i)
JOIN region_import_final a ON a.id = u.a
JOIN region_import_final b ON b.id = u.b

-- The largest piece of the child a outside its parent b: a minus (a ∩ b), by ST_SymDifference.
-- name: locateOutside
SELECT u.i::int AS i, ST_X(pt.p) AS x, ST_Y(pt.p) AS y
  {{pairs}}
 CROSS JOIN LATERAL (SELECT (SELECT ST_PointOnSurface(d.geom)
                               FROM ST_Dump(ST_CollectionExtract(ST_SymDifference(a.geom,
                                      ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)), 3)) d
                              ORDER BY ST_Area(d.geom) DESC LIMIT 1) AS p) pt
 ORDER BY u.i

-- name: locateOverlap
SELECT u.i::int AS i, ST_X(pt.p) AS x, ST_Y(pt.p) AS y
  {{pairs}}
 CROSS JOIN LATERAL (SELECT ST_PointOnSurface(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS p) pt
 ORDER BY u.i
