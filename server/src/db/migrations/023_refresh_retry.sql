-- A refresh whose answer was lost (the app closed or the link dropped while the new token was on its way) is tried
-- again with the same refresh token: within a short grace period, and while the token it was exchanged for has never
-- been used, that is a retry, not a stolen copy (auth/service.ts). Audited as its own outcome.
ALTER TABLE auth_events DROP CONSTRAINT auth_events_outcome_check;
ALTER TABLE auth_events ADD CONSTRAINT auth_events_outcome_check
  CHECK (outcome IN ('ok', 'bad_credentials', 'throttled', 'invalid', 'expired', 'revoked', 'reused', 'retried'));
