//! The stored events as the analysis endpoints read them: one compact
//! [`EventTable`] shared by every request, loaded once and again only after
//! the data changed.
//!
//! Each request asks the store for its [`DataVersion`] (one small query)
//! and uses the snapshot when the versions match. Otherwise one request
//! loads a new snapshot while the others that need it wait for that one
//! (single flight), instead of each reading the whole store. The version is
//! read before the events, so an import landing during a load leaves a
//! snapshot that is at least as new as its version says: the next request
//! sees a new version and loads again, never an old answer.
//!
//! Memory: the table costs about 40 bytes an event plus one copy of each
//! distinct name (44.7 MB for 1M synthetic ACLED-shaped events,
//! bench/server/RESULTS.md), instead of the ~1 KB an event that each request
//! held before. While a new snapshot loads, the old one lives on only in the
//! requests still answering from it.

use std::sync::{Arc, Mutex, MutexGuard};
use vitalcore_assess::EventTable;
use vitalcore_store::{DataVersion, EventFilter, Store, StoreError};

/// The events of one data version.
pub struct Snapshot {
    pub version: DataVersion,
    pub table: EventTable,
}

#[derive(Default)]
pub struct EventSnapshots {
    current: Mutex<Option<Arc<Snapshot>>>,
    /// Held by the one request that is loading a snapshot.
    loading: Mutex<()>,
}

impl EventSnapshots {
    /// The snapshot of the events as stored now. Blocks (store reads, and
    /// waiting for another request's load): call it from `spawn_blocking`.
    pub fn current(&self, store: &dyn Store) -> Result<Arc<Snapshot>, StoreError> {
        if let Some(fresh) = self.fresh(store.data_version()?) {
            return Ok(fresh);
        }
        let _one_at_a_time = self.loading.lock().unwrap_or_else(|p| p.into_inner());
        // Read again: the request that held the lock may have loaded it.
        let version = store.data_version()?;
        if let Some(fresh) = self.fresh(version) {
            return Ok(fresh);
        }
        // Let go of the old table before loading the new one.
        *self.slot() = None;
        let mut builder = EventTable::default().extend();
        store.for_each_event(&EventFilter::default(), &mut |event| builder.push(&event))?;
        let snapshot = Arc::new(Snapshot { version, table: builder.finish() });
        *self.slot() = Some(snapshot.clone());
        Ok(snapshot)
    }

    fn fresh(&self, version: DataVersion) -> Option<Arc<Snapshot>> {
        self.slot().as_ref().filter(|s| s.version == version).cloned()
    }

    fn slot(&self) -> MutexGuard<'_, Option<Arc<Snapshot>>> {
        // The slot only ever holds a whole snapshot or none: a panic elsewhere cannot leave it half-written.
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }
}
