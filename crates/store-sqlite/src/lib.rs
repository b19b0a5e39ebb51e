//! The embedded SQLite store, vitalcore's default backend.
//!
//! One file, WAL journal (readers never block the writer), foreign keys on,
//! versioned migrations applied at open (`migrations/*.sql`, schema version
//! in `PRAGMA user_version`).
//!
//! Durability: `synchronous=FULL`, so a commit is on disk (the WAL
//! fsynced) before it returns: a reference handed to a reporter survives a
//! power cut, and so do alert steps, contact reads, accounts, the outbox and
//! the audit chain.
//! Reports submitted at once from many threads share one commit (and one
//! fsync; see [`ReportStore::insert_report`](vitalcore_store::reports::ReportStore)
//! in `reports.rs`), which is what keeps the intake API above 1,000 reports
//! a second. Two writes run with `synchronous=NORMAL` (they survive a crash
//! of the process; a power cut may lose them until the next durable commit
//! syncs the WAL): bulk imports of events and observations (importing the
//! same files again restores them) and the links back from older reports to
//! a new likely duplicate (recomputable hints; the new report's own links
//! are committed with it). A large streamed import into an empty events
//! table runs in SQLite's rollback journal instead, with `synchronous=FULL`
//! (its rows are written once, see [`rollback_journal`]).
//!
//! Files: the database is created readable and writable by its owner only
//! (0600), before SQLite opens it; SQLite gives its `-wal` and `-shm` files
//! the database file's mode. An existing database, WAL or shared-memory
//! file that other users may open is made owner-only at open (see
//! [`SqliteStore::permissions_tightened`]): it holds reports of killings and
//! sexual violence, sealed contacts and password hashes, and a group or
//! world bit on it is never what was meant (several people use one
//! database through the server, or PostgreSQL, never through file sharing).
//!
//! Threads: writes go through one connection behind a mutex; reads of a file
//! database use a small pool of read-only connections, so the server can read
//! while an import runs. An in-memory database has one connection for both.
//! A `visit` callback must not call back into the same in-memory store.

mod events;
mod forecasts;
mod mandates;
mod migrate;
mod observations;
mod reports;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use vitalcore_framework::{Event, Observation, Source};
use vitalcore_store::{
    Area, DataVersion, EventFilter, EventVersion, ImportCounts, ImportFile, Store, StoreCounts, StoreError,
};

pub use migrate::SCHEMA_VERSION;

/// How long a connection waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Page size of new databases.
const PAGE_SIZE: i64 = 16_384;
/// Pages in the WAL after which a commit starts a checkpoint in the
/// background (SQLite's own threshold for the checkpoints it runs inline).
const WAL_CHECKPOINT_PAGES: i64 = 1000;
/// Pages in the WAL after which a commit runs a checkpoint itself, as
/// SQLite does: the background ones could not get to the end of the WAL
/// (commits without a pause), and it would grow without bound.
const WAL_INLINE_CHECKPOINT_PAGES: i64 = 4 * WAL_CHECKPOINT_PAGES;
/// After a checkpoint the WAL starts over; a file left larger is cut to this.
const WAL_SIZE_LIMIT: i64 = 64 << 20;
/// Idle read connections kept open.
const MAX_IDLE_READERS: usize = 4;

pub struct SqliteStore {
    location: String,
    /// Files whose group or other permission bits were removed at open,
    /// with their mode before.
    tightened: Vec<(PathBuf, u32)>,
    /// Reports waiting to share one commit.
    group: reports::GroupCommit,
    writer: Mutex<Connection>,
    /// `None` for an in-memory database (reads use the writer).
    readers: Option<ReaderPool>,
    /// WAL checkpoints, run off the commit path.
    checkpoints: Arc<Checkpoints>,
}

