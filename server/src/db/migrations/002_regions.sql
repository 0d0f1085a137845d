-- All five levels in one table: 1 district, 2 street/town, 3 community/village, 4 grid, 5 micro-grid.
CREATE TABLE regions (
  id          text PRIMARY KEY,           -- administrative code where one exists; [A-Za-z0-9_] (an ltree label)
  parent_id   text REFERENCES regions (id),
  level       smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
  name        text NOT NULL,
  path        ltree NOT NULL,             -- ancestor ids from the district down to this region, itself included
  geom        geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
  households  integer,
  population  integer,
  attributes  jsonb NOT NULL DEFAULT '{}'::jsonb,
  valid_from  timestamptz NOT NULL DEFAULT now(),
  valid_to    timestamptz,                -- boundaries change (动态调整): a retired version keeps its row
  CHECK ((level = 1) = (parent_id IS NULL))
);
CREATE INDEX regions_geom_gist ON regions USING gist (geom);
CREATE INDEX regions_path_gist ON regions USING gist (path);
CREATE INDEX regions_parent_idx ON regions (parent_id);
CREATE INDEX regions_level_idx ON regions (level);
