-- vitalcore PostgreSQL schema, version 13: what flows down from
-- headquarters (crates/sync/README.md): events, forecasts and early
-- warnings. The change log takes more kinds of
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

-- Forecasts and early warnings: each forecast row and each warning stored
-- is logged (area: its unit, a P-code for admin units), the ones stored
-- before this version once here. A run or warning that came from another
-- node names it and its id there (NULL: made here).
ALTER TABLE forecast_runs ADD COLUMN IF NOT EXISTS sync_origin text;
ALTER TABLE forecast_runs ADD COLUMN IF NOT EXISTS sync_run bigint;
CREATE INDEX IF NOT EXISTS forecast_runs_sync ON forecast_runs (sync_origin, sync_run);
INSERT INTO sync_log (kind, row_id, pcode, area)
    SELECT 'forecast', run_id, unit, unit FROM forecast_rows
    WHERE NOT EXISTS (SELECT 1 FROM sync_log WHERE kind = 'forecast') ORDER BY run_id, unit, month;
INSERT INTO sync_log (kind, row_id, area)
    SELECT 'warning', id, unit FROM early_warnings
    WHERE NOT EXISTS (SELECT 1 FROM sync_log WHERE kind = 'warning') ORDER BY id;
CREATE OR REPLACE FUNCTION vitalcore_sync_log_forecast_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_log (kind, row_id, pcode, area, origin)
    VALUES ('forecast', NEW.run_id, NEW.unit, NEW.unit, vitalcore_sync_origin());
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION vitalcore_sync_log_warning() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_log (kind, row_id, area, origin) VALUES ('warning', NEW.id, NEW.unit, vitalcore_sync_origin());
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS sync_log_forecast_row ON forecast_rows;
CREATE TRIGGER sync_log_forecast_row AFTER INSERT ON forecast_rows
    FOR EACH ROW EXECUTE FUNCTION vitalcore_sync_log_forecast_row();
DROP TRIGGER IF EXISTS sync_log_warning ON early_warnings;
CREATE TRIGGER sync_log_warning AFTER INSERT ON early_warnings
    FOR EACH ROW EXECUTE FUNCTION vitalcore_sync_log_warning();

-- Accounts: each one added or changed is logged (`pcode` holds its id,
-- `area` a focal point's community; accounts with no community have no
-- area and never go down), the ones stored before this version once here.
INSERT INTO sync_log (kind, pcode, area)
    SELECT 'user', id, community FROM users
    WHERE NOT EXISTS (SELECT 1 FROM sync_log WHERE kind = 'user') ORDER BY id;
CREATE OR REPLACE FUNCTION vitalcore_sync_log_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_log (kind, pcode, area, origin) VALUES ('user', NEW.id, NEW.community, vitalcore_sync_origin());
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS sync_log_user_new ON users;
CREATE TRIGGER sync_log_user_new AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION vitalcore_sync_log_user();
DROP TRIGGER IF EXISTS sync_log_user_changed ON users;
CREATE TRIGGER sync_log_user_changed AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION vitalcore_sync_log_user();
