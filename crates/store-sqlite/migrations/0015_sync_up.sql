-- vitalcore SQLite schema, version 15: what else flows up from a field
-- office (crates/sync/README.md): feedback messages and their delivery
-- status, analysts' tag corrections and early-warning status changes, each
-- written to `sync_log` by a trigger in the transaction that writes it.

-- The change log's kinds are checked by the code that reads it, not by a
-- CHECK here, so that each new flow adds triggers without rebuilding the
-- table again. SQLite cannot drop a CHECK: the table is copied out and back
-- (seq values kept, so every cursor handed out stays valid; a column added
-- by another migration makes the copy back fail loudly, not vanish), with
-- the time each entry was logged (unknown before this migration; the column
-- is added first so that the copy has it when this runs again).
ALTER TABLE sync_log ADD COLUMN logged_at TEXT;
CREATE TEMP TABLE sync_log_copy AS SELECT * FROM sync_log;
DROP TABLE sync_log;
CREATE TABLE sync_log (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    kind     TEXT    NOT NULL,
    row_id   INTEGER, -- reports.id of a report or step; outbox_messages.id; report_tag_corrections.id; early_warning_changes.id
    step_seq INTEGER, -- a step's seq; an outbox status change's seq
    pcode    TEXT,    -- an area's P-code
    area     TEXT,
    origin   TEXT,
    -- When the entry was written here, by this machine's clock: for a
    -- record from another node, its arrival (the record keeps its own times,
    -- stamped by the clock of the node that made it).
    logged_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO sync_log SELECT * FROM sync_log_copy ORDER BY seq;
DROP TABLE sync_log_copy;

-- Each outbox status change (seq 0, `queued`, is written with its message).
CREATE TRIGGER IF NOT EXISTS sync_log_outbox AFTER INSERT ON outbox_status
BEGIN
    INSERT INTO sync_log (kind, row_id, step_seq, area, origin)
    VALUES ('outbox', NEW.message_id, NEW.seq,
            (SELECT r.area_pcode FROM outbox_messages m JOIN reports r ON r.id = m.report_id WHERE m.id = NEW.message_id),
            (SELECT origin FROM sync_apply_origin LIMIT 1));
END;
CREATE TRIGGER IF NOT EXISTS sync_log_correction AFTER INSERT ON report_tag_corrections
BEGIN
    INSERT INTO sync_log (kind, row_id, area, origin)
    VALUES ('correction', NEW.id, (SELECT area_pcode FROM reports WHERE id = NEW.report_id),
            (SELECT origin FROM sync_apply_origin LIMIT 1));
END;
CREATE TRIGGER IF NOT EXISTS sync_log_warning_change AFTER INSERT ON early_warning_changes
BEGIN
    INSERT INTO sync_log (kind, row_id, area, origin)
    VALUES ('warning_change', NEW.id, (SELECT unit FROM early_warnings WHERE id = NEW.warning_id),
            (SELECT origin FROM sync_apply_origin LIMIT 1));
END;

-- The node a feedback message came from (NULL: queued here). That node
-- sends it (it holds the key to the reporter's contact); here it is only
-- followed, never exported or sent a second time.
ALTER TABLE outbox_messages ADD COLUMN origin TEXT;
