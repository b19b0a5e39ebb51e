-- vitalcore SQLite schema, version 12: synchronisation between field offices
-- and headquarters (crates/sync/README.md). Times are RFC 3339 text in UTC.

-- This database as a node: one row, once it syncs.
CREATE TABLE IF NOT EXISTS sync_node (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    node_id         TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('hq', 'office')),
    space           INTEGER NOT NULL CHECK (space BETWEEN 0 AND 31),
    hq_node         TEXT,
    credential_hash BLOB, -- at an office: SHA-256 of its credential
    created_at      TEXT    NOT NULL,
    last_sync       TEXT,
    pending_down    INTEGER NOT NULL DEFAULT 0
);

-- The offices HQ registered; credentials only as their SHA-256.
CREATE TABLE IF NOT EXISTS sync_offices (
    name            TEXT PRIMARY KEY,
    node_id         TEXT    NOT NULL UNIQUE,
    areas           TEXT    NOT NULL, -- P-codes, `CF32;CF43`
    space           INTEGER NOT NULL UNIQUE CHECK (space BETWEEN 1 AND 31),
    credential_hash BLOB    NOT NULL,
    created_at      TEXT    NOT NULL,
    revoked_at      TEXT,
    last_sync       TEXT,
    pending_up      INTEGER NOT NULL DEFAULT 0
);

-- How far each feed got, per peer (node id) and direction.
CREATE TABLE IF NOT EXISTS sync_cursors (
    peer       TEXT    NOT NULL,
    direction  TEXT    NOT NULL CHECK (direction IN ('up', 'down')),
    cursor     INTEGER NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (peer, direction)
) WITHOUT ROWID;

-- Batches applied here (a batch delivered again changes nothing).
CREATE TABLE IF NOT EXISTS sync_applied (
    batch_id   TEXT PRIMARY KEY,
    peer       TEXT    NOT NULL,
    records    INTEGER NOT NULL,
    applied_at TEXT    NOT NULL
) WITHOUT ROWID;

-- Records that arrived but could not be applied as they came, kept whole.
CREATE TABLE IF NOT EXISTS sync_conflicts (
    id     INTEGER PRIMARY KEY,
    peer   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    key    TEXT NOT NULL,
    reason TEXT NOT NULL,
    record TEXT NOT NULL,
    at     TEXT NOT NULL
);

-- The change log the feeds read, written by the triggers below in the
-- transaction of the change. `origin` is the node id the record came from
-- (NULL: made here); `area` the P-code it lies in.
CREATE TABLE IF NOT EXISTS sync_log (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    kind     TEXT    NOT NULL CHECK (kind IN ('area', 'report', 'step')),
    row_id   INTEGER, -- reports.id of a report or step
    step_seq INTEGER,
    pcode    TEXT,    -- an area's P-code
    area     TEXT,
    origin   TEXT
);

-- While a batch is applied, the origin of the records being written (one
-- row at most, inside the applying transaction only).
CREATE TABLE IF NOT EXISTS sync_apply_origin (origin TEXT NOT NULL);

INSERT INTO sync_log (kind, row_id, area)
    SELECT 'report', id, area_pcode FROM reports WHERE NOT EXISTS (SELECT 1 FROM sync_log) ORDER BY id;
INSERT INTO sync_log (kind, row_id, step_seq, area)
    SELECT 'step', s.report_id, s.seq, r.area_pcode FROM alert_steps s JOIN reports r ON r.id = s.report_id
    WHERE NOT EXISTS (SELECT 1 FROM sync_log WHERE kind = 'step') ORDER BY s.report_id, s.seq;
INSERT INTO sync_log (kind, pcode, area)
    SELECT 'area', pcode, pcode FROM areas WHERE NOT EXISTS (SELECT 1 FROM sync_log WHERE kind = 'area') ORDER BY level, pcode;

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
