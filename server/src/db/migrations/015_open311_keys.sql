-- Open311 GeoReport v2 api_key (issue #6): POST requests.json needs a key issued to an app. Only the SHA-256 (hex)
-- of a key is stored, never the key; the plain key is shown once, when it is issued (POST /api/open311/keys).
CREATE TABLE open311_api_keys (
  key_hash      text PRIMARY KEY,              -- hex sha256 of the key
  app_name      text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,                   -- set: the key is refused (403)
  last_used_at  timestamptz
);
