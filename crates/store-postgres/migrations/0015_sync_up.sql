-- vitalcore PostgreSQL schema, version 15: what else flows up from a field
-- office (crates/sync/README.md): feedback messages and their delivery
-- status, analysts' tag corrections and early-warning status changes, each
-- written to `sync_log` by a trigger in the transaction that writes it.

-- The change log's kinds are checked by the code that reads it, not by a
-- CHECK here, so that each new flow only adds triggers.
ALTER TABLE sync_log DROP CONSTRAINT IF EXISTS sync_log_kind_check;

-- When the entry was written here, by this machine's clock: for a record
-- from another node, its arrival (the record keeps its own times, stamped by
-- the clock of the node that made it). Unknown before this migration.
ALTER TABLE sync_log ADD COLUMN IF NOT EXISTS logged_at text;
ALTER TABLE sync_log ALTER COLUMN logged_at
    SET DEFAULT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');

-- Each outbox status change (seq 0, `queued`, is written with its message).
CREATE OR REPLACE FUNCTION vitalcore_sync_log_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_log (kind, row_id, step_seq, area, origin)
    VALUES ('outbox', NEW.message_id, NEW.seq,
            (SELECT r.area_pcode FROM outbox_messages m JOIN reports r ON r.id = m.report_id WHERE m.id = NEW.message_id),
            vitalcore_sync_origin());
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION vitalcore_sync_log_correction() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_log (kind, row_id, area, origin)
    VALUES ('correction', NEW.id, (SELECT area_pcode FROM reports WHERE id = NEW.report_id), vitalcore_sync_origin());
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION vitalcore_sync_log_warning_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_log (kind, row_id, area, origin)
    VALUES ('warning_change', NEW.id, (SELECT unit FROM early_warnings WHERE id = NEW.warning_id),
            vitalcore_sync_origin());
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS sync_log_outbox ON outbox_status;
CREATE TRIGGER sync_log_outbox AFTER INSERT ON outbox_status
    FOR EACH ROW EXECUTE FUNCTION vitalcore_sync_log_outbox();
DROP TRIGGER IF EXISTS sync_log_correction ON report_tag_corrections;
CREATE TRIGGER sync_log_correction AFTER INSERT ON report_tag_corrections
    FOR EACH ROW EXECUTE FUNCTION vitalcore_sync_log_correction();
DROP TRIGGER IF EXISTS sync_log_warning_change ON early_warning_changes;
CREATE TRIGGER sync_log_warning_change AFTER INSERT ON early_warning_changes
    FOR EACH ROW EXECUTE FUNCTION vitalcore_sync_log_warning_change();

-- The node a feedback message came from (NULL: queued here). That node
-- sends it (it holds the key to the reporter's contact); here it is only
-- followed, never exported or sent a second time.
ALTER TABLE outbox_messages ADD COLUMN IF NOT EXISTS origin text;
