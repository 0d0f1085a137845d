-- Patrol check-ins (走访打卡): a grid worker was at a building, in a household or at a place. Resolved like a case
-- (the finest region's path, the grid), at the server's time; madeAt is the phone's. Photos are rows of `photos`
-- (checkin_id), listed here in their order.
CREATE TABLE patrol_checkins (
  id          uuid PRIMARY KEY,
  worker_id   text NOT NULL REFERENCES workers (id),
  actor       text NOT NULL,                 -- who recorded it: the worker, or an admin (gateway) account
  kind        text NOT NULL CHECK (kind IN ('building', 'household', 'place')),
  at          timestamptz NOT NULL,          -- the server's time
  made_at     timestamptz,                   -- the phone's time, when sent
  location    geometry(Point, 4326) NOT NULL,
  region_path ltree NOT NULL,                -- path of the finest region that holds the point
  grid_id     text NOT NULL REFERENCES regions (id),
  address     text,
  note        text,
  photos      uuid[] NOT NULL DEFAULT '{}'
);
CREATE INDEX patrol_checkins_location_gist ON patrol_checkins USING gist (location);
CREATE INDEX patrol_checkins_region_path_gist ON patrol_checkins USING gist (region_path);
CREATE INDEX patrol_checkins_at_idx ON patrol_checkins (at DESC);
CREATE INDEX patrol_checkins_worker_idx ON patrol_checkins (worker_id, at DESC);

-- A photo belongs to a case or to a check-in, never both.
ALTER TABLE photos
  ADD COLUMN checkin_id uuid REFERENCES patrol_checkins (id),
  ADD CONSTRAINT photos_one_owner CHECK (case_id IS NULL OR checkin_id IS NULL);
CREATE INDEX photos_checkin_idx ON photos (checkin_id) WHERE checkin_id IS NOT NULL;