/// WAL checkpoints (copying committed pages from the WAL into the database
/// file, and the fsyncs), each on a thread of its own with a connection of
/// its own, one at a time. SQLite would otherwise run one inside the commit
/// that crosses [`WAL_CHECKPOINT_PAGES`], holding every submission behind
/// it for as long as the copy and the fsyncs take (tens to hundreds of
/// milliseconds on a busy disk). Passive checkpoints never block the writer
/// or readers, but under a steady stream of commits one never finds the
/// WAL with nothing new in it, and the WAL only starts over (and stops
/// growing) once everything in it is in the database file. So passive
/// checkpoints copy while the commits go on, and once what is left is
/// small, a restart checkpoint holds the writer for just that remainder and
/// makes the next commit start the WAL over. Should commits come without a
/// pause (the restart never gets its turn), the commit that finds
/// [`WAL_INLINE_CHECKPOINT_PAGES`] in the WAL checkpoints itself, as SQLite
/// would have. A failed checkpoint loses nothing: the pages stay in the WAL
/// for the next one, or for SQLite's at close.
struct Checkpoints {
    path: PathBuf,
    running: Mutex<Option<JoinHandle<()>>>,
    /// An import is committing: its checkpoint runs in the background after
    /// it, never inside its commit.
    importing: AtomicBool,
}

impl Checkpoints {
    /// Starts a checkpoint after the one running, if any.
    fn start(&self) {
        let path = self.path.clone();
        let mut slot = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let before = slot.take();
        *slot = Some(std::thread::spawn(move || {
            if let Some(before) = before {
                let _ = before.join();
            }
            if let Ok(conn) = Connection::open(&path) {
                checkpoint(&conn);
            }
        }));
    }

    /// Starts a checkpoint unless one is running (the next commit asks again).
    fn start_unless_running(&self) {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|h| !h.is_finished());
        if !running {
            self.start();
        }
    }

    fn wait(&self) {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(running) = running {
            let _ = running.join();
        }
    }
}

/// What is left in the WAL when a checkpoint may hold the writer to finish.
const RESTART_BELOW_PAGES: i64 = 128;
/// Passive rounds before a checkpoint gives up until the next commit asks.
const PASSIVE_ROUNDS: usize = 16;

/// Copies the WAL into the database file (see [`Checkpoints`]).
fn checkpoint(conn: &Connection) {
    let passive = |conn: &Connection| -> rusqlite::Result<(i64, i64)> {
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(1)?, r.get(2)?)))
    };
    for _ in 0..PASSIVE_ROUNDS {
        let Ok((in_wal, copied)) = passive(conn) else { return };
        if copied >= in_wal {
            return; // all of it: the next commit starts the WAL over
        }
        if in_wal - copied <= RESTART_BELOW_PAGES {
            // Holds new writers (they wait in their busy handler) while the
            // remainder is copied and synced, and until readers are off the WAL.
            let _ = conn.busy_timeout(Duration::from_millis(200));
            let _ = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
            return;
        }
    }
}

struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

