//! The stored events as the analysis endpoints read them: one compact
//! [`EventTable`] shared by every request, loaded once and again only after
//! the data changed, without making readers wait for the reload.
//!
//! Each request asks the store for its [`DataVersion`] (one small query)
//! and uses the snapshot when the versions match. When they do not, the
//! request starts one background reload (never two at once) and answers
//! from the previous snapshot: an import makes no reader wait (before, the
//! first request after an import of 2M events waited about 4 s for the
//! reload, and every other request waited behind it, issue 14). The new
//! snapshot replaces the old one whole when it is ready, so a request sees
//! either the data before the import or after it, never a mix; the version
//! is read before the events, so a snapshot is at least as new as its
//! version says, and an import landing during a reload starts another
//! reload on the next request. Only the very first load, with nothing to
//! serve yet, is waited for (by every request that arrives meanwhile, one
//! load for all: single flight).
//!
//! Memory: the table costs about 40 bytes an event plus one copy of each
//! distinct name (44.7 MB for 1M synthetic ACLED-shaped events,
//! bench/server/RESULTS.md). During a reload the old and the new table live
//! side by side, twice that for the length of the reload.

use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Held by the one request making the first load.
    loading: Mutex<()>,
    /// Set while a background reload runs.
    reloading: AtomicBool,
}

impl EventSnapshots {
    /// The newest snapshot there is: the events as stored now, or, while a
    /// reload of newer data runs, the previous ones. Blocks on store reads
    /// (and on the first load): call it from `spawn_blocking`.
    pub fn current(self: &Arc<Self>, store: &Arc<dyn Store>) -> Result<Arc<Snapshot>, StoreError> {
        let version = store.data_version()?;
        if let Some(snapshot) = self.slot().clone() {
            if snapshot.version != version {
                self.reload_in_background(store.clone());
            }
            return Ok(snapshot);
        }
        let _one_at_a_time = self.loading.lock().unwrap_or_else(|p| p.into_inner());
        // The request that held the lock may have loaded it.
        if let Some(snapshot) = self.slot().clone() {
            return Ok(snapshot);
        }
        let snapshot = load(&**store)?;
        *self.slot() = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// Whether a background reload is running (for tests and status).
    pub fn is_reloading(&self) -> bool {
        self.reloading.load(Ordering::Acquire)
    }

    /// Starts a reload on a thread of its own unless one runs already.
    fn reload_in_background(self: &Arc<Self>, store: Arc<dyn Store>) {
        if self.reloading.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        let spawned = std::thread::Builder::new().name("snapshot-reload".into()).spawn(move || {
            match load(&*store) {
                Ok(snapshot) => *this.slot() = Some(snapshot),
                // The previous snapshot keeps answering; the next request tries again.
                Err(e) => tracing::warn!("reloading the events for the analyses failed: {e}"),
            }
            this.reloading.store(false, Ordering::Release);
        });
        if let Err(e) = spawned {
            tracing::warn!("cannot start the snapshot reload: {e}");
            self.reloading.store(false, Ordering::Release);
        }
    }

    fn slot(&self) -> MutexGuard<'_, Option<Arc<Snapshot>>> {
        // The slot only ever holds a whole snapshot or none: a panic elsewhere cannot leave it half-written.
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads every stored event into a new snapshot (the version first).
fn load(store: &dyn Store) -> Result<Arc<Snapshot>, StoreError> {
    let version = store.data_version()?;
    let mut builder = EventTable::default().extend();
    store.for_each_event(&EventFilter::default(), &mut |event| builder.push(&event))?;
    Ok(Arc::new(Snapshot { version, table: builder.finish() }))
}
