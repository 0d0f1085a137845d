-- Grid staff, cameras, and the history of region boundaries (动态调整).

-- Closed versions of regions. `regions` keeps one row per id — the current version, or the last one with valid_to
-- set when the region was retired — so cases can reference region ids; every earlier version lives here.
-- A region as of time T: regions WHERE valid_from <= T AND (valid_to IS NULL OR valid_to > T),
-- plus region_history WHERE valid_from <= T AND valid_to > T (see the regions_as_of function).
CREATE TABLE region_history (
  id          text NOT NULL,
  parent_id   text,
  level       smallint NOT NULL,
  name        text NOT NULL,
  path        ltree NOT NULL,
  geom        geometry(MultiPolygon, 4326) NOT NULL,
  households  integer,
  population  integer,
  attributes  jsonb NOT NULL DEFAULT '{}'::jsonb,
  valid_from  timestamptz NOT NULL,
  valid_to    timestamptz NOT NULL,
  PRIMARY KEY (id, valid_from),
  CHECK (valid_to > valid_from)
);
CREATE INDEX region_history_geom_gist ON region_history USING gist (geom);
CREATE INDEX region_history_path_gist ON region_history USING gist (path);

CREATE FUNCTION regions_as_of(at timestamptz)
RETURNS TABLE (id text, parent_id text, level smallint, name text, path ltree, geom geometry(MultiPolygon, 4326),
               households integer, population integer, attributes jsonb, valid_from timestamptz, valid_to timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT r.id, r.parent_id, r.level, r.name, r.path, r.geom, r.households, r.population, r.attributes, r.valid_from, r.valid_to
    FROM regions r WHERE r.valid_from <= at AND (r.valid_to IS NULL OR r.valid_to > at)
  UNION ALL
  SELECT h.id, h.parent_id, h.level, h.name, h.path, h.geom, h.households, h.population, h.attributes, h.valid_from, h.valid_to
    FROM region_history h WHERE h.valid_from <= at AND h.valid_to > at
$$;

CREATE TABLE workers (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('grid_chief', 'grid_worker', 'microgrid_leader')),
  region_id     text NOT NULL REFERENCES regions (id),  -- the grid (chief, worker) or micro-grid (leader) served
  phone         text,
  status        text NOT NULL DEFAULT 'off_duty' CHECK (status IN ('on_duty', 'busy', 'off_duty')),
  home          geometry(Point, 4326),
  position      geometry(Point, 4326),                  -- last known position
  last_seen_at  timestamptz,
  attributes    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX workers_region_idx ON workers (region_id);
CREATE INDEX workers_position_gist ON workers USING gist (position);

ALTER TABLE regions ADD COLUMN chief_id text REFERENCES workers (id);

CREATE TABLE cameras (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('public_security', 'enterprise', 'construction_site')),
  location    geometry(Point, 4326) NOT NULL,
  region_id   text REFERENCES regions (id),             -- finest region containing it
  region_path ltree,
  stream_url  text,
  status      text NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'offline')),
  attributes  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX cameras_location_gist ON cameras USING gist (location);
CREATE INDEX cameras_region_path_gist ON cameras USING gist (region_path);