pub(crate) fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and migrates it
    /// to the current schema.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref();
        let location = path.display().to_string();
        let open_err = |e: rusqlite::Error| StoreError::Open { location: location.clone(), reason: e.to_string() };
        let tightened =
            owner_only(path).map_err(|e| StoreError::Open { location: location.clone(), reason: e.to_string() })?;
        let mut conn = Connection::open(path).map_err(open_err)?;
        configure_writer(&mut conn, true).map_err(open_err)?;
        migrate::migrate(&mut conn, &location)?;
        let checkpoints = Arc::new(Checkpoints {
            path: path.to_path_buf(),
            running: Mutex::new(None),
            importing: AtomicBool::new(false),
        });
        // Replaces SQLite's inline auto-checkpoint (see [`Checkpoints`]).
        let due = checkpoints.clone();
        conn.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages: std::ffi::c_int| {
            let pages = i64::from(pages);
            if pages >= WAL_INLINE_CHECKPOINT_PAGES && !due.importing.load(Ordering::Acquire) {
                // Busy (a background checkpoint is copying) is fine: the next commit tries again.
                let _ = wal.checkpoint();
            } else if pages >= WAL_CHECKPOINT_PAGES {
                due.start_unless_running();
            }
            Ok(())
        }))
        .map_err(open_err)?;
        Ok(SqliteStore {
            location,
            tightened,
            group: reports::GroupCommit::default(),
            writer: Mutex::new(conn),
            readers: Some(ReaderPool { path: path.to_path_buf(), idle: Mutex::new(Vec::new()) }),
            checkpoints,
        })
    }

    /// A private database in memory, gone when the store is dropped.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let location = ":memory:".to_string();
        let open_err = |e: rusqlite::Error| StoreError::Open { location: location.clone(), reason: e.to_string() };
        let mut conn = Connection::open_in_memory().map_err(open_err)?;
        configure_writer(&mut conn, false).map_err(open_err)?;
        migrate::migrate(&mut conn, &location)?;
        Ok(SqliteStore {
            location,
            tightened: Vec::new(),
            group: reports::GroupCommit::default(),
            writer: Mutex::new(conn),
            readers: None,
            checkpoints: Arc::new(Checkpoints {
                path: PathBuf::new(),
                running: Mutex::new(None),
                importing: AtomicBool::new(false),
            }),
        })
    }

    /// The files (database, `-wal`, `-shm`) that other users could open and
    /// that were made owner-only when this store opened them, each with its
    /// mode before (for the caller to tell the operator).
    pub fn permissions_tightened(&self) -> &[(PathBuf, u32)] {
        &self.tightened
    }

    /// Where the database is (a path, or `:memory:`).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        migrate::schema_version(&self.writer())
    }

    /// Runs SQLite's `PRAGMA integrity_check`; `Ok(())` when it says "ok".
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let report: String = self.writer().query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(backend)?;
        if report == "ok" { Ok(()) } else { Err(StoreError::Corrupt(report)) }
    }

    /// Waits until the WAL checkpoints started so far (by the last import,
    /// or by commits that filled the WAL) have copied their pages into the
    /// database file.
    pub fn wait_for_checkpoint(&self) {
        self.checkpoints.wait();
    }

    /// Runs one import with the page cache of [`with_import_cache`] and
    /// `synchronous=NORMAL`, so that its commit returns as soon as the
    /// transaction is in the WAL (a WAL commit then needs no fsync: it
    /// survives a process crash; a power cut may lose it, and importing the
    /// same files again brings it back). Copying the pages into the
    /// database file and the two fsyncs, 1-2 s for a 1M-row import, then run
    /// in the background ([`Checkpoints`]).
    fn import<T>(&self, import: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let result = {
            let mut conn = self.writer();
            conn.pragma_update(None, "synchronous", "NORMAL").map_err(backend)?;
            self.checkpoints.importing.store(true, Ordering::Release);
            let result = with_import_cache(&mut conn, import);
            self.checkpoints.importing.store(false, Ordering::Release);
            let reset = conn.pragma_update(None, "synchronous", "FULL").map_err(backend);
            let value = result?;
            reset?;
            value
        };
        if self.readers.is_some() {
            self.checkpoints.start();
        }
        Ok(result)
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock dropped any open transaction (rolled
        // back), so the connection is still sound.
        self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let Some(pool) = &self.readers else {
            return f(&self.writer());
        };
        let idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_reader(&pool.path)
                .map_err(|e| StoreError::Open { location: self.location.clone(), reason: e.to_string() })?,
        };
        let out = f(&conn);
        let mut idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        out
    }
}

fn configure_writer(conn: &mut Connection, file: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Only takes effect on a new database: larger pages mean fewer, larger
    // writes for bulk imports and scans.
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    if file {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(rusqlite::Error::InvalidParameterName(format!("cannot switch to WAL mode (got {mode})")));
        }
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    }
    // Temporary files stay on disk (the default): SQLite's sorter only
    // splits a large sort into cache-sized runs (see `SORT_CACHE_KIB`) when
    // it may write them to a temporary file; in memory it sorts one list of
    // every row, which is several times slower for an index of 1M rows.
    conn.execute_batch(
        "PRAGMA synchronous = FULL; -- every commit durable; imports alone use NORMAL
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -65536; -- NORMAL_CACHE_KIB",
    )?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(())
}

