//! The report store contract of `vitalcore_store::testing::reports` on
//! SQLite (in memory and on file) and the in-memory reference, plus what
//! only SQLite has.

use vitalcore_intake::report::Reference;
use vitalcore_store::StoreError;
use vitalcore_store::reports::ReportStore;
use vitalcore_store::testing::MemoryStore;
use vitalcore_store::testing::reports::{Backend, full_report, report_at, ts};
use vitalcore_store_sqlite::SqliteStore;

mod memory_reference {
    use super::*;
    vitalcore_store::report_conformance_tests!(Some(Box::new(MemoryStore::new())));
}

mod sqlite_in_memory {
    use super::*;
    vitalcore_store::report_conformance_tests!(Some(Box::new(SqliteStore::open_in_memory().unwrap())));
}

mod sqlite_on_file {
    use super::*;
    vitalcore_store::report_conformance_tests!(Some(SqliteFile::new()));
    vitalcore_store::report_backend_tests!(Some(SqliteFile::new()));
}

/// A database file in a fresh temporary folder, removed on drop; as a store
/// (one handle held) and as a [`Backend`].
pub struct SqliteFile {
    dir: tempfile::TempDir,
    store: SqliteStore,
}

impl SqliteFile {
    pub fn new() -> SqliteFile {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("reports.db")).unwrap();
        SqliteFile { dir, store }
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("reports.db")
    }
}

impl std::ops::Deref for SqliteFile {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

impl Backend for SqliteFile {
    fn open(&self) -> Box<dyn ReportStore> {
        Box::new(SqliteStore::open(self.path()).unwrap())
    }

    /// Searches the database file and its WAL and shared-memory files.
    fn holds(&self, needle: &str) -> bool {
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.path().into_os_string();
            name.push(suffix);
            if let Ok(b) = std::fs::read(&name) {
                bytes.extend_from_slice(&b);
            }
        }
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    fn tamper(&self) -> Vec<Result<(), String>> {
        let conn = rusqlite::Connection::open(self.path()).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        [
            "UPDATE alert_steps SET user_id = 'someone else'",
            "DELETE FROM alert_steps",
            "UPDATE contact_reads SET purpose = 'nothing to see'",
            "DELETE FROM contact_reads",
            "UPDATE outbox_messages SET body = 'something else'",
            "DELETE FROM outbox_messages",
            "UPDATE outbox_status SET status = 'sent'",
            "DELETE FROM outbox_status",
            "UPDATE audit_log SET actor = 'someone else'",
            "DELETE FROM audit_log",
            "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)",
            "INSERT OR REPLACE INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)
             SELECT seq, at, 'someone else', action, subject, detail, prev_hash, hash FROM audit_log WHERE seq = 1",
            "INSERT OR REPLACE INTO contact_reads (id, report, user_id, role, purpose, at)
             SELECT id, report, user_id, role, 'nothing to see', at FROM contact_reads",
            "INSERT OR REPLACE INTO alert_steps (report_id, seq, step, detail, user_id, at)
             SELECT report_id, seq, step, detail, 'someone else', at FROM alert_steps",
        ]
        .iter()
        .map(|sql| conn.execute(sql, []).map(|_| ()).map_err(|e| e.to_string()))
        .collect()
    }
}

/// A database written before reports existed (schema version 1) gets the
/// report tables on open and keeps its events.
#[test]
fn version_1_database_is_migrated_to_reports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("../../migrations/0001_init.sql")).unwrap();
        conn.execute_batch(
            "INSERT INTO areas (pcode, name, level) VALUES ('CF11', 'Ouham', 1);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), vitalcore_store_sqlite::SCHEMA_VERSION);
    assert_eq!(vitalcore_store::Store::areas(&store).unwrap().len(), 1);
    let report = full_report(1);
    store.insert_report(&report).unwrap();
    assert_eq!(store.report(&Reference::from_number(1)).unwrap(), Some(report));
}

