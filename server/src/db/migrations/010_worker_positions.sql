-- Live resources: every position a worker's device reports, kept as a track, and the live position on `workers`.
--
-- Tracks are partitioned by UTC day (RANGE on `at`): at 2,000 positions/s a day is ~170 million rows, and retention
-- drops whole days (DROP TABLE: instant, no dead rows, no vacuum debt) instead of DELETEing them. The same SQL runs
-- on PostgreSQL and on the embedded PGlite. A DEFAULT partition takes every row whose day has no partition yet
-- (a late upload from last week, a device clock far ahead), so an insert never fails for want of a partition:
-- nothing a device submitted is lost. The maintenance pass (server/src/repos/workers.ts, maintainPositions) creates
-- the partitions around today ahead of time, moves rows out of the default partition into their day's partition
-- when it creates one, drops the days past retention (POSITION_RETENTION_DAYS) and deletes expired rows from the
-- default partition. Retention is therefore per day: a position is kept at least N days and gone less than a day
-- after that.
CREATE TABLE worker_positions (
  worker_id   text NOT NULL,             -- workers.id, checked by the service (no FK: cheap inserts, cheap drops)
  at          timestamptz NOT NULL,      -- when the device took the fix
  location    geometry(Point, 4326) NOT NULL,
  grid_id     text,                      -- finest region covering it when received (grid or micro-grid); null: outside every region
  accuracy_m  real,
  status      text CHECK (status IN ('on_duty', 'busy', 'off_duty')),  -- as reported with the fix (null: not reported)
  received_at timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (at);

CREATE TABLE worker_positions_default PARTITION OF worker_positions DEFAULT;

-- One worker's track in a window (and the key that makes a retried upload idempotent: same worker, same instant).
CREATE UNIQUE INDEX worker_positions_worker_at ON worker_positions (worker_id, at);
-- All positions in a time window: partition pruning picks the days, BRIN the pages within (rows arrive in time order).
CREATE INDEX worker_positions_at_brin ON worker_positions USING brin (at);

-- The finest region under the live position (null outside every region or before the first fix).
ALTER TABLE workers ADD COLUMN position_grid_id text;
CREATE INDEX workers_status_idx ON workers (status);
CREATE INDEX cameras_status_idx ON cameras (status);

-- The partition of one UTC day, created unless it exists. Rows of that day waiting in the default partition move
-- into it (in this transaction), so ATTACH finds the default partition clean. Returns whether it created one.
CREATE FUNCTION worker_positions_ensure_day(day date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  part text := 'worker_positions_p' || to_char(day, 'YYYYMMDD');
  lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
  hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
  IF to_regclass(part) IS NOT NULL THEN
    RETURN false;
  END IF;
  -- Inserts routed to the default partition wait for this transaction; inserts elsewhere carry on.
  LOCK TABLE worker_positions_default IN ACCESS EXCLUSIVE MODE;
  EXECUTE format('CREATE TABLE %I (LIKE worker_positions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
  -- The range as a constraint first, so ATTACH need not scan the new table to prove it.
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (at >= %L AND at < %L)', part, part || '_day', lo, hi);
  EXECUTE format('WITH moved AS (DELETE FROM worker_positions_default WHERE at >= %L AND at < %L RETURNING *) INSERT INTO %I SELECT * FROM moved', lo, hi, part);
  EXECUTE format('ALTER TABLE worker_positions ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  RETURN true;
END $$;

-- The day partitions, with their UTC day, read from the catalogue (named worker_positions_pYYYYMMDD).
CREATE FUNCTION worker_positions_days() RETURNS TABLE (part text, day date) LANGUAGE sql STABLE AS $$
  SELECT c.relname::text, to_date(substr(c.relname, 19), 'YYYYMMDD')
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = 'worker_positions'::regclass AND c.relname ~ '^worker_positions_p[0-9]{8}$'
$$;
