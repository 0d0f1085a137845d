-- The outbox / event log: written in the same transaction as the change it describes, relayed to sockets in seq
-- order by every server process (woken by NOTIFY gc_events, which carries no payload, and by polling).
CREATE TABLE events (
  seq         bigserial PRIMARY KEY,
  kind        text NOT NULL,
  region_path ltree,                       -- scope: delivered to the rooms of every ancestor region
  payload     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