/// Receipt times are kept as i64 nanoseconds (years 1678-2262); outside
/// that range the report is refused with a message, and nothing is stored.
#[test]
fn receipt_time_outside_the_stored_range_is_refused_cleanly() {
    let store = SqliteStore::open_in_memory().unwrap();
    let mut r = report_at(1, Some("CF11"), "2024-05-01T00:00:00Z");
    r.received_at = ts("1500-01-01T00:00:00Z");
    let err = store.insert_report(&r).unwrap_err();
    assert!(
        matches!(&err, StoreError::Backend(m) if m.contains("1678-2262") && m.contains(r.reference.as_str())),
        "{err}"
    );
    assert_eq!(store.report(&r.reference).unwrap(), None);
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The database holds reports of killings and sexual violence, sealed
/// contacts and password hashes: the file, its WAL and its shared-memory
/// file are created readable by their owner only (whatever the umask lets
/// through), and an existing database others could read is made owner-only.
#[test]
fn the_database_and_its_wal_and_shm_files_are_owner_only() {
    let file = SqliteFile::new();
    file.insert_report(&full_report(1)).unwrap();
    let path = file.path();
    let wal = path.with_extension("db-wal");
    let shm = path.with_extension("db-shm");
    assert!(wal.exists() && shm.exists(), "the store is open: WAL and shared memory are there");
    for f in [&path, &wal, &shm] {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    assert!(file.permissions_tightened().is_empty());
    drop(file.store);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.permissions_tightened(), &[(path.clone(), 0o644)][..]);
    assert_eq!(mode(&path), 0o600);
    store.insert_report(&full_report(2)).unwrap();
    for f in [&path, &wal, &shm] {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
}

/// A version 6 database with contact reads and alert steps: migration 7
/// starts the chain with them (after a `chain_started` entry), so the chain
/// verifies and matches the tables from the first open on.
#[test]
fn migration_7_starts_the_chain_with_the_reads_and_steps_already_logged() {
    use vitalcore_store::testing::reports::{assert_chain_intact, write_everything};
    let file = SqliteFile::new();
    write_everything(&*file);
    let path = file.path();
    drop(file.store);
    {
        // Back to version 6: no chain (the rows the store wrote stay).
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DROP TABLE audit_log; PRAGMA user_version = 6;").unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), vitalcore_store_sqlite::SCHEMA_VERSION);
    let chain = assert_chain_intact(&store);
    let actions: Vec<_> = chain.iter().map(|e| e.event.action.as_str()).collect();
    assert_eq!(actions, ["chain_started", "alert_step", "alert_step", "contact_read"], "oldest first");
    assert!(chain[0].event.detail.contains("1 contact reads and 2 alert steps"), "{}", chain[0].event.detail);
    drop(store);
    // Opening again changes nothing.
    assert_eq!(assert_chain_intact(&SqliteStore::open(&path).unwrap()), chain);
}

/// Many threads submitting single reports at once share commits: every
/// report is stored exactly once, and a reference already used fails that
/// report alone (its group's other reports are stored).
#[test]
fn reports_submitted_at_once_share_commits_and_a_used_reference_fails_alone() {
    let file = SqliteFile::new();
    const THREADS: u32 = 8;
    const EACH: u32 = 40;
    let conflicts = std::sync::atomic::AtomicU32::new(0);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (file, conflicts) = (&file, &conflicts);
            scope.spawn(move || {
                for i in 0..EACH {
                    // Every tenth report reuses the reference of another thread's.
                    let n = if i % 10 == 9 { ((t + 1) % THREADS) * EACH + i - 1 } else { t * EACH + i };
                    match file.insert_report(&report_at(n + 1, Some("CF11"), "2024-05-01T00:00:00Z")) {
                        Ok(()) => {}
                        Err(StoreError::Conflict(_)) => {
                            conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            });
        }
    });
    let stored = file.reports(&vitalcore_store::reports::ReportFilter::default()).unwrap().len() as u32;
    let conflicts = conflicts.into_inner();
    assert_eq!(conflicts, THREADS * EACH / 10, "each reused reference is refused once");
    assert_eq!(stored, THREADS * EACH - conflicts);
}
