-- vitalcore PostgreSQL schema, version 7: accounts an administrator
-- controls; the same columns as the SQLite store.
--
-- Sessions record when they were last used (the idle timeout ends a
-- session left unused; `last_seen_at` starts at `created_at`), API tokens
-- may expire. Times are RFC 3339 text in UTC, as in the other columns of
-- these tables. A token's or a session's public id is the first 5 bytes of
-- its hash (`vitalcore users tokens`, `users revoke --id`), so it needs no
-- column. Disabling an account sets `users.active` to false (and ends its
-- sessions and tokens in the same transaction).

ALTER TABLE sessions ADD COLUMN IF NOT EXISTS last_seen_at text;
UPDATE sessions SET last_seen_at = created_at WHERE last_seen_at IS NULL;
ALTER TABLE sessions ALTER COLUMN last_seen_at SET NOT NULL;
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);

ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS expires_at text;
CREATE INDEX IF NOT EXISTS api_tokens_user ON api_tokens (user_id);
CREATE INDEX IF NOT EXISTS api_tokens_partner ON api_tokens (partner);