/// Creates the database file owner-only (0600) when it does not exist, so
/// that SQLite opens a file no one else can read (and gives its `-wal` and
/// `-shm` files the same mode); removes the group and other bits of an
/// existing database, WAL or shared-memory file. Returns the files changed
/// with their mode before. A file this user does not own keeps its mode
/// (only its owner can change it).
#[cfg(unix)]
fn owner_only(path: &Path) -> std::io::Result<Vec<(PathBuf, u32)>> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => return Ok(Vec::new()), // a new empty file: SQLite makes it a database
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let mut tightened = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 && std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700)).is_ok() {
            tightened.push((file, mode));
        }
    }
    Ok(tightened)
}

#[cfg(not(unix))]
fn owner_only(_path: &Path) -> std::io::Result<Vec<(PathBuf, u32)>> {
    Ok(Vec::new())
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch("PRAGMA cache_size = -16384;")?;
    Ok(conn)
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.checkpoints.wait();
    }
}

impl Store for SqliteStore {
    fn import_events(&self, file: &ImportFile, events: &[Event]) -> Result<ImportCounts, StoreError> {
        self.import(|conn| events::import(conn, file, events))
    }

    fn import_events_streamed(
        &self,
        expected_rows: u64,
        source: vitalcore_store::EventSource<'_>,
    ) -> Result<ImportCounts, StoreError> {
        if expected_rows >= BULK_JOURNAL_MIN_ROWS && self.readers.is_some() {
            // No checkpoint or idle reader of ours may hold the file open
            // while the journal mode changes.
            self.checkpoints.wait();
            if let Some(pool) = &self.readers {
                pool.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
            }
        }
        self.import(|conn| {
            let bulk = expected_rows >= BULK_JOURNAL_MIN_ROWS && events::table_is_empty(conn)?;
            if bulk && rollback_journal(conn)? {
                let imported = events::import_streamed(conn, expected_rows, source);
                let back = wal_journal(conn);
                let counts = imported?;
                back?;
                return Ok(counts);
            }
            events::import_streamed(conn, expected_rows, source)
        })
    }

    fn import_observations(&self, file: &ImportFile, rows: &[Observation]) -> Result<ImportCounts, StoreError> {
        self.import(|conn| observations::import(conn, file, rows))
    }

    fn for_each_observation(&self, visit: &mut dyn FnMut(Observation)) -> Result<u64, StoreError> {
        self.read(|conn| observations::for_each(conn, visit))
    }

    fn save_areas(&self, areas: &[Area]) -> Result<usize, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(backend)?;
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO areas (pcode, name, level, parent_pcode, country, geometry)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (pcode) DO UPDATE SET name = excluded.name, level = excluded.level,
                         parent_pcode = excluded.parent_pcode, country = excluded.country,
                         geometry = excluded.geometry",
                )
                .map_err(backend)?;
            for a in areas {
                upsert
                    .execute(params![a.pcode, a.name, a.level, a.parent_pcode, a.country, a.geometry])
                    .map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)?;
        Ok(areas.len())
    }

    fn areas(&self) -> Result<Vec<Area>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT pcode, name, level, parent_pcode, country, geometry FROM areas ORDER BY level, pcode",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(Area {
                        pcode: r.get(0)?,
                        name: r.get(1)?,
                        level: r.get(2)?,
                        parent_pcode: r.get(3)?,
                        country: r.get(4)?,
                        geometry: r.get(5)?,
                    })
                })
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
    }

    fn for_each_event(&self, filter: &EventFilter, visit: &mut dyn FnMut(Event)) -> Result<u64, StoreError> {
        self.read(|conn| events::for_each(conn, filter, visit))
    }

    fn event_history(&self, source: Source, source_id: &str) -> Result<Vec<EventVersion>, StoreError> {
        self.read(|conn| events::history(conn, source, source_id))
    }

    fn counts(&self) -> Result<StoreCounts, StoreError> {
        self.read(|conn| {
            conn.query_row(
                "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM event_versions),
                        (SELECT count(*) FROM observations), (SELECT count(*) FROM areas),
                        (SELECT count(*) FROM imports)",
                [],
                |r| {
                    Ok(StoreCounts {
                        events: r.get::<_, i64>(0)? as u64,
                        prior_versions: r.get::<_, i64>(1)? as u64,
                        observations: r.get::<_, i64>(2)? as u64,
                        areas: r.get::<_, i64>(3)? as u64,
                        imports: r.get::<_, i64>(4)? as u64,
                    })
                },
            )
            .map_err(backend)
        })
    }

    fn data_version(&self) -> Result<DataVersion, StoreError> {
        self.read(|conn| {
            conn.query_row("SELECT count(*), coalesce(max(id), 0) FROM imports", [], |r| {
                Ok(DataVersion { imports: r.get::<_, i64>(0)? as u64, last_import_id: r.get(1)? })
            })
            .map_err(backend)
        })
    }

    fn imports(&self) -> Result<Vec<ImportFile>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT path, sha256, format, rows_read, rows_rejected FROM imports ORDER BY id DESC")
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(ImportFile {
                        path: r.get(0)?,
                        sha256: r.get(1)?,
                        format: r.get(2)?,
                        rows_read: r.get::<_, i64>(3)? as u64,
                        rows_rejected: r.get::<_, i64>(4)? as u64,
                    })
                })
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
    }
}

