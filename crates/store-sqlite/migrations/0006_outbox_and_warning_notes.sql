-- vitalcore SQLite schema, version 6: the SMS outbox (feedback to reporters,
-- vitalcore-intake's `outbox`) and the history of early-warning status
-- changes with their notes (vitalcore-store's `ForecastStore`).
--
-- Every statement is IF NOT EXISTS, so a database whose version was set
-- back by hand migrates again without error. Times are RFC 3339 text (UTC).

-- One message per alert step that gave feedback by SMS to a reporter with a
-- contact: the text as it goes out (never the contact: it stays sealed on
-- the report and is read, with an audit record, only to send).
CREATE TABLE IF NOT EXISTS outbox_messages (
    id        INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports (id),
    step_seq  INTEGER NOT NULL, -- the alert step whose feedback it carries
    language  TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    UNIQUE (report_id, step_seq)
);
CREATE TRIGGER IF NOT EXISTS outbox_messages_no_update BEFORE UPDATE ON outbox_messages
BEGIN SELECT RAISE(ABORT, 'outbox messages are never changed'); END;
CREATE TRIGGER IF NOT EXISTS outbox_messages_no_delete BEFORE DELETE ON outbox_messages
BEGIN SELECT RAISE(ABORT, 'outbox messages are never deleted'); END;

-- Each message's status history, append-only: (message, seq) is the
-- change's position; seq 0 is `queued`, written with the message.
CREATE TABLE IF NOT EXISTS outbox_status (
    message_id INTEGER NOT NULL REFERENCES outbox_messages (id),
    seq        INTEGER NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('queued', 'exported', 'sent', 'failed', 'cancelled')),
    user_id    TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    detail     TEXT, -- reason (failed, cancelled), gateway id (sent), export file (exported)
    PRIMARY KEY (message_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS outbox_status_no_update BEFORE UPDATE ON outbox_status
BEGIN SELECT RAISE(ABORT, 'the outbox status history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS outbox_status_no_delete BEFORE DELETE ON outbox_status
BEGIN SELECT RAISE(ABORT, 'the outbox status history is append-only'); END;

-- Every status change of an early warning, with who, when and an optional
-- note; `early_warnings.status*` keep the latest change for the queue.
CREATE TABLE IF NOT EXISTS early_warning_changes (
    id         INTEGER PRIMARY KEY,
    warning_id INTEGER NOT NULL REFERENCES early_warnings (id),
    status     TEXT    NOT NULL CHECK (status IN ('new', 'acknowledged', 'closed')),
    by_user    TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    note       TEXT
);
CREATE INDEX IF NOT EXISTS early_warning_changes_warning ON early_warning_changes (warning_id, id);
CREATE TRIGGER IF NOT EXISTS early_warning_changes_no_update BEFORE UPDATE ON early_warning_changes
BEGIN SELECT RAISE(ABORT, 'early-warning changes are append-only'); END;
CREATE TRIGGER IF NOT EXISTS early_warning_changes_no_delete BEFORE DELETE ON early_warning_changes
BEGIN SELECT RAISE(ABORT, 'early-warning changes are append-only'); END;
