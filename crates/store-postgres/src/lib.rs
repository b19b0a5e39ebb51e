//! The PostgreSQL store: the same contract as the embedded SQLite store, for
//! a multi-user system of record.
//!
//! Durability: every connection runs with `synchronous_commit = on` (set
//! when it opens, over any server or role default), so a commit returns
//! only once the server has flushed it to disk. (A server run with
//! `fsync = off` cannot keep that promise; it is the server's setting.)
//!
//! Synchronous client (`postgres`), a small pool of connections, versioned
//! migrations (`migrations/*.sql`, applied at connect under an advisory
//! lock, recorded in `schema_migrations`), and an optional schema so that
//! several stores (or tests) can share one database. From inside a tokio
//! runtime call the store through `spawn_blocking`.
//!
//! Bulk import streams the batch with `COPY ... FROM STDIN (FORMAT binary)`
//! into a temporary table and merges it with three set-based statements
//! (archive revised rows, update them, insert new ones), all in one
//! transaction.

mod copy_rows;
mod events;
mod forecasts;
mod mandates;
mod migrate;
mod observations;
mod reports;

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

use postgres::{Client, Config, NoTls};
use vitalcore_framework::{Event, Observation, Source};
use vitalcore_store::{
    Area, DataVersion, EventFilter, EventVersion, ImportCounts, ImportFile, Store, StoreCounts, StoreError,
};

pub use migrate::{MIGRATION_COUNT, SCHEMA_VERSION};

/// Idle connections kept open.
const MAX_IDLE: usize = 4;

pub struct PostgresStore {
    config: Config,
    schema: Option<String>,
    location: String,
    idle: Mutex<Vec<Client>>,
}

/// A database error in words: PostgreSQL's own message and detail when the
/// server sent one.
pub(crate) fn backend(e: postgres::Error) -> StoreError {
    StoreError::Backend(describe(&e))
}

fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = format!("{} ({})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                text.push_str(": ");
                text.push_str(detail);
            }
            text
        }
        None => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgresql://user@host/db` or
    /// `host=127.0.0.1 user=postgres dbname=test`) and migrates the default
    /// schema (`public`, or whatever the role's search_path says).
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::open(url, None)
    }

    /// Like [`connect`](Self::connect), but keeps every table in `schema`
    /// (created if missing). Schema names are lower-case letters, digits and
    /// `_`.
    pub fn connect_with_schema(url: &str, schema: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::open(url, Some(schema))
    }

    fn open(url: &str, schema: Option<&str>) -> Result<PostgresStore, StoreError> {
        let config: Config = url.parse().map_err(|e: postgres::Error| StoreError::Open {
            location: "the PostgreSQL connection string".into(),
            reason: format!("{e}; write it as postgresql://USER@HOST/DATABASE or host=HOST user=USER dbname=DATABASE"),
        })?;
        let location = describe_location(&config, schema);
        let usable =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if let Some(schema) = schema.filter(|s| !usable(s)) {
            return Err(StoreError::Open {
                location,
                reason: format!("`{schema}` is not a usable schema name: use lower-case letters, digits and _"),
            });
        }
        let store = PostgresStore { config, schema: schema.map(str::to_owned), location, idle: Mutex::new(Vec::new()) };
        {
            let mut client = store.client()?;
            migrate::migrate(&mut client, &store.location)?;
        }
        Ok(store)
    }

    /// Where the store is, without credentials.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The `synchronous_commit` setting of the store's connections (`on`:
    /// each commit waits until it is flushed to disk).
    pub fn synchronous_commit(&self) -> Result<String, StoreError> {
        Ok(self.client()?.query_one("SHOW synchronous_commit", &[]).map_err(backend)?.get(0))
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        migrate::schema_version(&mut *self.client()?)
    }

    /// A pooled connection; returned to the pool when dropped.
    fn client(&self) -> Result<Pooled<'_>, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let client = match idle {
            Some(client) if !client.is_closed() => client,
            _ => self.new_client()?,
        };
        Ok(Pooled { store: self, client: Some(client) })
    }

    fn new_client(&self) -> Result<Client, StoreError> {
        let open_err = |e: postgres::Error| StoreError::Open { location: self.location.clone(), reason: describe(&e) };
        let mut client = self.config.connect(NoTls).map_err(open_err)?;
        // A commit returns once it is on disk, whatever the server's or the
        // role's default: a reference handed to a reporter, an alert step
        // and an audit entry survive a power cut of the database server.
        client.batch_execute("SET synchronous_commit TO on").map_err(open_err)?;
        if let Some(schema) = &self.schema {
            client
                .batch_execute(&format!(
                    "BEGIN;
                     SELECT pg_advisory_xact_lock(hashtext('vitalcore:create-schema'));
                     CREATE SCHEMA IF NOT EXISTS {schema};
                     COMMIT;
                     SET search_path TO {schema}"
                ))
                .map_err(open_err)?;
        }
        Ok(client)
    }
}

fn describe_location(config: &Config, schema: Option<&str>) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let db = config.get_dbname().or(config.get_user()).unwrap_or("postgres");
    match schema {
        Some(s) => format!("postgres database `{db}` on {host}, schema `{s}`"),
        None => format!("postgres database `{db}` on {host}"),
    }
}

struct Pooled<'a> {
    store: &'a PostgresStore,
    client: Option<Client>,
}

impl Deref for Pooled<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("present until drop")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        // A connection dropped mid-transaction (a panic) is not reused.
        if client.is_closed() || std::thread::panicking() {
            return;
        }
        let mut idle = self.store.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(client);
        }
    }
}

