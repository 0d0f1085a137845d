-- Cases (事件) and their append-only timeline. The lifecycle issue adds the state machine columns it needs.
CREATE SEQUENCE case_code_seq;

CREATE TABLE cases (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code            text NOT NULL UNIQUE,
  category        text NOT NULL,
  priority        text NOT NULL DEFAULT 'normal',
  status          text NOT NULL DEFAULT 'reported',
  source          text NOT NULL DEFAULT 'api',
  description     text NOT NULL,
  location        geometry(Point, 4326) NOT NULL,
  address         text,
  district_id     text REFERENCES regions (id),
  street_id       text REFERENCES regions (id),
  community_id    text REFERENCES regions (id),
  grid_id         text REFERENCES regions (id),
  microgrid_id    text REFERENCES regions (id),
  region_path     ltree NOT NULL,          -- path of the finest region that owns the point
  owning_level    smallint NOT NULL DEFAULT 4,
  reporter        text,
  idempotency_key text UNIQUE,
  reported_at     timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  due_at          timestamptz,
  version         integer NOT NULL DEFAULT 1
);
CREATE INDEX cases_location_gist ON cases USING gist (location);
CREATE INDEX cases_region_path_gist ON cases USING gist (region_path);
CREATE INDEX cases_status_idx ON cases (status);
CREATE INDEX cases_reported_at_idx ON cases (reported_at DESC);

CREATE TABLE case_events (
  id          bigserial PRIMARY KEY,
  case_id     uuid NOT NULL REFERENCES cases (id),
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text,
  action      text NOT NULL,
  from_status text,
  to_status   text,
  note        text,
  data        jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX case_events_case_idx ON case_events (case_id, at);
