-- The event log, for delivery that loses nothing (server/src/realtime/relay.ts explains the rules).
--
-- 1. A seq is drawn only after the writing transaction has its transaction id. The relay decides that a missing seq
--    (a gap) is final — rolled back, never to appear — once every transaction older than an id it took after
--    seeing the gap has ended; that holds only if the holder of the missing seq had its id before drawing it.
--    (A column DEFAULT nextval() runs before the row gets its xid: the default goes, a trigger draws the seq.)
ALTER TABLE events ALTER COLUMN seq DROP DEFAULT;

CREATE FUNCTION events_assign_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_current_xact_id();
  NEW.seq := nextval('events_seq_seq');
  RETURN NEW;
END
$$;

CREATE TRIGGER events_assign_seq BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_assign_seq();

-- 2. Retention: the prune job deletes by age (created_at follows seq, so a BRIN index is enough) and by count, and
--    records how far it went, so that a client resuming from below that is told to reload instead of missing events.
CREATE INDEX events_created_at_brin ON events USING brin (created_at);

CREATE TABLE event_log_state (
  id             boolean PRIMARY KEY DEFAULT true CHECK (id),
  pruned_through bigint NOT NULL DEFAULT 0    -- every event with seq <= this may be gone
);
INSERT INTO event_log_state DEFAULT VALUES;
