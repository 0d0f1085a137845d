-- Point-in-polygon against a whole district (tens of thousands of vertices, TOASTed) costs a decompression and a
-- long ring walk per point. Resolution runs instead on the current regions cut into small pieces (ST_Subdivide,
-- at most 128 vertices each), kept in step with `regions` by a trigger so every writer (seed, import) is covered.
CREATE TABLE region_parts (
  region_id text NOT NULL REFERENCES regions (id) ON DELETE CASCADE,
  level     smallint NOT NULL,
  path      ltree NOT NULL,
  geom      geometry(Polygon, 4326) NOT NULL
);
CREATE INDEX region_parts_geom_gist ON region_parts USING gist (geom);
CREATE INDEX region_parts_region_idx ON region_parts (region_id);

-- Statement-level triggers with transition tables: one bulk statement per INSERT/UPDATE, not one per row (a
-- per-row trigger made loading 14,500 micro-grids a hundred times slower on PostgreSQL 15). Deletes cascade.
CREATE FUNCTION region_parts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO region_parts (region_id, level, path, geom)
  SELECT n.id, n.level, n.path, (ST_Dump(ST_Subdivide(n.geom, 128))).geom FROM new_rows n WHERE n.valid_to IS NULL;
  RETURN NULL;
END $$;

CREATE FUNCTION region_parts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH changed AS (
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.path IS DISTINCT FROM o.path OR n.level IS DISTINCT FROM o.level
        OR n.valid_to IS DISTINCT FROM o.valid_to OR ST_AsEWKB(n.geom) IS DISTINCT FROM ST_AsEWKB(o.geom)),
  gone AS (
    DELETE FROM region_parts p USING changed c WHERE p.region_id = c.id)
  INSERT INTO region_parts (region_id, level, path, geom)
  SELECT n.id, n.level, n.path, (ST_Dump(ST_Subdivide(n.geom, 128))).geom
    FROM new_rows n JOIN changed c ON c.id = n.id WHERE n.valid_to IS NULL;
  RETURN NULL;
END $$;

CREATE TRIGGER regions_parts_insert AFTER INSERT ON regions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION region_parts_insert();
CREATE TRIGGER regions_parts_update AFTER UPDATE ON regions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION region_parts_update();

INSERT INTO region_parts (region_id, level, path, geom)
SELECT id, level, path, (ST_Dump(ST_Subdivide(geom, 128))).geom FROM regions WHERE valid_to IS NULL;
