-- vitalcore SQLite schema, version 13: what flows down from headquarters
-- (crates/sync/README.md): events, forecasts and early warnings. The change
-- log takes more kinds of record: its kind is checked where it is read (a
-- kind this build does not know is a damaged log), not by a CHECK listing
-- them, so that adding a kind needs no rebuild of the table. SQLite cannot
-- drop a CHECK: the table is rebuilt once here (seq values kept), and the
-- triggers that write it with it.
DROP TRIGGER IF EXISTS sync_log_report;
DROP TRIGGER IF EXISTS sync_log_step;
DROP TRIGGER IF EXISTS sync_log_area_new;
DROP TRIGGER IF EXISTS sync_log_area_changed;

CREATE TABLE sync_log_13 (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    kind     TEXT    NOT NULL,
    row_id   INTEGER, -- reports.id of a report or step, events.id of an event
    step_seq INTEGER,
    pcode    TEXT,    -- an area's P-code
    area     TEXT,
    origin   TEXT
);
INSERT INTO sync_log_13 (seq, kind, row_id, step_seq, pcode, area, origin)
    SELECT seq, kind, row_id, step_seq, pcode, area, origin FROM sync_log ORDER BY seq;
DROP TABLE sync_log;
-- Legacy rename: other triggers that write sync_log by name (a later
-- version's, when this one runs again) are left as they are, not checked
-- against the table dropped a line above.
PRAGMA legacy_alter_table = ON;
ALTER TABLE sync_log_13 RENAME TO sync_log;
PRAGMA legacy_alter_table = OFF;

CREATE TRIGGER IF NOT EXISTS sync_log_report AFTER INSERT ON reports
BEGIN
    INSERT INTO sync_log (kind, row_id, area, origin)
    VALUES ('report', NEW.id, NEW.area_pcode, (SELECT origin FROM sync_apply_origin LIMIT 1));
END;
CREATE TRIGGER IF NOT EXISTS sync_log_step AFTER INSERT ON alert_steps
BEGIN
    INSERT INTO sync_log (kind, row_id, step_seq, area, origin)
    VALUES ('step', NEW.report_id, NEW.seq, (SELECT area_pcode FROM reports WHERE id = NEW.report_id),
            (SELECT origin FROM sync_apply_origin LIMIT 1));
END;
CREATE TRIGGER IF NOT EXISTS sync_log_area_new AFTER INSERT ON areas
BEGIN
    INSERT INTO sync_log (kind, pcode, area, origin)
    VALUES ('area', NEW.pcode, NEW.pcode, (SELECT origin FROM sync_apply_origin LIMIT 1));
END;
CREATE TRIGGER IF NOT EXISTS sync_log_area_changed AFTER UPDATE ON areas
WHEN OLD.name IS NOT NEW.name OR OLD.level IS NOT NEW.level OR OLD.parent_pcode IS NOT NEW.parent_pcode
     OR OLD.country IS NOT NEW.country OR OLD.geometry IS NOT NEW.geometry
BEGIN
    INSERT INTO sync_log (kind, pcode, area, origin)
    VALUES ('area', NEW.pcode, NEW.pcode, (SELECT origin FROM sync_apply_origin LIMIT 1));
END;

-- Events: an import logs the events it added or revised, in its own
-- transaction (one set-based insert, not a trigger per row of a bulk load);
-- `area` is the event's admin-2 P-code, else its admin-1 P-code. The events
-- stored before this version are logged once here.
INSERT INTO sync_log (kind, row_id, area)
    SELECT 'event', id, coalesce(admin2_pcode, admin1_pcode) FROM events
    WHERE NOT EXISTS (SELECT 1 FROM sync_log WHERE kind = 'event') ORDER BY id;

-- An import that came from another node by synchronisation: that node's id
-- and its import id (NULL: imported here).
ALTER TABLE imports ADD COLUMN origin TEXT;
ALTER TABLE imports ADD COLUMN origin_import INTEGER;

-- Forecasts and early warnings: each forecast row and each warning stored
-- is logged (area: its unit, a P-code for admin units), the ones stored
-- before this version once here. A run or warning that came from another
-- node names it and its id there (NULL: made here).
ALTER TABLE forecast_runs ADD COLUMN sync_origin TEXT;
ALTER TABLE forecast_runs ADD COLUMN sync_run INTEGER;
CREATE INDEX IF NOT EXISTS forecast_runs_sync ON forecast_runs (sync_origin, sync_run);
INSERT INTO sync_log (kind, row_id, pcode, area)
    SELECT 'forecast', run_id, unit, unit FROM forecast_rows
    WHERE NOT EXISTS (SELECT 1 FROM sync_log WHERE kind = 'forecast') ORDER BY run_id, unit, month;
INSERT INTO sync_log (kind, row_id, area)
    SELECT 'warning', id, unit FROM early_warnings
    WHERE NOT EXISTS (SELECT 1 FROM sync_log WHERE kind = 'warning') ORDER BY id;
CREATE TRIGGER IF NOT EXISTS sync_log_forecast_row AFTER INSERT ON forecast_rows
BEGIN
    INSERT INTO sync_log (kind, row_id, pcode, area, origin)
    VALUES ('forecast', NEW.run_id, NEW.unit, NEW.unit, (SELECT origin FROM sync_apply_origin LIMIT 1));
END;
CREATE TRIGGER IF NOT EXISTS sync_log_warning AFTER INSERT ON early_warnings
BEGIN
    INSERT INTO sync_log (kind, row_id, area, origin)
    VALUES ('warning', NEW.id, NEW.unit, (SELECT origin FROM sync_apply_origin LIMIT 1));
END;

-- Accounts: each one added or changed is logged (`pcode` holds its id,
-- `area` a focal point's community; accounts with no community have no
-- area and never go down), the ones stored before this version once here.
INSERT INTO sync_log (kind, pcode, area)
    SELECT 'user', id, community FROM users
    WHERE NOT EXISTS (SELECT 1 FROM sync_log WHERE kind = 'user') ORDER BY id;
CREATE TRIGGER IF NOT EXISTS sync_log_user_new AFTER INSERT ON users
BEGIN
    INSERT INTO sync_log (kind, pcode, area, origin)
    VALUES ('user', NEW.id, NEW.community, (SELECT origin FROM sync_apply_origin LIMIT 1));
END;
CREATE TRIGGER IF NOT EXISTS sync_log_user_changed AFTER UPDATE ON users
WHEN OLD.username IS NOT NEW.username OR OLD.display_name IS NOT NEW.display_name OR OLD.role IS NOT NEW.role
     OR OLD.community IS NOT NEW.community OR OLD.password_hash IS NOT NEW.password_hash
     OR OLD.active IS NOT NEW.active
BEGIN
    INSERT INTO sync_log (kind, pcode, area, origin)
    VALUES ('user', NEW.id, NEW.community, (SELECT origin FROM sync_apply_origin LIMIT 1));
END;
