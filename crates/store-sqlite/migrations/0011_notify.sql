-- vitalcore SQLite schema, version 11: telling duty officers (issue 17).
--
-- The on-call rota, staff phones and e-mail addresses, and the
-- notification outbox: notifications (queued in the transaction of what
-- causes them, unique by dedup key), their deliveries (one per channel and
-- recipient, unique) and each delivery's append-only history.
--
-- Staff contacts are stored as given, not sealed: they are the work
-- numbers and addresses of the mission's own staff, which the worker reads
-- to send every notification (with no operator at hand to unseal them),
-- and an administrator sets them. Reporters' contacts stay sealed.
--
-- Times compared by the worker (`next_attempt_ms`, `lease_ms`) are Unix
-- milliseconds; the others are RFC 3339 text in UTC. Every statement is IF
-- NOT EXISTS, so a database whose version was set back migrates again.

CREATE TABLE IF NOT EXISTS staff_contacts (
    user_id    TEXT PRIMARY KEY REFERENCES users (id),
    phone      TEXT, -- international form (+23672000001); one person per phone (ACK by SMS)
    email      TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS staff_contacts_phone ON staff_contacts (phone) WHERE phone IS NOT NULL;

CREATE TABLE IF NOT EXISTS oncall_rota (
    id         INTEGER PRIMARY KEY,
    area_pcode TEXT    NOT NULL, -- '*' for every area
    role       TEXT    NOT NULL CHECK (role IN ('responder', 'analyst', 'supervisor')),
    user_id    TEXT    NOT NULL REFERENCES users (id),
    from_at    TEXT    NOT NULL,
    to_at      TEXT, -- open-ended when NULL
    fallback   INTEGER NOT NULL DEFAULT 0 CHECK (fallback IN (0, 1)),
    set_by     TEXT    NOT NULL,
    set_at     TEXT    NOT NULL
);

CREATE TABLE IF NOT EXISTS notifications (
    id           INTEGER PRIMARY KEY,
    dedup_key    TEXT    NOT NULL UNIQUE,
    kind         TEXT    NOT NULL CHECK (kind IN ('alert.new', 'alert.escalated', 'warning.raised', 'test')),
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
CREATE INDEX IF NOT EXISTS notifications_pending ON notifications (id) WHERE expanded = 0;

CREATE TABLE IF NOT EXISTS notify_deliveries (
    id              INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL REFERENCES notifications (id),
    channel         TEXT    NOT NULL CHECK (channel IN ('webhook', 'sms', 'email')),
    target          TEXT    NOT NULL, -- the webhook's name, or the staff member's user id
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    lease_ms        INTEGER, -- a claim (status sending) runs out then
    UNIQUE (notification_id, channel, target)
);
CREATE INDEX IF NOT EXISTS notify_deliveries_due ON notify_deliveries (status, next_attempt_ms);

CREATE TABLE IF NOT EXISTS notify_history (
    delivery_id INTEGER NOT NULL REFERENCES notify_deliveries (id),
    seq         INTEGER NOT NULL,
    what        TEXT    NOT NULL CHECK (what IN ('queued', 'attempt', 'sent', 'retry', 'failed')),
    at          TEXT    NOT NULL,
    detail      TEXT,
    PRIMARY KEY (delivery_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS notify_history_no_update BEFORE UPDATE ON notify_history
BEGIN SELECT RAISE(ABORT, 'the notification history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS notify_history_no_delete BEFORE DELETE ON notify_history
BEGIN SELECT RAISE(ABORT, 'the notification history is append-only'); END;
