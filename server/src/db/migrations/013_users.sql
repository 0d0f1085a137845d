-- Identity: users with one role and a scope region, sign-in sessions with rotated refresh tokens, and an
-- append-only audit of sign-ins (server/src/auth/README.md explains the rules).

-- One role per user. Scope: the region subtree the user works in (regions.path <@ the scope's path).
--   admin, commander  scope_region_id NULL = everything (a region narrows them)
--   dispatcher, leader scope_region_id required (a district, street, community or grid)
--   grid_worker       linked to a workers row; the scope is that worker's region (their grid), read through the link
--   resident          no scope: they see their own cases only
CREATE TABLE users (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username        text NOT NULL CHECK (username ~ '^[A-Za-z0-9_.@-]{1,64}$'),
  display_name    text,
  role            text NOT NULL CHECK (role IN ('admin', 'commander', 'dispatcher', 'leader', 'grid_worker', 'resident')),
  scope_region_id text REFERENCES regions (id),
  worker_id       text UNIQUE REFERENCES workers (id),
  password_hash   text NOT NULL,               -- scrypt$N$r$p$salt$hash (server/src/auth/passwords.ts)
  disabled_at     timestamptz,                 -- set: sign-in and every token refused
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (role NOT IN ('dispatcher', 'leader') OR scope_region_id IS NOT NULL),
  CHECK (role <> 'resident' OR scope_region_id IS NULL),
  CHECK ((role = 'grid_worker') = (worker_id IS NOT NULL)),
  CHECK (role <> 'grid_worker' OR scope_region_id IS NULL)
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

-- A grid worker acts under their worker id, everyone else under their username (routes/caller.ts): a username that
-- is some worker's id would let its holder act as that worker.
CREATE FUNCTION users_username_not_a_worker() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM workers w WHERE lower(w.id) = lower(NEW.username) AND w.id IS DISTINCT FROM NEW.worker_id) THEN
    RAISE EXCEPTION 'username % is a worker id', NEW.username USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER users_username_not_a_worker BEFORE INSERT OR UPDATE OF username, worker_id ON users
  FOR EACH ROW EXECUTE FUNCTION users_username_not_a_worker();

-- One sign-in = one session = one family of refresh tokens. Access tokens name their session (claim `sid`), so
-- revoking it (logout, refresh-token reuse, disabling) refuses them at once, not only when they expire.
CREATE TABLE auth_sessions (
  id              uuid PRIMARY KEY,
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,        -- absolute end, however often it is refreshed
  refreshed_at    timestamptz,
  revoked_at      timestamptz,
  revoked_reason  text CHECK (revoked_reason IN ('logout', 'logout_all', 'refresh_reuse', 'disabled')),
  address         text,
  user_agent      text
);
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens are opaque random strings; only their SHA-256 is stored. Each is used once: refreshing marks it
-- used and issues the next one in the same session; presenting a used one again revokes the session.
CREATE TABLE refresh_tokens (
  token_hash  text PRIMARY KEY,                -- hex sha256 of the token
  session_id  uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
  issued_at   timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Audit: every sign-in, failed sign-in, refresh, refresh reuse and logout. Append-only. `account` is the username
-- as typed, lower-cased (also for usernames that do not exist): the per-account sign-in limit counts by it.
CREATE TABLE auth_events (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('login', 'refresh', 'logout')),
  outcome     text NOT NULL CHECK (outcome IN ('ok', 'bad_credentials', 'throttled', 'invalid', 'expired', 'revoked', 'reused')),
  account     text,
  user_id     uuid,
  session_id  uuid,
  address     text,
  user_agent  text
);
CREATE INDEX auth_events_account_idx ON auth_events (account, at) WHERE kind = 'login';
CREATE INDEX auth_events_user_idx ON auth_events (user_id, at);

CREATE FUNCTION auth_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'auth_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER auth_events_no_update BEFORE UPDATE OR DELETE ON auth_events
  FOR EACH STATEMENT EXECUTE FUNCTION auth_events_append_only();
CREATE TRIGGER auth_events_no_truncate BEFORE TRUNCATE ON auth_events
  FOR EACH STATEMENT EXECUTE FUNCTION auth_events_append_only();
