-- vitalcore PostgreSQL schema, version 14 (issue 17, its last pieces).
--
-- 1. Each alert step records the channel it came through: the web pages,
--    the command line, the partner API, or an SMS from the staff member's
--    registered phone. Steps recorded before this version say 'unknown'.
-- 2. A notification may be a `sync.conflict` (two offices acted on one
--    alert while apart).

ALTER TABLE alert_steps ADD COLUMN IF NOT EXISTS channel TEXT NOT NULL DEFAULT 'unknown'
    CHECK (channel IN ('web', 'cli', 'api', 'sms', 'unknown'));

ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('alert.new', 'alert.escalated', 'warning.raised', 'sync.conflict', 'test'));
