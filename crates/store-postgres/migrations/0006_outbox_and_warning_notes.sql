-- vitalcore PostgreSQL schema, version 6: the SMS outbox (feedback to
-- reporters, vitalcore-intake's `outbox`) and the history of early-warning
-- status changes with their notes (vitalcore-store's `ForecastStore`).
--
-- Every statement can run twice (IF NOT EXISTS, triggers dropped then
-- created), so a schema whose ledger was set back by hand migrates again
-- without error. Times are RFC 3339 text (UTC).

-- One message per alert step that gave feedback by SMS to a reporter with a
-- contact: the text as it goes out (never the contact: it stays sealed on
-- the report and is read, with an audit record, only to send).
CREATE TABLE IF NOT EXISTS outbox_messages (
    id        bigserial PRIMARY KEY,
    report_id bigint NOT NULL REFERENCES reports (id),
    step_seq  bigint NOT NULL, -- the alert step whose feedback it carries
    language  text   NOT NULL,
    body      text   NOT NULL,
    UNIQUE (report_id, step_seq)
);
DROP TRIGGER IF EXISTS outbox_messages_append_only ON outbox_messages;
CREATE TRIGGER outbox_messages_append_only BEFORE UPDATE OR DELETE ON outbox_messages
    FOR EACH ROW EXECUTE FUNCTION vitalcore_refuse_change();

-- Each message's status history, append-only: (message, seq) is the
-- change's position; seq 0 is `queued`, written with the message.
CREATE TABLE IF NOT EXISTS outbox_status (
    message_id bigint NOT NULL REFERENCES outbox_messages (id),
    seq        bigint NOT NULL,
    status     text   NOT NULL CHECK (status IN ('queued', 'exported', 'sent', 'failed', 'cancelled')),
    user_id    text   NOT NULL,
    at         text   NOT NULL,
    detail     text, -- reason (failed, cancelled), gateway id (sent), export file (exported)
    PRIMARY KEY (message_id, seq)
);
DROP TRIGGER IF EXISTS outbox_status_append_only ON outbox_status;
CREATE TRIGGER outbox_status_append_only BEFORE UPDATE OR DELETE ON outbox_status
    FOR EACH ROW EXECUTE FUNCTION vitalcore_refuse_change();

-- Every status change of an early warning, with who, when and an optional
-- note; `early_warnings.status*` keep the latest change for the queue.
CREATE TABLE IF NOT EXISTS early_warning_changes (
    id         bigserial PRIMARY KEY,
    warning_id bigint NOT NULL REFERENCES early_warnings (id),
    status     text   NOT NULL CHECK (status IN ('new', 'acknowledged', 'closed')),
    by_user    text   NOT NULL,
    at         text   NOT NULL,
    note       text
);
CREATE INDEX IF NOT EXISTS early_warning_changes_warning ON early_warning_changes (warning_id, id);
DROP TRIGGER IF EXISTS early_warning_changes_append_only ON early_warning_changes;
CREATE TRIGGER early_warning_changes_append_only BEFORE UPDATE OR DELETE ON early_warning_changes
    FOR EACH ROW EXECUTE FUNCTION vitalcore_refuse_change();
