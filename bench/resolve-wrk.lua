-- wrk script for bench/resolve.ts: single GET /api/regions/resolve lookups at random points over the demo region's
-- extent (the same box as the Node clients), one request at a time per connection.
math.randomseed(7)
request = function()
  local lon = 119.3 + math.random() * 0.62
  local lat = 28.85 + math.random() * 0.45
  return wrk.format("GET", string.format("/api/regions/resolve?lon=%.7f&lat=%.7f", lon, lat))
end
