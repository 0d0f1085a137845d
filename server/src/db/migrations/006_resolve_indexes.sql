-- Point → region resolution asks the finest level first (micro-grids: small polygons, cheap to test) and falls back
-- to any level only when no micro-grid covers the point. Partial indexes hold just the current rows it searches.
CREATE INDEX regions_geom_current_microgrid ON regions USING gist (geom) WHERE level = 5 AND valid_to IS NULL;
CREATE INDEX regions_geom_current ON regions USING gist (geom) WHERE valid_to IS NULL;
