//! Which database the data lives in, decided in one place: an embedded
//! SQLite file or a PostgreSQL server, and the stores opened on it.
//!
//! The rule for telling a database string apart ([`Database::parse`]): it
//! names PostgreSQL when it is a URL starting `postgres://` or
//! `postgresql://`, or a libpq connection string of `keyword=value` pairs
//! whose first keyword is one libpq knows (`host=... dbname=...`,
//! `dbname=vitalcore user=me`); anything else is the path of a SQLite file.
//!
//! Every store of one database (events, community reports, forecasts) is
//! opened on one store object: one connection pool, one schema migration.
//! The intake service over a database ([`reports_service`]) is set up here
//! too, for the CLI and the server alike.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;
use vitalcore_classify::{Classifier, Model};
use vitalcore_intake::{CategoryMap, ContactKey};
use vitalcore_store::forecasts::ForecastStore;
use vitalcore_store::mandates::MandateStore;
use vitalcore_store::reports::ReportStore;
use vitalcore_store::sync::SyncStore;
use vitalcore_store::{Store, StoreError};
use vitalcore_store_postgres::PostgresStore;
use vitalcore_store_sqlite::SqliteStore;

use crate::reports::{IntakeConfig, Reports, SetupError};

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An embedded SQLite database file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection string: a `postgres://` / `postgresql://` URL
    /// or libpq `keyword=value` pairs.
    Postgres(String),
}

/// The connection keywords libpq documents; a string whose first
/// `keyword=` is one of these is a PostgreSQL connection string.
const LIBPQ_KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "require_auth",
    "channel_binding",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "sslmode",
    "requiressl",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "service",
    "target_session_attrs",
    "load_balance_hosts",
];

impl Database {
    /// A database string as users write it (see the module documentation
    /// for the rule): a PostgreSQL URL or libpq string, else a SQLite path.
    pub fn parse(text: &str) -> Database {
        if is_postgres(text) { Database::Postgres(text.to_string()) } else { Database::Sqlite(PathBuf::from(text)) }
    }

    /// The database the two usual options name: a PostgreSQL connection
    /// string when one is given (taken as such, whatever it looks like),
    /// else the SQLite file.
    pub fn from_options(sqlite: &Path, postgres: Option<&str>) -> Database {
        match postgres {
            Some(url) => Database::Postgres(url.to_string()),
            None => Database::Sqlite(sqlite.to_path_buf()),
        }
    }

    /// Opens (a SQLite file is created if missing) and migrates the
    /// database: every store on one store object.
    pub fn open(&self) -> Result<Stores, StoreError> {
        Ok(match self {
            Database::Sqlite(path) => Stores::on(Arc::new(SqliteStore::open(path)?)),
            Database::Postgres(url) => Stores::on(Arc::new(PostgresStore::connect(url)?)),
        })
    }

    /// The event store (imported events, boundaries, indicators).
    pub fn open_events(&self) -> Result<Arc<dyn Store>, StoreError> {
        Ok(self.open()?.events)
    }

    /// The report store (community reports, users, sessions, tokens, alert
    /// steps, the contact audit log, the outbox).
    pub fn open_reports(&self) -> Result<Arc<dyn ReportStore>, StoreError> {
        Ok(self.open()?.reports)
    }

    /// The forecast store (forecast runs and the early-warning queue).
    pub fn open_forecasts(&self) -> Result<Arc<dyn ForecastStore>, StoreError> {
        Ok(self.open()?.forecasts)
    }

    /// Where the data lives, for messages (never a connection string, which
    /// may hold a password).
    pub fn location(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(_) => "the PostgreSQL database".to_string(),
        }
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.location())
    }
}

/// Whether `text` is a PostgreSQL connection string (see the module doc).
fn is_postgres(text: &str) -> bool {
    let text = text.trim_start();
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return true;
    }
    let Some((keyword, _)) = text.split_once('=') else { return false };
    let keyword = keyword.trim_end();
    LIBPQ_KEYWORDS.contains(&keyword)
}

/// The stores of one database, all on one store object.
#[derive(Clone)]
pub struct Stores {
    pub events: Arc<dyn Store>,
    pub reports: Arc<dyn ReportStore>,
    pub forecasts: Arc<dyn ForecastStore>,
    /// Synchronisation between field offices and headquarters.
    pub sync: Arc<dyn SyncStore>,
    /// Security Council resolutions, read and tagged.
    pub mandates: Arc<dyn MandateStore>,
}

impl Stores {
    /// Every store on `store`.
    pub fn on<S: Store + ReportStore + ForecastStore + SyncStore + MandateStore + 'static>(store: Arc<S>) -> Stores {
        Stores {
            events: store.clone(),
            reports: store.clone(),
            forecasts: store.clone(),
            sync: store.clone(),
            mandates: store,
        }
    }
}

impl fmt::Debug for Stores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

/// Why the intake service could not be set up.
#[derive(Debug, Error)]
pub enum ServiceError {
    #[error("cannot load the classifier model {}", path.display())]
    Model {
        path: PathBuf,
        #[source]
        source: vitalcore_classify::Error,
    },
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The classifier reading report text: the trained model at `model`, or the
/// built-in lexicon (cold start) without one.
pub fn load_classifier(model: Option<&Path>) -> Result<Classifier, ServiceError> {
    Ok(match model {
        Some(path) => Classifier::Model(Box::new(
            Model::load(path).map_err(|source| ServiceError::Model { path: path.to_path_buf(), source })?,
        )),
        None => Classifier::lexicon_only(),
    })
}

/// The intake service (validation, text reading, placement, duplicates)
/// over the report store `reports`, placing reports with the boundaries
/// stored in `events`, reading text with [`load_classifier`]`(model)` and
/// sealing contacts with `key` (without one, contacts are refused).
pub fn reports_service(
    events: &dyn Store,
    reports: Arc<dyn ReportStore>,
    key: Option<ContactKey>,
    config: IntakeConfig,
    model: Option<&Path>,
) -> Result<Reports, ServiceError> {
    let classifier = load_classifier(model)?;
    let areas = events.areas()?;
    Ok(Reports::new(reports, key, CategoryMap::built_in(), classifier, &areas, config, jiff::Timestamp::now())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_libpq_strings_are_postgres_and_anything_else_a_file() {
        for pg in [
            "postgres://user@host/db",
            "postgresql://user:secret@10.0.0.1:5433/vitalcore?sslmode=require",
            "host=127.0.0.1 user=postgres dbname=test",
            "dbname=vitalcore user=me",
            "  host = db.example.org port=5432",
        ] {
            assert_eq!(Database::parse(pg), Database::Postgres(pg.to_string()), "{pg}");
        }
        for file in ["vitalcore.db", "postgres.db", "/data/postgresql/v.db", "./a=b.db", "/tmp/host=x/v.db", ""] {
            assert_eq!(Database::parse(file), Database::Sqlite(PathBuf::from(file)), "{file}");
        }
    }
}
