//! The storage interface, every trait of it and its one error type: events
//! and tables ([`Store`]), forecasts and early warnings
//! ([`forecasts::ForecastStore`]), community reports, accounts and the audit
//! trail ([`reports::ReportStore`]), Security Council resolutions read and
//! tagged ([`mandates::MandateStore`]). Callers (the application layer) use only
//! these traits; `vitalcore-store-sqlite` (the embedded default) and
//! `vitalcore-store-postgres` implement them, each with its own migrations.
//!
//! The interface is synchronous: SQLite is in-process, and the server calls
//! the store from `spawn_blocking`.
//!
//! Code every backend shares lives here too, so that all of them store and
//! compare records the same way: [`fingerprint`] (content fingerprints and
//! the batch rule for repeated ids) and [`columns`] and [`report_codec`] (column encodings).

pub mod columns;
pub mod fingerprint;
pub mod forecasts;
pub mod mandates;
pub mod notify;
pub mod report_codec;
pub mod reports;
pub mod sync;
#[cfg(feature = "testing")]
pub mod testing;

use serde::{Deserialize, Serialize};
use thiserror::Error;
pub use vitalcore_framework::{Area, ImportFile};
use vitalcore_framework::{Event, Month, Observation, Source};

/// Takes each event of a streamed import ([`Store::import_events_streamed`]).
pub type EventSink<'a> = &'a mut dyn FnMut(Event) -> Result<(), StoreError>;

/// Reads a file for a streamed import: hands each event to the sink, then
/// returns the file's record.
pub type EventSource<'a> = &'a mut dyn FnMut(EventSink<'_>) -> Result<ImportFile, StoreError>;

#[derive(Debug, Error, PartialEq)]
pub enum StoreError {
    #[error("cannot open the database {location}: {reason}")]
    Open { location: String, reason: String },
    #[error(
        "the database {location} was written by a newer vitalcore (schema version {found}, this build knows up to {known}); upgrade vitalcore"
    )]
    TooNew { location: String, found: i64, known: i64 },
    #[error("database error: {0}")]
    Backend(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// One batch holds two different records under one id: the store cannot
    /// tell which is the revision, so nothing from the batch is stored.
    #[error(
        "{file}: {what} `{id}` ({id_source}) appears twice with different content, at lines {first_line} and \
         {second_line}; nothing from this file was stored. Keep one of the two rows and import the file again"
    )]
    BatchConflict { file: String, what: String, id: String, id_source: String, first_line: u64, second_line: u64 },
    /// A write that would break a uniqueness or append-only rule: a reference
    /// or username already used, a step or status change whose position is
    /// taken (two people acting at once). The message says what to do.
    #[error("{0}")]
    Conflict(String),
    /// The record a write names does not exist.
    #[error("{0} not found")]
    NotFound(String),
}

/// What importing one batch did to the store. `imported` are new records,
/// `updated` are revised source records (the prior version is kept),
/// `unchanged` are exact duplicates of what is stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Which events to read. Empty filter = all events.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EventFilter {
    pub from: Option<Month>,
    pub to: Option<Month>,
    pub source: Option<Source>,
    /// Country name as stored (case-insensitive).
    pub country: Option<String>,
}

/// One stored version of a source event; the newest is the current record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventVersion {
    pub version: u32,
    /// RFC 3339 time the version was stored.
    pub stored_at: String,
    pub event: Event,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCounts {
    pub events: u64,
    /// Prior versions kept for revised events.
    pub prior_versions: u64,
    pub observations: u64,
    pub areas: u64,
    pub imports: u64,
}

/// The store. Every method that writes does so in one transaction: it lands
/// whole or not at all, even if the process is killed mid-write.
pub trait Store: Send + Sync {
    /// Adds or revises events from one file. Events are identified by
    /// (source, source_id); an event whose content differs from the stored one
    /// replaces it and the stored one is kept as a prior version.
    fn import_events(&self, file: &ImportFile, events: &[Event]) -> Result<ImportCounts, StoreError>;

    /// [`Store::import_events`] on events handed over as they are read, in
    /// one transaction all the same: `source` calls the sink with each event
    /// and returns the file's record (its hash and row counts are known only
    /// at the end). Nothing is stored if `source` or the sink fails. A
    /// backend that streams keeps memory bounded whatever the file's size
    /// (a 16-byte table entry per distinct id, for the batch rule); this default
    /// collects the events and calls `import_events`. `expected_rows` is an
    /// estimate (bulk-load decisions), not a limit.
    fn import_events_streamed(&self, expected_rows: u64, source: EventSource<'_>) -> Result<ImportCounts, StoreError> {
        let _ = expected_rows;
        let mut events = Vec::new();
        let file = source(&mut |e| {
            events.push(e);
            Ok(())
        })?;
        self.import_events(&file, &events)
    }

    /// Adds or revises rows of tagged tables (HXL), same contract as events.
    fn import_observations(&self, file: &ImportFile, rows: &[Observation]) -> Result<ImportCounts, StoreError>;

    /// Streams stored observations (current versions).
    fn for_each_observation(&self, visit: &mut dyn FnMut(Observation)) -> Result<u64, StoreError>;

    /// Adds or replaces administrative areas (by P-code).
    fn save_areas(&self, areas: &[Area]) -> Result<usize, StoreError>;

    fn areas(&self) -> Result<Vec<Area>, StoreError>;

    /// Streams the current version of every event matching `filter`, ordered
    /// by date; returns how many were visited.
    fn for_each_event(&self, filter: &EventFilter, visit: &mut dyn FnMut(Event)) -> Result<u64, StoreError>;

    /// Every stored version of one source event, oldest first.
    fn event_history(&self, source: Source, source_id: &str) -> Result<Vec<EventVersion>, StoreError>;

    fn counts(&self) -> Result<StoreCounts, StoreError>;

    /// Files imported so far, newest first.
    fn imports(&self) -> Result<Vec<ImportFile>, StoreError>;

    /// A cheap marker of the stored events: it changes whenever an import
    /// commits, so a cache of events built after reading version `v` is
    /// current while `data_version()` still answers `v`. Read it *before*
    /// the events the cache holds: an import landing in between then only
    /// costs a needless rebuild, never a stale answer. Only equality means
    /// anything; areas are not covered (see [`Store::areas`]).
    fn data_version(&self) -> Result<DataVersion, StoreError>;
}

/// What [`Store::data_version`] answers. Both backends record every import
/// (events or observations, also one that changed nothing) as a row of
/// `imports`, in the transaction that writes its rows, and never delete one:
/// the number of those rows and the highest id change with every commit,
/// whichever process made it. (A database swapped for an older copy under
/// a running server could repeat a version: restart the server then.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataVersion {
    pub imports: u64,
    pub last_import_id: i64,
}

/// Convenience: collect events matching a filter.
pub fn events(store: &dyn Store, filter: &EventFilter) -> Result<Vec<Event>, StoreError> {
    let mut out = Vec::new();
    store.for_each_event(filter, &mut |e| out.push(e))?;
    Ok(out)
}