/// Records one import batch; returns its id. The counts are filled in by
/// [`finish_import`] in the same transaction.
pub(crate) fn start_import(
    conn: &Connection,
    file: &ImportFile,
    kind: &str,
    stored_at: &str,
) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO imports (path, sha256, format, kind, rows_read, rows_rejected, imported_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![file.path, file.sha256, file.format, kind, file.rows_read as i64, file.rows_rejected as i64, stored_at],
    )
    .map_err(backend)?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn finish_import(conn: &Connection, import_id: i64, counts: &ImportCounts) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE imports SET imported = ?1, updated = ?2, unchanged = ?3 WHERE id = ?4",
        params![counts.imported as i64, counts.updated as i64, counts.unchanged as i64, import_id],
    )
    .map_err(backend)?;
    Ok(())
}

/// How an import finds what is stored under a (source, source_id): for a
/// batch that is large next to the table, one scan into a hash map beats a
/// B-tree probe per row; for a small batch into a large table, probes win.
pub(crate) enum Existing {
    Nothing,
    Loaded(std::collections::HashMap<Source, std::collections::HashMap<String, (i64, i64)>>),
    Probe,
}

impl Existing {
    pub(crate) fn prepare(conn: &Connection, table: &str, batch_len: usize) -> Result<Existing, StoreError> {
        let max_id: Option<i64> =
            conn.query_row(&format!("SELECT max(id) FROM {table}"), [], |r| r.get(0)).map_err(backend)?;
        let Some(stored) = max_id else { return Ok(Existing::Nothing) };
        if (batch_len as i64) * 16 < stored {
            return Ok(Existing::Probe);
        }
        let mut map: std::collections::HashMap<Source, std::collections::HashMap<String, (i64, i64)>> =
            std::collections::HashMap::new();
        let mut stmt =
            conn.prepare(&format!("SELECT source, source_id, id, fingerprint FROM {table}")).map_err(backend)?;
        let mut rows = stmt.query([]).map_err(backend)?;
        while let Some(r) = rows.next().map_err(backend)? {
            let source: String = r.get(0).map_err(backend)?;
            let source = source.parse::<Source>().map_err(StoreError::Corrupt)?;
            map.entry(source)
                .or_insert_with(|| std::collections::HashMap::with_capacity(stored as usize))
                .insert(r.get(1).map_err(backend)?, (r.get(2).map_err(backend)?, r.get(3).map_err(backend)?));
        }
        Ok(Existing::Loaded(map))
    }

