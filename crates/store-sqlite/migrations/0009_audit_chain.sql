-- vitalcore SQLite schema, version 7: the audit chain (vitalcore-security's
-- `audit`). One row per security-relevant fact: contact reads, alert steps,
-- logins and failed ones, accounts and API tokens created or changed,
-- exports. Each row's `hash` is SHA-256 over its fields and the `hash` of
-- the row before it (`prev_hash`; 64 zeros for seq 1), in the encoding
-- `vitalcore-audit-v1` documented in crates/security/src/audit.rs, so that
-- a row changed, removed or reordered behind the store's back breaks the
-- chain from there, even once the triggers below are dropped.
--
-- Rows are appended inside the write transaction of the fact they record
-- (the write lock orders them), never changed or deleted. When the chain
-- starts on a database that already holds contact reads and alert steps,
-- the store enters them after a `chain_started` row, in the same
-- transaction as this migration.
--
-- `INSERT OR REPLACE` deletes the row it replaces without firing delete
-- triggers, so the append-only tables also refuse an insert over a row
-- they hold (the contact reads and alert steps too, which migrations 2
-- guarded against UPDATE and DELETE only).
--
-- Every statement can run twice (IF NOT EXISTS). Times are RFC 3339 UTC text.

CREATE TABLE IF NOT EXISTS audit_log (
    seq       INTEGER PRIMARY KEY, -- 1, 2, 3, ... without gaps
    at        TEXT    NOT NULL,
    actor     TEXT    NOT NULL,    -- a user id, or system:<what>
    action    TEXT    NOT NULL,    -- contact_read, alert_step, login, ...
    subject   TEXT    NOT NULL,    -- report reference, username, file ('' if none)
    detail    TEXT    NOT NULL,    -- short; never a contact, password, token or report text
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL UNIQUE
);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;
CREATE TRIGGER IF NOT EXISTS contact_reads_no_replace BEFORE INSERT ON contact_reads
WHEN EXISTS (SELECT 1 FROM contact_reads WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'the contact audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS alert_steps_no_replace BEFORE INSERT ON alert_steps
WHEN EXISTS (SELECT 1 FROM alert_steps WHERE report_id = NEW.report_id AND seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'alert steps are append-only'); END;
