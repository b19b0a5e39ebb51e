//! Versioned migrations, embedded in the binary and applied at open. The
//! schema version is SQLite's `PRAGMA user_version`; each migration runs in
//! the same transaction that bumps it, so a migration lands whole or not.

use rusqlite::{Connection, TransactionBehavior};
use vitalcore_store::StoreError;

use crate::backend;

/// (version, SQL), in order. Append only: never edit a released migration.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_reports.sql")),
    (3, include_str!("../migrations/0003_corrections.sql")),
    (4, include_str!("../migrations/0004_forecasts.sql")),
    (5, include_str!("../migrations/0005_drop_unused_event_indexes.sql")),
    (6, include_str!("../migrations/0006_outbox_and_warning_notes.sql")),
    (7, include_str!("../migrations/0007_sms_message_ids.sql")),
    (8, include_str!("../migrations/0008_accounts.sql")),
    (9, include_str!("../migrations/0009_audit_chain.sql")),
    (10, include_str!("../migrations/0010_sync.sql")),
    (11, include_str!("../migrations/0011_notify.sql")),
    (12, include_str!("../migrations/0012_mandates.sql")),
    (13, include_str!("../migrations/0013_sync_down.sql")),
    (14, include_str!("../migrations/0014_step_channel_and_sync_conflict_notices.sql")),
    (15, include_str!("../migrations/0015_sync_up.sql")),
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

pub fn schema_version(conn: &Connection) -> Result<i64, StoreError> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(backend)
}

/// Brings the schema up to [`SCHEMA_VERSION`]; refuses a database written by
/// a newer build. Safe to call on every open and from concurrent processes
/// (the version is re-read under the write lock).
pub fn migrate(conn: &mut Connection, location: &str) -> Result<(), StoreError> {
    let too_new = |found| StoreError::TooNew { location: location.to_string(), found, known: SCHEMA_VERSION };
    let found = schema_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(too_new(found));
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    // A migration that rebuilds a table (14) needs foreign keys off, which
    // SQLite allows only outside a transaction; they are checked before the
    // commit instead, and turned on again whatever happened.
    conn.pragma_update(None, "foreign_keys", false).map_err(backend)?;
    let migrated = migrate_in_transaction(conn, location);
    conn.pragma_update(None, "foreign_keys", true).map_err(backend)?;
    migrated
}

fn migrate_in_transaction(conn: &mut Connection, location: &str) -> Result<(), StoreError> {
    let too_new = |found| StoreError::TooNew { location: location.to_string(), found, known: SCHEMA_VERSION };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
    let found = schema_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(too_new(found));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        tx.execute_batch(&without_added_columns(&tx, sql)?)
            .map_err(|e| StoreError::Backend(format!("migration {version} failed on {location}: {e}")))?;
        if *version == 9 {
            // The chain starts with the contact reads and alert steps already logged.
            crate::reports::audit::start_chain(&tx)
                .map_err(|e| StoreError::Backend(format!("migration 9 failed on {location}: {e}")))?;
        }
        tx.pragma_update(None, "user_version", version).map_err(backend)?;
    }
    let broken: i64 =
        tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).map_err(backend)?;
    if broken > 0 {
        return Err(StoreError::Backend(format!(
            "migrating {location} would leave {broken} rows whose foreign key points nowhere; nothing was changed"
        )));
    }
    tx.commit().map_err(backend)
}

/// SQLite has no `ADD COLUMN IF NOT EXISTS`. So that a migration runs again
/// on a database whose version was set back by hand (as its other
/// statements, all `IF NOT EXISTS`, do), a line `ALTER TABLE t ADD COLUMN c
/// ...;` is left out when table `t` already has column `c`.
fn without_added_columns(conn: &Connection, sql: &str) -> Result<String, StoreError> {
    let mut out = String::with_capacity(sql.len());
    for line in sql.split_inclusive('\n') {
        if let Some((table, column)) = added_column(line) {
            let has: i64 = conn
                .query_row("SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2", [table, column], |r| r.get(0))
                .map_err(backend)?;
            if has > 0 {
                continue;
            }
        }
        out.push_str(line);
    }
    Ok(out)
}

/// (table, column) of a line `ALTER TABLE t ADD COLUMN c ...`.
fn added_column(line: &str) -> Option<(&str, &str)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let is = |i: usize, word: &str| words.get(i).is_some_and(|w| w.eq_ignore_ascii_case(word));
    (is(0, "ALTER") && is(1, "TABLE") && is(3, "ADD") && is(4, "COLUMN")).then(|| (words[2], words[5]))
}
