//! Applying events that come down from headquarters: each import's file
//! record travels ahead of its events ([`SyncRecord::Import`]), and the
//! events of one import are stored together under the import rule
//! ([`SyncTx::put_events`]): equal content changes nothing, a revised
//! event replaces the stored one as a re-import would.

use std::collections::HashMap;

use vitalcore_framework::Event;
use vitalcore_store::StoreError;
use vitalcore_store::sync::{ImportOf, SyncRecord, SyncTx};

use crate::Applied;

/// Events stored together (one plan and one write pass per run).
const EVENT_RUN: usize = 5_000;

/// The events of a batch waiting to be stored, one import at a time.
#[derive(Default)]
pub(crate) struct EventRun {
    /// File records seen in this batch, by (origin, import id there).
    imports: HashMap<(String, i64), ImportOf>,
    key: Option<(String, i64)>,
    events: Vec<Event>,
}

impl EventRun {
    /// Takes `record` when it is an import's file record or an event
    /// (returns whether it did); events of a node's own import that came
    /// back are already here.
    pub(crate) fn take(
        &mut self,
        tx: &mut dyn SyncTx,
        here: &str,
        record: &SyncRecord,
        applied: &mut Applied,
    ) -> Result<bool, StoreError> {
        match record {
            SyncRecord::Import(import) => {
                self.imports.insert((import.origin.clone(), import.id), (**import).clone());
                Ok(true)
            }
            SyncRecord::Event(e) if e.origin == here => {
                applied.already += 1;
                Ok(true)
            }
            SyncRecord::Event(e) => {
                let key = (e.origin.clone(), e.import);
                if self.key.as_ref() != Some(&key) || self.events.len() == EVENT_RUN {
                    self.flush(tx, applied)?;
                }
                if !self.imports.contains_key(&key) {
                    return Err(StoreError::Corrupt(format!(
                        "the batch holds event {} of import {} from node {} without that import's file record",
                        e.event.provenance.source_id, e.import, e.origin
                    )));
                }
                self.key = Some(key);
                self.events.push(e.event.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Stores the events waiting.
    pub(crate) fn flush(&mut self, tx: &mut dyn SyncTx, applied: &mut Applied) -> Result<(), StoreError> {
        let Some(key) = self.key.take() else { return Ok(()) };
        if self.events.is_empty() {
            return Ok(());
        }
        let counts = tx.put_events(&self.imports[&key], &self.events)?;
        applied.new += counts.imported + counts.updated;
        applied.already += counts.unchanged;
        self.events.clear();
        Ok(())
    }
}
