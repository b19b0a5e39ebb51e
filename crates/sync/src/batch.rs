//! Batches of changes: what one push or pull carries, and the rules of
//! applying one (idempotent, one transaction, conflicts kept).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use vitalcore_intake::SealedContact;
use vitalcore_intake::workflow::{Alert, StepRecord};
use vitalcore_store::StoreError;
use vitalcore_store::sync::{Conflict, Direction, RecordKind, SyncRecord, SyncStore, SyncTx};

use crate::SyncError;

/// The changes of one push or pull, in change-log order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// `<sender node>:<from>-<to>`: the same range sent again has the same id.
    pub batch_id: String,
    /// The sender's change-log cursor before and after the batch.
    pub from_cursor: i64,
    pub to_cursor: i64,
    /// Whether more changes wait after this batch.
    pub more: bool,
    /// How many change-log entries in scope wait after this batch.
    pub pending_after: u64,
    pub records: Vec<SyncRecord>,
}

/// An office asking for HQ's changes after its cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    pub cursor: i64,
    pub limit: usize,
}

/// What applying a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// Records stored now.
    pub new: u64,
    /// Records already here (a batch delivered again, or a record that came another way).
    pub already: u64,
    /// Records kept as conflicts for an analyst.
    pub conflicts: u64,
    /// Whether this batch id had been applied before.
    pub repeated: bool,
}

/// Applies `batch` from `peer` (its name, for conflicts) in one
/// transaction, moving `cursor` in the same transaction when given.
/// Records whose origin is `here` (this node's id) came back home and are
/// already here.
pub fn apply_batch(
    store: &dyn SyncStore,
    here: &str,
    peer: &str,
    batch: &Batch,
    cursor: Option<(&str, Direction, i64)>,
    now: Timestamp,
) -> Result<Applied, SyncError> {
    let mut applied = Applied::default();
    store.apply(&mut |tx: &mut dyn SyncTx| {
        applied = Applied { repeated: tx.applied(&batch.batch_id)?, ..Applied::default() };
        for record in &batch.records {
            match apply_record(tx, here, peer, record, now)? {
                Outcome::New => applied.new += 1,
                Outcome::Already => applied.already += 1,
                Outcome::Conflict => applied.conflicts += 1,
            }
        }
        tx.set_origin(None)?;
        tx.finish(&batch.batch_id, peer, applied.new, now, cursor)
    })?;
    Ok(applied)
}

enum Outcome {
    New,
    Already,
    Conflict,
}

fn conflict(
    tx: &mut dyn SyncTx,
    peer: &str,
    kind: RecordKind,
    key: String,
    reason: String,
    record: &SyncRecord,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let record = serde_json::to_string(record).map_err(|e| StoreError::Backend(e.to_string()))?;
    tx.add_conflict(&Conflict { peer: peer.to_string(), kind, key, reason, record, at: now })?;
    Ok(Outcome::Conflict)
}

fn apply_record(
    tx: &mut dyn SyncTx,
    here: &str,
    peer: &str,
    record: &SyncRecord,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let origin = record.origin();
    let came_home = origin == here;
    match record {
        SyncRecord::Area { area, .. } => {
            if came_home || tx.area(&area.pcode)?.as_ref() == Some(area) {
                return Ok(Outcome::Already);
            }
            tx.set_origin(Some(origin))?;
            tx.save_area(area)?;
            Ok(Outcome::New)
        }
        SyncRecord::Report(r) => {
            let reference = &r.report.reference;
            if let Some(stored) = tx.report(reference)? {
                let same = stored.received_at == r.report.received_at && stored.text == r.report.text;
                if same {
                    return Ok(Outcome::Already);
                }
                return conflict(
                    tx,
                    peer,
                    RecordKind::Report,
                    reference.to_string(),
                    format!(
                        "reference {reference} is already used here by another report (drawn before this database \
                         joined the mission's synchronisation); the arriving report is kept here, not stored"
                    ),
                    record,
                    now,
                );
            }
            if came_home {
                return Ok(Outcome::Already);
            }
            let mut report = r.report.clone();
            report.contact = match &r.contact {
                Some(text) => Some(
                    SealedContact::from_stored(text)
                        .map_err(|e| StoreError::Backend(format!("report {reference}: {e}")))?,
                ),
                None => None,
            };
            tx.set_origin(Some(origin))?;
            match tx.insert_report(&report) {
                Ok(()) => Ok(Outcome::New),
                Err(StoreError::Conflict(why)) => {
                    conflict(tx, peer, RecordKind::Report, reference.to_string(), why, record, now)
                }
                Err(e) => Err(e),
            }
        }
        SyncRecord::Step(s) => {
            let step = &s.step;
            let alert_ref = &step.alert;
            let steps = tx.steps(alert_ref)?;
            if steps.iter().any(|k| same_step(k, step)) || came_home {
                return Ok(Outcome::Already);
            }
            let Some(report) = tx.report(alert_ref)? else {
                return conflict(
                    tx,
                    peer,
                    RecordKind::Step,
                    alert_ref.to_string(),
                    format!("alert {alert_ref} is not here; the step is kept until its report arrives"),
                    record,
                    now,
                );
            };
            let next = steps.len() as u32;
            // The fold decides: the step goes after the steps here when the
            // workflow accepts it there.
            let folded = Alert::for_report(&report)
                .replay(steps)
                .and_then(|mut alert| alert.apply(step.step.clone(), &step.user_id, step.at).map(|_| ()));
            if let Err(e) = folded {
                return conflict(
                    tx,
                    peer,
                    RecordKind::Step,
                    alert_ref.to_string(),
                    format!(
                        "step #{} ({}) by {} at {} does not follow the steps recorded here: {e}; both are kept, \
                         the recorded steps decide the alert's state",
                        step.seq,
                        step.step.name(),
                        step.user_id,
                        step.at
                    ),
                    record,
                    now,
                );
            }
            let placed = StepRecord { seq: next, ..step.clone() };
            tx.set_origin(Some(origin))?;
            match tx.append_step(&placed) {
                Ok(()) => {}
                Err(StoreError::Conflict(why)) => {
                    return conflict(tx, peer, RecordKind::Step, alert_ref.to_string(), why, record, now);
                }
                Err(e) => return Err(e),
            }
            if step.seq != next {
                // Both offices acted on the alert while apart: show it to an analyst.
                return conflict(
                    tx,
                    peer,
                    RecordKind::Step,
                    alert_ref.to_string(),
                    format!(
                        "step #{} ({}) by {} at {} was made while other steps were recorded here; it is kept \
                         as step #{next} and the alert's state follows all of them",
                        step.seq,
                        step.step.name(),
                        step.user_id,
                        step.at
                    ),
                    record,
                    now,
                )
                .map(|_| Outcome::New);
            }
            Ok(Outcome::New)
        }
    }
}

/// The identity of a step: its alert, content, author and time (not its position).
fn same_step(a: &StepRecord, b: &StepRecord) -> bool {
    a.alert == b.alert && a.step == b.step && a.user_id == b.user_id && a.at == b.at
}
