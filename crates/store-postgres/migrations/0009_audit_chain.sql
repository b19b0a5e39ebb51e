-- vitalcore PostgreSQL schema, version 7: the audit chain (vitalcore-security's
-- `audit`), the same table as the SQLite store's. One row per
-- security-relevant fact: contact reads, alert steps, logins and failed
-- ones, accounts and API tokens created or changed, exports. Each row's
-- `hash` is SHA-256 over its fields and the `hash` of the row before it
-- (`prev_hash`; 64 zeros for seq 1), in the encoding `vitalcore-audit-v1`
-- documented in crates/security/src/audit.rs, so that a row changed,
-- removed or reordered behind the store's back breaks the chain from
-- there, even once the triggers below are dropped.
--
-- Rows are appended inside the transaction of the fact they record, under
-- a transaction-scoped advisory lock per schema (taken after any row
-- lock, released at commit), so that two writers cannot fork the chain;
-- the primary key would refuse a fork anyway. When the chain starts on a
-- schema that already holds contact reads and alert steps, the store
-- enters them after a `chain_started` row, in this migration's transaction.
--
-- TRUNCATE skips row triggers, so the append-only tables also refuse it.
-- Every statement can run twice. Times are RFC 3339 UTC text.

CREATE TABLE IF NOT EXISTS audit_log (
    seq       bigint PRIMARY KEY, -- 1, 2, 3, ... without gaps
    at        text   NOT NULL,
    actor     text   NOT NULL,    -- a user id, or system:<what>
    action    text   NOT NULL,    -- contact_read, alert_step, login, ...
    subject   text   NOT NULL,    -- report reference, username, file ('' if none)
    detail    text   NOT NULL,    -- short; never a contact, password, token or report text
    prev_hash text   NOT NULL,
    hash      text   NOT NULL UNIQUE
);
DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION vitalcore_refuse_change();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION vitalcore_refuse_change();
DROP TRIGGER IF EXISTS contact_reads_no_truncate ON contact_reads;
CREATE TRIGGER contact_reads_no_truncate BEFORE TRUNCATE ON contact_reads
    FOR EACH STATEMENT EXECUTE FUNCTION vitalcore_refuse_change();
DROP TRIGGER IF EXISTS alert_steps_no_truncate ON alert_steps;
CREATE TRIGGER alert_steps_no_truncate BEFORE TRUNCATE ON alert_steps
    FOR EACH STATEMENT EXECUTE FUNCTION vitalcore_refuse_change();
