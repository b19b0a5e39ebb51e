-- vitalcore SQLite schema, version 14 (issue 17, its last pieces).
--
-- 1. Each alert step records the channel it came through: the web pages,
--    the command line, the partner API, or an SMS from the staff member's
--    registered phone. Steps recorded before this version say 'unknown'.
-- 2. A notification may be a `sync.conflict` (two offices acted on one
--    alert while apart). SQLite cannot change a CHECK constraint, so the
--    notifications table is rebuilt (SQLite's documented procedure: the
--    runner turns foreign keys off around this migration and checks them
--    before it commits). Rebuilding again is harmless, so a database whose
--    version was set back migrates again.

ALTER TABLE alert_steps ADD COLUMN channel TEXT NOT NULL DEFAULT 'unknown' CHECK (channel IN ('web', 'cli', 'api', 'sms', 'unknown'));

DROP TABLE IF EXISTS notifications_v14;
CREATE TABLE notifications_v14 (
    id           INTEGER PRIMARY KEY,
    dedup_key    TEXT    NOT NULL UNIQUE,
    kind         TEXT    NOT NULL CHECK (kind IN ('alert.new', 'alert.escalated', 'warning.raised', 'sync.conflict', 'test')),
    reference    TEXT    NOT NULL, -- never a report's text or a contact
    area_pcode   TEXT,
    urgency      TEXT,
    category     TEXT,
    level        INTEGER NOT NULL DEFAULT 0,
    at           TEXT    NOT NULL,
    queued_at    TEXT    NOT NULL,
    only_channel TEXT,
    expanded     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO notifications_v14 (id, dedup_key, kind, reference, area_pcode, urgency, category, level, at, queued_at, only_channel, expanded)
    SELECT id, dedup_key, kind, reference, area_pcode, urgency, category, level, at, queued_at, only_channel, expanded FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_v14 RENAME TO notifications;
CREATE INDEX IF NOT EXISTS notifications_pending ON notifications (id) WHERE expanded = 0;
