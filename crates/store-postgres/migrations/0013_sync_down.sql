-- vitalcore PostgreSQL schema, version 13: what flows down from
-- headquarters (crates/sync/README.md). The change log takes more kinds of
-- record: its kind is checked where it is read (a kind this build does not
-- know is a damaged log), not by a CHECK listing them.
ALTER TABLE sync_log DROP CONSTRAINT IF EXISTS sync_log_kind_check;

-- Events: an import logs the events it added or revised, in its own
-- transaction (one set-based insert, not a trigger per row of a bulk load);
-- `area` is the event's admin-2 P-code, else its admin-1 P-code. The events
-- stored before this version are logged once here.
INSERT INTO sync_log (kind, row_id, area)
    SELECT 'event', id, coalesce(admin2_pcode, admin1_pcode) FROM events
    WHERE NOT EXISTS (SELECT 1 FROM sync_log WHERE kind = 'event') ORDER BY id;

-- An import that came from another node by synchronisation: that node's id
-- and its import id (NULL: imported here).
ALTER TABLE imports ADD COLUMN IF NOT EXISTS origin text;
ALTER TABLE imports ADD COLUMN IF NOT EXISTS origin_import bigint;