impl Store for PostgresStore {
    fn import_events(&self, file: &ImportFile, events: &[Event]) -> Result<ImportCounts, StoreError> {
        events::import(&mut *self.client()?, file, events)
    }

    fn import_events_streamed(
        &self,
        expected_rows: u64,
        source: vitalcore_store::EventSource<'_>,
    ) -> Result<ImportCounts, StoreError> {
        events::import_streamed(&mut *self.client()?, expected_rows, source)
    }

    fn import_observations(&self, file: &ImportFile, rows: &[Observation]) -> Result<ImportCounts, StoreError> {
        observations::import(&mut *self.client()?, file, rows)
    }

    fn for_each_observation(&self, visit: &mut dyn FnMut(Observation)) -> Result<u64, StoreError> {
        observations::for_each(&mut *self.client()?, visit)
    }

    fn save_areas(&self, areas: &[Area]) -> Result<usize, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(backend)?;
        let upsert = tx
            .prepare(
                "INSERT INTO areas (pcode, name, level, parent_pcode, country, geometry)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (pcode) DO UPDATE SET name = excluded.name, level = excluded.level,
                     parent_pcode = excluded.parent_pcode, country = excluded.country,
                     geometry = excluded.geometry",
            )
            .map_err(backend)?;
        for a in areas {
            let level = i16::from(a.level);
            tx.execute(&upsert, &[&a.pcode, &a.name, &level, &a.parent_pcode, &a.country, &a.geometry])
                .map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
        Ok(areas.len())
    }

    fn areas(&self) -> Result<Vec<Area>, StoreError> {
        let rows = self
            .client()?
            .query("SELECT pcode, name, level, parent_pcode, country, geometry FROM areas ORDER BY level, pcode", &[])
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let level: i16 = r.get(2);
                Ok(Area {
                    pcode: r.get(0),
                    name: r.get(1),
                    level: u8::try_from(level)
                        .map_err(|_| StoreError::Corrupt(format!("area level {level} is out of range")))?,
                    parent_pcode: r.get(3),
                    country: r.get(4),
                    geometry: r.get(5),
                })
            })
            .collect()
    }

    fn for_each_event(&self, filter: &EventFilter, visit: &mut dyn FnMut(Event)) -> Result<u64, StoreError> {
        events::for_each(&mut *self.client()?, filter, visit)
    }

    fn event_history(&self, source: Source, source_id: &str) -> Result<Vec<EventVersion>, StoreError> {
        events::history(&mut *self.client()?, source, source_id)
    }

    fn counts(&self) -> Result<StoreCounts, StoreError> {
        let row = self
            .client()?
            .query_one(
                "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM event_versions),
                        (SELECT count(*) FROM observations), (SELECT count(*) FROM areas),
                        (SELECT count(*) FROM imports)",
                &[],
            )
            .map_err(backend)?;
        let n = |i: usize| row.get::<_, i64>(i) as u64;
        Ok(StoreCounts { events: n(0), prior_versions: n(1), observations: n(2), areas: n(3), imports: n(4) })
    }

    fn data_version(&self) -> Result<DataVersion, StoreError> {
        let row = self
            .client()?
            .query_one("SELECT count(*), coalesce(max(id), 0)::int8 FROM imports", &[])
            .map_err(backend)?;
        Ok(DataVersion { imports: row.get::<_, i64>(0) as u64, last_import_id: row.get(1) })
    }

    fn imports(&self) -> Result<Vec<ImportFile>, StoreError> {
        let rows = self
            .client()?
            .query("SELECT path, sha256, format, rows_read, rows_rejected FROM imports ORDER BY id DESC", &[])
            .map_err(backend)?;
        Ok(rows
            .iter()
            .map(|r| ImportFile {
                path: r.get(0),
                sha256: r.get(1),
                format: r.get(2),
                rows_read: r.get::<_, i64>(3) as u64,
                rows_rejected: r.get::<_, i64>(4) as u64,
            })
            .collect())
    }
}

/// Serialises imports into one schema (they would otherwise race on new
/// ids) without blocking imports into other schemas.
pub(crate) const LOCK_IMPORTS: &str = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':imports'))";

/// Records one import batch; returns its id.
pub(crate) fn start_import(
    tx: &mut postgres::Transaction<'_>,
    file: &ImportFile,
    kind: &str,
) -> Result<i64, StoreError> {
    let row = tx
        .query_one(
            "INSERT INTO imports (path, sha256, format, kind, rows_read, rows_rejected, imported_at)
             VALUES ($1, $2, $3, $4, $5, $6, now()) RETURNING id",
            &[&file.path, &file.sha256, &file.format, &kind, &(file.rows_read as i64), &(file.rows_rejected as i64)],
        )
        .map_err(backend)?;
    Ok(row.get(0))
}

pub(crate) fn finish_import(
    tx: &mut postgres::Transaction<'_>,
    import_id: i64,
    counts: &ImportCounts,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE imports SET imported = $1, updated = $2, unchanged = $3 WHERE id = $4",
        &[&(counts.imported as i64), &(counts.updated as i64), &(counts.unchanged as i64), &import_id],
    )
    .map_err(backend)?;
    Ok(())
}

/// RFC 3339 text of a `timestamptz` column, in UTC.
pub(crate) fn rfc3339(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
}

pub(crate) fn to_i32(v: u32, what: &str) -> Result<i32, StoreError> {
    i32::try_from(v).map_err(|_| StoreError::Backend(format!("{what} {v} is too large to store")))
}
