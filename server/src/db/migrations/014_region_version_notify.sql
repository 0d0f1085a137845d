-- Every bump of region_version (009) also sends NOTIFY gc_regions with the new version, delivered at COMMIT to every
-- process that LISTENs. A process's cell index (server/src/repos/resolve.ts) is then marked outdated the moment the
-- change commits, instead of each request reading region_version to find out. A rolled-back change sends nothing.
-- Delivery is best-effort (a LISTEN connection can die), so the resolver still reads the version now and then.
CREATE OR REPLACE FUNCTION region_version_bump() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v bigint;
BEGIN
  UPDATE region_version SET version = version + 1 RETURNING version INTO v;
  PERFORM pg_notify('gc_regions', v::text);
END $$;
