-- vitalcore SQLite schema, version 7: accounts an administrator controls.
--
-- Sessions record when they were last used (the idle timeout ends a
-- session left unused; `last_seen_at` starts at `created_at`), API tokens
-- may expire. Times are RFC 3339 text in UTC, as in the other columns of
-- these tables. A token's or a session's public id is the first 5 bytes of
-- its hash (`vitalcore users tokens`, `users revoke --id`), so it needs no
-- column. Disabling an account sets `users.active` to 0 (and ends its
-- sessions and tokens in the same transaction).
--
-- Runs again on a database whose version was set back by hand: the column
-- additions are left out when the column exists (`migrate.rs`), every other
-- statement is IF NOT EXISTS or changes nothing the second time.

ALTER TABLE sessions ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT '';
UPDATE sessions SET last_seen_at = created_at WHERE last_seen_at = '';
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);

ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
CREATE INDEX IF NOT EXISTS api_tokens_user ON api_tokens (user_id);
CREATE INDEX IF NOT EXISTS api_tokens_partner ON api_tokens (partner);
