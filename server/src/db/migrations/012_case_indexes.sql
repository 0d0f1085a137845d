-- Indexes for the loop statistics and the wall's live KPIs (figures in docs/BENCHMARKS.md, "Loop statistics"):
-- "closed today" without reading the whole table, and open cases under a region.
CREATE INDEX cases_closed_at_idx ON cases (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX cases_open_region_gist ON cases USING gist (region_path)
  WHERE status IN ('reported', 'registered', 'dispatched', 'in_progress', 'handled', 'verified');
