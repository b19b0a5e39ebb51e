//! vitalcore-store-sqlite integration tests: the shared store contract on an
//! in-memory and on a file database, plus what only SQLite has (migrations
//! on reopen, refusing a newer schema, surviving a killed import).

mod reports_conformance;

use std::io::{BufRead, BufReader};
use std::ops::Deref;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use vitalcore_store::testing::synthetic;
use vitalcore_store::{EventFilter, ImportFile, Store, StoreError, events};
use vitalcore_store_sqlite::{SCHEMA_VERSION, SqliteStore};

/// A store in a fresh temporary folder, removed on drop.
struct FileStore {
    store: SqliteStore,
    _dir: TempDir,
}

impl Deref for FileStore {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

fn file_store() -> FileStore {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("vitalcore.db")).unwrap();
    FileStore { store, _dir: dir }
}

mod in_memory {
    vitalcore_store::conformance_tests!(Some(Box::new(vitalcore_store_sqlite::SqliteStore::open_in_memory().unwrap())));
}

mod on_file {
    vitalcore_store::conformance_tests!(Some(crate::file_store()));
}

#[test]
fn reopening_keeps_data_and_applies_migrations_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    let batch = synthetic::events(50, 11);
    {
        let store = SqliteStore::open(&path).unwrap();
        store.import_events(&synthetic::file("a.csv", 50), &batch).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }
    for _ in 0..2 {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(store.counts().unwrap().events, 50);
        store.integrity_check().unwrap();
    }
}

/// Migration 5 drops the two event indexes no query used, from a version 4
/// database that has them, and keeps the data and the other indexes.
#[test]
fn migration_5_drops_the_unused_event_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.import_events(&synthetic::file("a.csv", 50), &synthetic::events(50, 13)).unwrap();
    }
    let event_indexes = |conn: &rusqlite::Connection| -> Vec<String> {
        let sql = "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL \
                   ORDER BY name";
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    };
    {
        // Back to version 4 as it was created: with both indexes.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE INDEX events_admin1_month ON events (admin1_pcode, month);
             CREATE INDEX events_grid_month ON events (grid_gid, month);
             PRAGMA user_version = 4;",
        )
        .unwrap();
        assert_eq!(event_indexes(&conn).len(), 4);
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.counts().unwrap().events, 50);
    store.integrity_check().unwrap();
    drop(store);
    assert_eq!(event_indexes(&rusqlite::Connection::open(&path).unwrap()), ["events_date", "events_source_id"]);
}

#[test]
fn file_database_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal", "WAL mode is recorded in the file");
}

#[test]
fn database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 5).unwrap();
    drop(conn);
    match SqliteStore::open(&path) {
        Err(StoreError::TooNew { found, known, location }) => {
            assert_eq!((found, known), (SCHEMA_VERSION + 5, SCHEMA_VERSION));
            assert!(location.ends_with("new.db"));
        }
        Err(other) => panic!("expected TooNew, got {other}"),
        Ok(_) => panic!("a database from a newer build was opened"),
    }
}

#[test]
fn unreadable_file_is_an_open_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-db.db");
    std::fs::write(&path, b"this is not a database, just some text that is long enough for a header").unwrap();
    let err = SqliteStore::open(&path).err().expect("open fails").to_string();
    assert!(err.contains("not-a-db.db"), "{err}");
}

const CHILD_DB: &str = "VITALCORE_STORE_KILL_CHILD_DB";
/// `streamed`: the child imports through `import_events_streamed`.
const CHILD_MODE: &str = "VITALCORE_STORE_KILL_CHILD_MODE";
const CHILD_ROWS: usize = 400_000;
const CHILD_MARKER: &str = "child: importing now";

/// Run only by `killed_import_leaves_the_database_as_before`, as a child
/// process that is killed in the middle of this import.
#[test]
#[ignore = "child process of killed_import_leaves_the_database_as_before"]
fn child_imports_a_large_batch() {
    let path = std::env::var(CHILD_DB).expect("run by killed_import_leaves_the_database_as_before");
    let store = SqliteStore::open(&path).unwrap();
    let batch = synthetic::events(CHILD_ROWS, 77);
    println!("\n{CHILD_MARKER}");
    if std::env::var(CHILD_MODE).is_ok_and(|m| m.starts_with("streamed")) {
        store
            .import_events_streamed(CHILD_ROWS as u64, &mut |sink| {
                for e in batch.iter().cloned() {
                    sink(e)?;
                }
                Ok(synthetic::file("killed.csv", CHILD_ROWS))
            })
            .unwrap();
    } else {
        store.import_events(&synthetic::file("killed.csv", CHILD_ROWS), &batch).unwrap();
    }
    println!("finished");
}

#[test]
fn killed_import_leaves_the_database_as_before() {
    killed_import_leaves_the_database_as_before_in("slice");
}

