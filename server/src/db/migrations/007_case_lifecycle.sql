-- The case lifecycle: departments and categories (rows come from data/reference/categories.json at every start),
-- the state-machine columns on cases, an append-only timeline, and idempotency keys for intake.

CREATE TABLE departments (
  code        text PRIMARY KEY,
  name_zh     text NOT NULL,
  name_en     text NOT NULL,
  phone       text,
  active      boolean NOT NULL DEFAULT true
);

CREATE TABLE categories (
  code            text PRIMARY KEY,
  family          text NOT NULL,
  parent_code     text REFERENCES categories (code),
  name_zh         text NOT NULL,
  name_en         text NOT NULL,
  color           text NOT NULL,
  department      text NOT NULL REFERENCES departments (code),
  priority        text NOT NULL CHECK (priority IN ('urgent', 'high', 'normal')),
  clock           text NOT NULL CHECK (clock IN ('working', '24x7')),
  expected_level  smallint NOT NULL CHECK (expected_level BETWEEN 1 AND 4),
  limits          jsonb NOT NULL,          -- { urgent|high|normal: { amount, unit: hours|working_hours|working_days } }
  sort            integer NOT NULL DEFAULT 0,
  active          boolean NOT NULL DEFAULT true
);

-- Cases from before this migration carried free-form sources.
UPDATE cases SET source = CASE source WHEN 'simulator' THEN 'grid_worker' WHEN 'open311' THEN 'open311' ELSE 'resident' END
 WHERE source NOT IN ('grid_worker', 'resident', 'patrol', 'camera', 'hotline', 'open311');

ALTER TABLE cases
  DROP COLUMN idempotency_key,
  ADD COLUMN department        text,
  ADD COLUMN assignee_id       text REFERENCES workers (id),
  ADD COLUMN handler_id        text,                 -- who reported it handled (the verifier must be someone else)
  ADD COLUMN level_started_at  timestamptz,          -- when the current owning level took it: the limit runs from here
  ADD COLUMN registered_at     timestamptz,
  ADD COLUMN dispatched_at     timestamptz,
  ADD COLUMN accepted_at       timestamptz,
  ADD COLUMN handled_at        timestamptz,
  ADD COLUMN verified_at       timestamptz,
  ADD COLUMN closed_at         timestamptz,
  ADD COLUMN rated_at          timestamptz,
  ADD COLUMN rating            smallint CHECK (rating BETWEEN 1 AND 5),
  ADD COLUMN rating_comment    text,
  ADD COLUMN merged_into       uuid REFERENCES cases (id),
  ADD COLUMN escalations       smallint NOT NULL DEFAULT 0,
  ADD COLUMN overdue_flagged_at timestamptz,         -- set once when a case is overdue at the top level
  ADD CONSTRAINT cases_status_check CHECK (status IN ('reported', 'registered', 'rejected', 'dispatched', 'in_progress',
                                                      'handled', 'verified', 'closed', 'rated', 'merged')),
  ADD CONSTRAINT cases_priority_check CHECK (priority IN ('urgent', 'high', 'normal')),
  ADD CONSTRAINT cases_source_check CHECK (source IN ('grid_worker', 'resident', 'patrol', 'camera', 'hotline', 'open311')),
  ADD CONSTRAINT cases_owning_level_check CHECK (owning_level BETWEEN 1 AND 4);

UPDATE cases SET level_started_at = reported_at WHERE level_started_at IS NULL;

-- Foreign keys to the reference tables are checked for new rows only (the tables are filled at start, after
-- migrations; older demo rows are not re-checked).
ALTER TABLE cases ADD CONSTRAINT cases_category_fk FOREIGN KEY (category) REFERENCES categories (code) NOT VALID;
ALTER TABLE cases ADD CONSTRAINT cases_department_fk FOREIGN KEY (department) REFERENCES departments (code) NOT VALID;

-- The scheduler's question: open cases whose limit has passed, earliest first.
CREATE INDEX cases_due_open_idx ON cases (due_at)
  WHERE status IN ('reported', 'registered', 'dispatched', 'in_progress');
CREATE INDEX cases_category_idx ON cases (category);
CREATE INDEX cases_assignee_idx ON cases (assignee_id) WHERE assignee_id IS NOT NULL;

-- Timeline: level changes and attachments are part of the record.
ALTER TABLE case_events
  ADD COLUMN from_level  smallint,
  ADD COLUMN to_level    smallint,
  ADD COLUMN attachments jsonb NOT NULL DEFAULT '[]'::jsonb;
UPDATE case_events SET actor = 'system' WHERE actor IS NULL;
ALTER TABLE case_events ALTER COLUMN actor SET NOT NULL;

-- Append-only: the audit trail can be added to, never rewritten.
CREATE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'case_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER case_events_no_update BEFORE UPDATE OR DELETE ON case_events
  FOR EACH STATEMENT EXECUTE FUNCTION case_events_append_only();
CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
  FOR EACH STATEMENT EXECUTE FUNCTION case_events_append_only();

-- Idempotency-Key (IETF httpapi-idempotency-key): one row per (caller, key). `response` is set in the same
-- transaction as the change, so a stored key always has its result; a row without one is a request in flight.
CREATE TABLE idempotency_keys (
  scope         text NOT NULL,          -- the caller
  key           text NOT NULL,
  request_hash  text NOT NULL,          -- sha256 of method, path and the canonical body
  status_code   smallint,
  response      jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
