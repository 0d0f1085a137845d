-- Point → region resolution answers most points from a cell index held in each server process's memory
-- (server/src/repos/resolve.ts): the extent cut into fixed cells, each either owned by one finest region (no edge of
-- any region comes near it) or marked "boundary: run the exact ST_Covers test". The index is built in Node from
-- `region_parts` and is right for one state of the regions only. This counter tells every process whether its
-- index is still current: it is bumped in the same transaction as every change to `regions` that can change an
-- answer (the same changes that make 006's triggers rebuild `region_parts`), and each resolve request reads it in
-- the same snapshot as its exact test. A process whose index is older answers from SQL alone and rebuilds.
-- Committed only with the change, so no process can see a new version with old regions or the reverse.
CREATE TABLE region_version (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version   bigint NOT NULL
);
INSERT INTO region_version (version) VALUES (1);

CREATE FUNCTION region_version_bump() RETURNS void LANGUAGE sql AS $$
  UPDATE region_version SET version = version + 1;
$$;

-- Statement-level, with transition tables, as in 006: one bump per statement that changed something.
CREATE FUNCTION region_version_insert_or_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM changed_rows) THEN
    PERFORM region_version_bump();
  END IF;
  RETURN NULL;
END $$;

-- Not for changes an answer cannot see (chief, numbers, attributes, valid_from).
CREATE FUNCTION region_version_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.path IS DISTINCT FROM o.path OR n.level IS DISTINCT FROM o.level OR n.name IS DISTINCT FROM o.name
        OR n.valid_to IS DISTINCT FROM o.valid_to OR ST_AsEWKB(n.geom) IS DISTINCT FROM ST_AsEWKB(o.geom))
     -- an id changed: the join above misses that row
     OR (SELECT count(*) FROM new_rows n JOIN old_rows o ON o.id = n.id) <> (SELECT count(*) FROM new_rows) THEN
    PERFORM region_version_bump();
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION region_version_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM region_version_bump();
  RETURN NULL;
END $$;

CREATE TRIGGER regions_version_insert AFTER INSERT ON regions
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION region_version_insert_or_delete();
CREATE TRIGGER regions_version_delete AFTER DELETE ON regions
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION region_version_insert_or_delete();
CREATE TRIGGER regions_version_update AFTER UPDATE ON regions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION region_version_update();
CREATE TRIGGER regions_version_truncate AFTER TRUNCATE ON regions
  FOR EACH STATEMENT EXECUTE FUNCTION region_version_truncate();
