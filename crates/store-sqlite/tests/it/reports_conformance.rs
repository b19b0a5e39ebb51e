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
    store.insert_report(&report_at(2, Some("CF11"), "2024-05-02T00:00:00Z")).unwrap();
    for f in [&path, &wal, &shm] {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
}

/// Migration 7 on a database that holds one SMS message stored three times
/// (before webhooks were authenticated, or a gateway repeating): every
/// copy keeps its report, the first keeps the message id, each later one's
/// source id names the first and itself; from then on the id is stored once.
#[test]
fn migration_7_keeps_repeated_sms_and_stores_message_ids_once_from_then_on() {
    use vitalcore_store::testing::reports::sms_at;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        for r in [
            sms_at(1, "twilio", Some("SM1")),
            sms_at(2, "twilio", Some("SM1-b")),
            sms_at(3, "twilio", Some("SM1-c")),
            sms_at(4, "rapidpro", Some("SM1")),
            sms_at(5, "twilio", Some("SM2")),
        ] {
            store.insert_report(&r).unwrap();
        }
    }
    {
        // Back to version 6 as it was: no index, and the copies it allowed.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP INDEX reports_sms_message_id;
             UPDATE reports SET source_id = 'SM1' WHERE source_id IN ('SM1-b', 'SM1-c');
             PRAGMA user_version = 6;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), vitalcore_store_sqlite::SCHEMA_VERSION);
    let source = |n| store.report(&Reference::from_number(n)).unwrap().unwrap().source_id.unwrap();
    let first = Reference::from_number(1);
    assert_eq!(source(1), "SM1");
    let stored_as = |n| Reference::from_number(n);
    assert_eq!(source(2), format!("SM1 (repeat of {first}, stored as {})", stored_as(2)));
    assert_eq!(source(3), format!("SM1 (repeat of {first}, stored as {})", stored_as(3)));
    assert_eq!((source(4), source(5)), ("SM1".to_string(), "SM2".to_string()), "other ids are untouched");
    assert_eq!(store.reports(&vitalcore_store::reports::ReportFilter::default()).unwrap().len(), 5);
    assert_eq!(store.sms_report("twilio", "SM1").unwrap().unwrap().reference, first);
    assert!(matches!(store.insert_report(&sms_at(6, "twilio", Some("SM1"))), Err(StoreError::Conflict(_))));
}

/// A database of schema version 6 with a session and an API token: after
/// migrations 7 and 8 the session was last seen when it was created and the token
/// does not expire.
#[test]
fn version_6_sessions_and_tokens_are_migrated_to_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in [
            include_str!("../../migrations/0001_init.sql"),
            include_str!("../../migrations/0002_reports.sql"),
            include_str!("../../migrations/0003_corrections.sql"),
            include_str!("../../migrations/0004_forecasts.sql"),
            include_str!("../../migrations/0005_drop_unused_event_indexes.sql"),
            include_str!("../../migrations/0006_outbox_and_warning_notes.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        let hash = vitalcore_security::auth::TokenHash::of("vcs_old");
        conn.execute(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, 'u-1', ?2, ?3)",
            rusqlite::params![&hash.0[..], "2024-05-01T08:00:00.5Z", "2024-05-01T20:00:00Z"],
        )
        .unwrap();
        let token = vitalcore_security::auth::TokenHash::of("vca_old");
        conn.execute(
            "INSERT INTO api_tokens (token_hash, partner, user_id, created_at) VALUES (?1, 'ngo', 'u-1', ?2)",
            rusqlite::params![&token.0[..], "2024-05-01T08:00:00Z"],
        )
        .unwrap();
        conn.execute_batch("PRAGMA user_version = 6;").unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), vitalcore_store_sqlite::SCHEMA_VERSION);
    let session = store.session(&vitalcore_security::auth::TokenHash::of("vcs_old")).unwrap().unwrap();
    assert_eq!(session.last_seen_at, session.created_at);
    assert_eq!(session.created_at, ts("2024-05-01T08:00:00.5Z"));
    let token = store.api_token(&vitalcore_security::auth::TokenHash::of("vca_old")).unwrap().unwrap();
    assert_eq!((token.expires_at, token.revoked_at), (None, None));
    assert_eq!(store.sessions_of("u-1").unwrap(), vec![session]);
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

/// A version 8 database with contact reads and alert steps: migration 9
/// starts the chain with them (after a `chain_started` entry), so the chain
/// verifies and matches the tables from the first open on.
#[test]
fn migration_9_starts_the_chain_with_the_reads_and_steps_already_logged() {
    use vitalcore_store::testing::reports::{assert_chain_intact, write_everything};
    let file = SqliteFile::new();
    write_everything(&*file);
    let path = file.path();
    drop(file.store);
    {
        // Back to version 8: no chain (the rows the store wrote stay).
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DROP TABLE audit_log; PRAGMA user_version = 8;").unwrap();
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

/// A version 11 database (steps without a channel): migration 14 gives the
/// steps already there the channel `unknown`, rebuilds the notifications
/// table (foreign keys off around it, checked before the commit) keeping
/// every notification and delivery, and takes `sync.conflict` from then on.
#[test]
fn migration_14_gives_old_steps_an_unknown_channel_and_keeps_the_outbox() {
    use vitalcore_intake::notify::{ChannelKind, DeliveryDraft, NotificationDraft};
    use vitalcore_intake::workflow::StepChannel;
    use vitalcore_store::notify::NotifyStore;
    use vitalcore_store::testing::reports::write_everything;
    let file = SqliteFile::new();
    let report = write_everything(&*file);
    let at = ts("2026-12-08T09:00:00Z");
    let draft = NotificationDraft::alert_new(&report.reference, Some("CF32"), report.effective_urgency(), None, at);
    let queued = file.store.queue_notifications(&[draft]).unwrap();
    let webhook = DeliveryDraft { channel: ChannelKind::Webhook, target: "ops".into() };
    file.store.expand_notification(queued[0], &[webhook], at).unwrap();
    let before = file.store.deliveries(10).unwrap();
    assert_eq!(before.len(), 1);
    let path = file.path();
    drop(file.store);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("ALTER TABLE alert_steps DROP COLUMN channel; PRAGMA user_version = 11;").unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), vitalcore_store_sqlite::SCHEMA_VERSION);
    let steps = store.steps(&report.reference).unwrap();
    assert!(!steps.is_empty());
    assert!(steps.iter().all(|s| s.channel == StepChannel::Unknown), "steps from before the channel was recorded");
    assert_eq!(store.deliveries(10).unwrap(), before, "the outbox is kept whole");
    let conflict = NotificationDraft::sync_conflict(&report.reference, Some("CF32"), None, None, "abc", at);
    assert_eq!(store.queue_notifications(&[conflict]).unwrap().len(), 1);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let broken: i64 = conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
    assert_eq!(broken, 0);
    let fks: i64 = conn
        .query_row(
            "SELECT count(*) FROM pragma_foreign_key_list('notify_deliveries') WHERE \"table\" = 'notifications'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(fks, 1, "deliveries still point at the rebuilt notifications");
}
