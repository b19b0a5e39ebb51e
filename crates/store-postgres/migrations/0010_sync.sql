-- vitalcore PostgreSQL schema, version 12: synchronisation between field
-- offices and headquarters (crates/sync/README.md). Same tables as the
-- SQLite store; times are RFC 3339 text in UTC.

CREATE TABLE IF NOT EXISTS sync_node (
    id              smallint PRIMARY KEY CHECK (id = 1),
    node_id         text     NOT NULL,
    name            text     NOT NULL,
    role            text     NOT NULL CHECK (role IN ('hq', 'office')),
    space           smallint NOT NULL CHECK (space BETWEEN 0 AND 31),
    hq_node         text,
    credential_hash bytea,
    created_at      text     NOT NULL,
    last_sync       text,
    pending_down    bigint   NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS sync_offices (
    name            text PRIMARY KEY,
    node_id         text     NOT NULL UNIQUE,
    areas           text     NOT NULL,
    space           smallint NOT NULL UNIQUE CHECK (space BETWEEN 1 AND 31),
    credential_hash bytea    NOT NULL,
    created_at      text     NOT NULL,
    revoked_at      text,
    last_sync       text,
    pending_up      bigint   NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS sync_cursors (
    peer       text   NOT NULL,
    direction  text   NOT NULL CHECK (direction IN ('up', 'down')),
    cursor     bigint NOT NULL,
    updated_at text   NOT NULL,
    PRIMARY KEY (peer, direction)
);

CREATE TABLE IF NOT EXISTS sync_applied (
    batch_id   text PRIMARY KEY,
    peer       text   NOT NULL,
    records    bigint NOT NULL,
    applied_at text   NOT NULL
);

CREATE TABLE IF NOT EXISTS sync_conflicts (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    peer   text NOT NULL,
    kind   text NOT NULL,
    key    text NOT NULL,
    reason text NOT NULL,
    record text NOT NULL,
    at     text NOT NULL
);

-- The change log, written by the triggers below in the transaction of the
-- change; the origin of applied records is the transaction-local setting
-- `vitalcore.sync_origin` (empty or unset: made here). Readers lock the
-- table in SHARE mode so that no writer still running can commit a seq
-- below the cursor they hand out.
CREATE TABLE IF NOT EXISTS sync_log (
    seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind     text NOT NULL CHECK (kind IN ('area', 'report', 'step')),
    row_id   bigint,
    step_seq bigint,
    pcode    text,
    area     text,
    origin   text
);

INSERT INTO sync_log (kind, row_id, area)
    SELECT 'report', id, area_pcode FROM reports WHERE NOT EXISTS (SELECT 1 FROM sync_log) ORDER BY id;
INSERT INTO sync_log (kind, row_id, step_seq, area)
    SELECT 'step', s.report_id, s.seq, r.area_pcode FROM alert_steps s JOIN reports r ON r.id = s.report_id
    WHERE NOT EXISTS (SELECT 1 FROM sync_log WHERE kind = 'step') ORDER BY s.report_id, s.seq;
INSERT INTO sync_log (kind, pcode, area)
    SELECT 'area', pcode, pcode FROM areas WHERE NOT EXISTS (SELECT 1 FROM sync_log WHERE kind = 'area')
    ORDER BY level, pcode;

CREATE OR REPLACE FUNCTION vitalcore_sync_origin() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('vitalcore.sync_origin', true), '')
$$;

CREATE OR REPLACE FUNCTION vitalcore_sync_log_report() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_log (kind, row_id, area, origin) VALUES ('report', NEW.id, NEW.area_pcode, vitalcore_sync_origin());
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION vitalcore_sync_log_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_log (kind, row_id, step_seq, area, origin)
    VALUES ('step', NEW.report_id, NEW.seq, (SELECT area_pcode FROM reports WHERE id = NEW.report_id),
            vitalcore_sync_origin());
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION vitalcore_sync_log_area() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_log (kind, pcode, area, origin) VALUES ('area', NEW.pcode, NEW.pcode, vitalcore_sync_origin());
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS sync_log_report ON reports;
CREATE TRIGGER sync_log_report AFTER INSERT ON reports
    FOR EACH ROW EXECUTE FUNCTION vitalcore_sync_log_report();
DROP TRIGGER IF EXISTS sync_log_step ON alert_steps;
CREATE TRIGGER sync_log_step AFTER INSERT ON alert_steps
    FOR EACH ROW EXECUTE FUNCTION vitalcore_sync_log_step();
DROP TRIGGER IF EXISTS sync_log_area_new ON areas;
CREATE TRIGGER sync_log_area_new AFTER INSERT ON areas
    FOR EACH ROW EXECUTE FUNCTION vitalcore_sync_log_area();
DROP TRIGGER IF EXISTS sync_log_area_changed ON areas;
CREATE TRIGGER sync_log_area_changed AFTER UPDATE ON areas
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION vitalcore_sync_log_area();
