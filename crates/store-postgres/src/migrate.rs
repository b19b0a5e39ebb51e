//! Versioned migrations, embedded in the binary and applied at connect.
//! Applied versions are rows of `schema_migrations`; each migration runs in
//! one transaction with its row, under an advisory lock so that concurrent
//! connects migrate once.

use postgres::Client;
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

/// How many migrations this build has.
pub const MIGRATION_COUNT: usize = MIGRATIONS.len();

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    bigint PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

pub fn schema_version(client: &mut Client) -> Result<i64, StoreError> {
    let row = client.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[]).map_err(backend)?;
    Ok(row.get(0))
}

pub fn migrate(client: &mut Client, location: &str) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(backend)?;
    tx.batch_execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':migrate'))").map_err(backend)?;
    tx.batch_execute(CREATE_LEDGER).map_err(backend)?;
    let found: i64 =
        tx.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[]).map_err(backend)?.get(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew { location: location.to_string(), found, known: SCHEMA_VERSION });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        tx.batch_execute(sql).map_err(|e| {
            StoreError::Backend(format!("migration {version} failed on {location}: {}", crate::describe(&e)))
        })?;
        if *version == 9 {
            // The chain starts with the contact reads and alert steps already logged.
            crate::reports::audit::start_chain(&mut tx)
                .map_err(|e| StoreError::Backend(format!("migration 9 failed on {location}: {e}")))?;
        }
        tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[version]).map_err(backend)?;
    }
    tx.commit().map_err(backend)
}