    /// (row id, fingerprint) of the stored record, if any.
    pub(crate) fn find(
        &self,
        conn: &Connection,
        table: &str,
        source: Source,
        source_id: &str,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        match self {
            Existing::Nothing => Ok(None),
            Existing::Loaded(map) => Ok(map.get(&source).and_then(|ids| ids.get(source_id)).copied()),
            Existing::Probe => conn
                .prepare_cached(&format!("SELECT id, fingerprint FROM {table} WHERE source = ?1 AND source_id = ?2"))
                .map_err(backend)?
                .query_row(params![source.as_str(), source_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(backend),
        }
    }
}

/// While an import runs, the writer's page cache may grow to this many KiB,
/// so that index pages touched at random are not spilled and re-read.
const IMPORT_CACHE_KIB: i64 = 1 << 18;
const NORMAL_CACHE_KIB: i64 = 1 << 16;

/// Runs an import with a page cache that may grow to [`IMPORT_CACHE_KIB`],
/// then shrinks it back (freeing the memory).
fn with_import_cache<T>(
    conn: &mut Connection,
    import: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.pragma_update(None, "cache_size", -IMPORT_CACHE_KIB).map_err(backend)?;
    let result = import(conn);
    let reset = conn.pragma_update(None, "cache_size", -NORMAL_CACHE_KIB).map_err(backend);
    let value = result?;
    reset?;
    Ok(value)
}

/// A streamed import of at least this many rows into an empty events table
/// runs in the rollback journal (see [`rollback_journal`]).
const BULK_JOURNAL_MIN_ROWS: u64 = 20_000;

/// Switches the writer from the WAL to SQLite's rollback journal, for a bulk
/// import into an empty table: there SQLite journals only the pages the
/// database held before the transaction (a few), not the pages it appends,
/// so the imported rows are written once, into the database file, where
/// the WAL writes them twice (the WAL, then the checkpoint: 1.6 CPU seconds
/// of a 2M-row import less this way, BENCHMARKS.md, and one fsync of the
/// whole table instead of two). Atomic all the same: a killed import leaves
/// a hot journal that the next opener rolls back, cutting the file to its
/// size before. Durable: the commit runs with `synchronous=FULL` (journal
/// and database fsynced). A reader that opens the file during the import
/// may wait for it (up to the busy timeout) once it writes into the file;
/// there are no events to read yet. False, and nothing changed, when
/// another connection has the database open (SQLite then keeps the WAL):
/// the import then runs in the WAL.
fn rollback_journal(conn: &Connection) -> Result<bool, StoreError> {
    // Another connection's lock would otherwise hold the switch for the
    // whole busy timeout before it fails.
    conn.busy_timeout(Duration::ZERO).map_err(backend)?;
    let mode = conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get::<_, String>(0));
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    if !mode.is_ok_and(|m| m.eq_ignore_ascii_case("delete")) {
        return Ok(false);
    }
    conn.pragma_update(None, "synchronous", "FULL").map_err(backend)?;
    Ok(true)
}

/// Back to the WAL after [`rollback_journal`] (and to the import's
/// `synchronous=NORMAL`, which [`SqliteStore::import`] then resets).
fn wal_journal(conn: &Connection) -> Result<(), StoreError> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(backend)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Backend(format!("cannot switch back to WAL mode after an import (got {mode})")));
    }
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(backend)
}

/// Bulk-load mode: when an import writes many rows relative to what the
/// table holds, dropping its indexes, writing, and recreating them (SQLite
/// builds an index by sorting) is several times faster than updating the
/// B-trees row by row. DDL is transactional in SQLite, so a failed or killed
/// import restores the indexes with everything else.
pub(crate) struct BulkIndexes {
    /// (name, CREATE INDEX statement) as recorded in the schema.
    dropped: Vec<(String, String)>,
}

impl BulkIndexes {
    /// Nothing dropped, nothing to rebuild.
    pub(crate) fn none() -> BulkIndexes {
        BulkIndexes { dropped: Vec::new() }
    }

    /// Writes at least this share of the rows the table will hold.
    const MIN_SHARE: f64 = 0.25;
    /// And at least this many: small imports are fast either way.
    const MIN_WRITES: i64 = 20_000;

    pub(crate) fn drop_if_worth_it(
        conn: &Connection,
        table: &str,
        writes: i64,
        stored_rows: i64,
    ) -> Result<BulkIndexes, StoreError> {
        let worth_it = writes >= Self::MIN_WRITES && writes as f64 >= Self::MIN_SHARE * (stored_rows + writes) as f64;
        if !worth_it {
            return Ok(BulkIndexes { dropped: Vec::new() });
        }
        let mut stmt = conn
            .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL")
            .map_err(backend)?;
        let dropped = stmt
            .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(backend)?
            .collect::<Result<Vec<(String, String)>, _>>()
            .map_err(backend)?;
        for (name, _) in &dropped {
            conn.execute_batch(&format!("DROP INDEX \"{name}\"")).map_err(backend)?;
        }
        Ok(BulkIndexes { dropped })
    }