#[test]
fn killed_streamed_import_leaves_the_database_as_before() {
    killed_import_leaves_the_database_as_before_in("streamed");
}

/// A large streamed import into an empty events table runs in the rollback
/// journal, writing into the database file itself: killed, it still leaves
/// the database as before (the next open rolls the journal back).
#[test]
fn killed_bulk_import_into_an_empty_table_leaves_the_database_as_before() {
    killed_import_leaves_the_database_as_before_in("streamed-into-empty");
}

fn killed_import_leaves_the_database_as_before_in(mode: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kill.db");
    let wal = dir.path().join("kill.db-wal");
    let (before, before_events) = {
        let store = SqliteStore::open(&path).unwrap();
        if mode != "streamed-into-empty" {
            let mut base = synthetic::events(1_000, 76);
            for e in &mut base {
                e.provenance.source_id.push_str("-base"); // disjoint from the child's ids
            }
            store.import_events(&synthetic::file("base.csv", 1_000), &base).unwrap();
        }
        (store.counts().unwrap(), events(&store, &EventFilter::default()).unwrap())
    };
    let size_before = std::fs::metadata(&path).unwrap().len();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_imports_a_large_batch", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, &path)
        .env(CHILD_MODE, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(
        lines.by_ref().map_while(Result::ok).any(|l| l.trim() == CHILD_MARKER),
        "the child never started importing"
    );
    // Wait until the uncommitted transaction has spilled pages into the WAL
    // (in the rollback journal: into the database file itself, which the
    // WAL path never does before its commit).
    let started = Instant::now();
    loop {
        assert!(child.try_wait().unwrap().is_none(), "the child finished before it could be killed");
        let grown = |file: &std::path::Path, from: u64| std::fs::metadata(file).map(|m| m.len()).unwrap_or(0) > from;
        let spilled = match mode {
            "streamed-into-empty" => grown(&path, size_before + (8 << 20)),
            _ => grown(&wal, 1 << 20),
        };
        if spilled {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the child wrote nothing for 2 minutes");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();

    let store = SqliteStore::open(&path).unwrap();
    store.integrity_check().unwrap();
    assert_eq!(store.counts().unwrap(), before);
    assert_eq!(events(&store, &EventFilter::default()).unwrap(), before_events);
    assert!(store.imports().unwrap().iter().all(|i| i.path != "killed.csv"));
    // And the database still takes imports.
    let counts = store.import_events(&synthetic::file("after.csv", 10), &synthetic::events(10, 78)).unwrap();
    assert_eq!(counts.imported, 10);
}

/// Large imports drop and recreate the indexes (bulk mode): afterwards every
/// index is back, the database is sound, and revisions still work.
#[test]
fn bulk_import_restores_every_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bulk.db");
    let index_names = |path: &std::path::Path| -> Vec<String> {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    };
    let store = SqliteStore::open(&path).unwrap();
    let before = index_names(&path);
    assert_eq!(before, ["events_date", "events_source_id"]);
    let mut batch = synthetic::events(30_000, 12);
    assert_eq!(store.import_events(&synthetic::file("bulk.csv", 30_000), &batch).unwrap().imported, 30_000);
    assert_eq!(index_names(&path), before);
    store.integrity_check().unwrap();
    for e in batch.iter_mut().step_by(2) {
        e.fatalities += 1;
    }
    let counts = store.import_events(&synthetic::file("bulk2.csv", 30_000), &batch).unwrap();
    assert_eq!((counts.updated, counts.unchanged), (15_000, 15_000));
    assert_eq!(index_names(&path), before);
    store.integrity_check().unwrap();
    assert_eq!(store.counts().unwrap().prior_versions, 15_000);
}

/// The mandates contract (migration 12), on a file and in memory.
#[test]
fn mandate_contract_on_file_and_in_memory() {
    vitalcore_store::testing::mandates::mandate_contract(&*file_store());
    vitalcore_store::testing::mandates::mandate_contract(&SqliteStore::open_in_memory().unwrap());
}

/// The synchronisation contract (migration 10), on a file and in memory.
#[test]
fn sync_contract_on_file_and_in_memory() {
    vitalcore_store::testing::sync::sync_contract(&*file_store());
    vitalcore_store::testing::sync::sync_contract(&SqliteStore::open_in_memory().unwrap());
}

/// A streamed import stores what the same batch imported at once stores:
/// the same counts (repeats unchanged, revisions kept as prior versions)
/// and the same events, and refuses the same conflicts with nothing stored.
#[test]
fn streamed_import_matches_the_batch_import() {
    let streamed = |store: &SqliteStore, file: &ImportFile, events: &[vitalcore_framework::Event]| {
        store.import_events_streamed(events.len() as u64, &mut |sink| {
            for e in events.iter().cloned() {
                sink(e)?;
            }
            Ok(file.clone())
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) =
        (SqliteStore::open(dir.path().join("a.db")).unwrap(), SqliteStore::open(dir.path().join("b.db")).unwrap());
    // Large enough for the bulk-load path into the empty table (25,000 rows).
    let mut first = synthetic::events(25_000, 5);
    first.push(first[3].clone()); // a repeat: unchanged
    let file = synthetic::file("first.csv", first.len());
    assert_eq!(a.import_events(&file, &first).unwrap(), streamed(&b, &file, &first).unwrap());
    // Into a filled table: new, unchanged and revised events.
    let mut second = synthetic::events(100, 6);
    for e in &mut second {
        e.provenance.source_id.push_str("-new");
    }
    second.extend(first[10..20].iter().cloned());
    let mut revised = first[30].clone();
    revised.fatalities += 7;
    second.push(revised);
    let file = synthetic::file("second.csv", second.len());
    let counts = a.import_events(&file, &second).unwrap();
    assert_eq!(counts, streamed(&b, &file, &second).unwrap());
    assert_eq!((counts.imported, counts.unchanged, counts.updated), (100, 10, 1));
    assert_eq!(a.counts().unwrap(), b.counts().unwrap());
    let all = |s: &SqliteStore| {
        let mut v = events(s, &EventFilter::default()).unwrap();
        v.sort_by(|x, y| x.provenance.source_id.cmp(&y.provenance.source_id));
        v
    };
    assert_eq!(all(&a), all(&b));
    // A conflict in the file: refused, nothing stored.
    let before = b.counts().unwrap();
    let mut conflict = synthetic::events(50, 8);
    for e in &mut conflict {
        e.provenance.source_id.push_str("-c");
    }
    let mut twin = conflict[5].clone();
    twin.fatalities += 1;
    conflict.push(twin);
    let file = synthetic::file("conflict.csv", conflict.len());
    let err = streamed(&b, &file, &conflict).unwrap_err();
    assert!(matches!(err, StoreError::BatchConflict { .. }), "{err}");
    assert_eq!(b.counts().unwrap(), before);
    // And an error of the reader rolls everything back too.
    let failed = b.import_events_streamed(10, &mut |sink| {
        for e in synthetic::events(10, 9) {
            sink(e)?;
        }
        Err(StoreError::Backend("the file ends in the middle of a row".into()))
    });
    assert!(failed.is_err());
    assert_eq!(b.counts().unwrap(), before);
}

/// A large streamed import into an empty table writes its rows once, into
/// the database file (rollback journal), not into the WAL and again at the
/// checkpoint; the database is back in WAL mode afterwards, and the same
/// import into a table that holds events still goes through the WAL.
#[test]
fn bulk_streamed_import_into_an_empty_table_bypasses_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bulk.db");
    let wal = dir.path().join("bulk.db-wal");
    let store = SqliteStore::open(&path).unwrap();
    let streamed = |events: Vec<vitalcore_framework::Event>, name: &str| {
        let n = events.len();
        store
            .import_events_streamed(n as u64, &mut |sink| {
                for e in events.iter().cloned() {
                    sink(e)?;
                }
                Ok(synthetic::file(name, n))
            })
            .unwrap()
    };
    assert_eq!(streamed(synthetic::events(30_000, 21), "first.csv").imported, 30_000);
    let wal_len = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(wal_len() < (1 << 20), "the WAL holds {} bytes after a bulk import", wal_len());
    assert!(std::fs::metadata(&path).unwrap().len() > 30_000 * 200, "the rows are in the database file");
    let mode: String =
        rusqlite::Connection::open(&path).unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal", "back in WAL mode");
    store.integrity_check().unwrap();
    // Into a table that holds events: the WAL as before.
    let mut more = synthetic::events(30_000, 22);
    for e in &mut more {
        e.provenance.source_id.push_str("-more");
    }
    assert_eq!(streamed(more, "second.csv").imported, 30_000);
    assert!(wal_len() > (1 << 20), "the second import went through the WAL");
    assert_eq!(store.counts().unwrap().events, 60_000);
}

/// Another connection holding the database (a server reading it): the bulk
/// import does not wait for it, it goes through the WAL at once.
#[test]
fn bulk_streamed_import_with_another_connection_open_goes_through_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let store = SqliteStore::open(&path).unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    let _: i64 = other.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    let events = synthetic::events(25_000, 23);
    let started = Instant::now();
    let counts = store
        .import_events_streamed(events.len() as u64, &mut |sink| {
            for e in events.iter().cloned() {
                sink(e)?;
            }
            Ok(synthetic::file("shared.csv", events.len()))
        })
        .unwrap();
    assert_eq!(counts.imported, 25_000);
    assert!(started.elapsed() < Duration::from_secs(20), "the import waited {:?}", started.elapsed());
    let wal = dir.path().join("shared.db-wal");
    assert!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > (1 << 20), "the import went through the WAL");
    let mode: String = other.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}