    /// Page cache while the indexes are built. SQLite's sorter cuts its input
    /// into runs the size of the page cache (at least 250 pages), sorts each
    /// and merges them: runs of a few MiB sort within the CPU caches, where
    /// one run of a whole 1M-row index is bound by memory latency (measured:
    /// 1.9 s instead of 3.2 s CPU for the four event indexes of 1M rows).
    /// The table scan that feeds each index reads every page once, so it
    /// gains nothing from a larger cache.
    const SORT_CACHE_KIB: i64 = 4096;

    pub(crate) fn recreate(self, conn: &Connection) -> Result<(), StoreError> {
        if self.dropped.is_empty() {
            return Ok(());
        }
        let cache_kib: i64 = conn.pragma_query_value(None, "cache_size", |r| r.get(0)).map_err(backend)?;
        conn.pragma_update(None, "cache_size", -Self::SORT_CACHE_KIB).map_err(backend)?;
        for (_, sql) in &self.dropped {
            conn.execute_batch(sql).map_err(backend)?;
        }
        conn.pragma_update(None, "cache_size", cache_kib).map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use vitalcore_framework::{Place, Provenance, Tags};

    use super::*;

    fn event(id: usize, country: &str, note: &str) -> Event {
        Event {
            provenance: Provenance {
                source: Source::Acled,
                source_id: format!("T{id}"),
                file: "t.csv".to_string(),
                line: id as u64 + 2,
            },
            date: jiff::civil::Date::constant(2020, 1 + (id % 12) as i8, 1 + (id % 28) as i8),
            date_end: None,
            place: Place { country: Some(country.to_string()), iso3: Some("MLI".to_string()), ..Place::default() },
            event_type: "Battles".to_string(),
            sub_event_type: Some("Armed clash".to_string()),
            actor1: Some("Group A".to_string()),
            actor2: None,
            fatalities: (id % 5) as u32,
            civilian_fatalities: None,
            civilian_targeting: false,
            notes: Some(note.to_string()),
            tags: Tags {
                dimensions: vec!["personal".to_string(), "political".to_string()],
                themes: Vec::new(),
                severity: 2,
                rule: "acled:Battles/Armed clash".to_string(),
            },
        }
    }

    fn file(path: &str, rows: usize) -> ImportFile {
        ImportFile {
            path: path.to_string(),
            sha256: "0".repeat(64),
            format: "acled-current".to_string(),
            rows_read: rows as u64,
            rows_rejected: 0,
        }
    }

    /// Without the background checkpoint the imported pages would stay in
    /// the WAL and the database file would keep its size after migration
    /// (a few pages).
    #[test]
    fn import_checkpoints_into_the_database_file_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let store = SqliteStore::open(&path).unwrap();
        let note = "x".repeat(400);
        let batch: Vec<Event> = (0..20_000).map(|i| event(i, "Mali", &note)).collect();
        store.import_events(&file("c.csv", batch.len()), &batch).unwrap();
        store.wait_for_checkpoint();
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size > 20_000 * 400, "the database file holds {size} bytes after the checkpoint");
    }

    /// Any commit that leaves more than [`WAL_CHECKPOINT_PAGES`] in the WAL
    /// starts a checkpoint in the background (SQLite's inline one is off:
    /// its hook is the store's).
    #[test]
    fn commits_that_fill_the_wal_are_checkpointed_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let store = SqliteStore::open(&path).unwrap();
        let inline: i64 = store.writer().query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)).unwrap();
        assert_eq!(inline, 0, "SQLite checkpoints nothing inside a commit");
        let before = std::fs::metadata(&path).unwrap().len();
        {
            let mut conn = store.writer();
            let tx = conn.transaction().unwrap();
            tx.execute_batch("CREATE TABLE filler (x BLOB)").unwrap();
            for _ in 0..WAL_CHECKPOINT_PAGES + 100 {
                tx.execute("INSERT INTO filler VALUES (zeroblob(16000))", []).unwrap();
            }
            tx.commit().unwrap();
        }
        store.wait_for_checkpoint();
        let after = std::fs::metadata(&path).unwrap().len();
        assert!(after > before + 16_000 * WAL_CHECKPOINT_PAGES as u64, "{before} -> {after} bytes");
    }

    /// Under a steady stream of commits, background checkpoints still get
    /// to the end of the WAL, so that it starts over instead of growing
    /// with everything written (passive ones alone never do).
    #[test]
    fn a_steady_stream_of_commits_still_lets_the_wal_start_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = SqliteStore::open(&path).unwrap();
        let conn = store.writer();
        // The fsyncs are not what this is about: quick commits, a steady stream.
        conn.pragma_update(None, "synchronous", "OFF").unwrap();
        conn.execute_batch("CREATE TABLE filler (x BLOB)").unwrap();
        let rows = 10 * WAL_CHECKPOINT_PAGES;
        for i in 0..rows {
            conn.execute("INSERT INTO filler VALUES (zeroblob(16000))", []).unwrap();
            // Reports arrive over the network, never back to back without a
            // gap: a pause now and then lets the checkpoint thread be
            // scheduled on a loaded machine (CI's two cores running tests;
            // one pause in 20 commits still failed once there under load).
            if i % 10 == 9 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        drop(conn);
        store.wait_for_checkpoint();
        let wal = std::fs::metadata(dir.path().join("s.db-wal")).unwrap().len();
        let written = (rows * PAGE_SIZE) as u64;
        let most = ((WAL_INLINE_CHECKPOINT_PAGES + 100) * (PAGE_SIZE + 24)) as u64;
        assert!(wal < most, "the WAL holds {wal} bytes after {written} were written: it never started over");
    }

    /// Every commit waits for the disk (a report's reference survives a
    /// power cut); an import relaxes that for itself only.
    #[test]
    fn commits_are_durable_and_only_imports_relax_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("d.db")).unwrap();
        let synchronous =
            |s: &SqliteStore| -> i64 { s.writer().query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap() };
        assert_eq!(synchronous(&store), 2, "synchronous=FULL");
        let batch: Vec<Event> = (0..10).map(|i| event(i, "Mali", "n")).collect();
        store.import_events(&file("d.csv", batch.len()), &batch).unwrap();
        assert_eq!(synchronous(&store), 2, "FULL again after an import");
        use vitalcore_store::reports::ReportStore;
        let report = vitalcore_store::testing::reports::full_report(1);
        store.insert_report(&report).unwrap();
        store.add_duplicate_links(&report.reference, &report.duplicates[..1]).unwrap();
        assert_eq!(synchronous(&store), 2, "FULL again after back links");
        drop(store);
        let store = SqliteStore::open(dir.path().join("d.db")).unwrap();
        assert_eq!(synchronous(&store), 2, "and on every open");
    }

    /// Repeated strings are stored once, and the `events_text` view puts
    /// them back.
    #[test]
    fn repeated_strings_are_stored_once_and_read_back_as_text() {
        let store = SqliteStore::open_in_memory().unwrap();
        let batch: Vec<Event> = (0..50).map(|i| event(i, if i % 2 == 0 { "Mali" } else { "Niger" }, "n")).collect();
        store.import_events(&file("s.csv", batch.len()), &batch).unwrap();
        let conn = store.writer();
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        // Mali, Niger, MLI, Battles, Armed clash, Group A, personal;political,
        // the empty theme list, the rule, t.csv.
        assert_eq!(count("SELECT count(*) FROM strings"), 10);
        assert_eq!(
            count("SELECT count(*) FROM events_text WHERE country = 'Niger' AND dimensions = 'personal;political'"),
            25
        );
        let (rule, file, stored_at): (String, String, String) = conn
            .query_row("SELECT rule, file, stored_at FROM events_text WHERE source_id = 'T7'", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((rule.as_str(), file.as_str()), ("acled:Battles/Armed clash", "t.csv"));
        assert!(stored_at.parse::<jiff::Timestamp>().is_ok(), "{stored_at}");
    }
}
