//! Batches of changes: what one push or pull carries, and the rules of
//! applying one (idempotent, one transaction, conflicts kept).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use vitalcore_intake::SealedContact;
use vitalcore_intake::notify::NotificationDraft;
use vitalcore_intake::workflow::{Alert, StepRecord};
use vitalcore_store::StoreError;
use vitalcore_store::sync::{Conflict, Direction, RecordKind, SyncRecord, SyncStore, SyncTx, UserOf};

use crate::SyncError;
use crate::events::EventRun;
use crate::follow_ups::{FOLLOW_UP_RUN, apply_follow_ups, is_follow_up};

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
        // Reports in a row are checked and inserted together (two queries
        // for hundreds of reports instead of two each).
        let mut run: Vec<&SyncRecord> = Vec::new();
        // Follow-ups in a row (steps, outbox changes, corrections) have
        // their reads done together (see `follow_ups`).
        let mut follow_ups: Vec<&SyncRecord> = Vec::new();
        let mut events = EventRun::default();
        for record in &batch.records {
            if events.take(tx, here, record, &mut applied)? {
                continue;
            }
            if !is_follow_up(record) || follow_ups.len() == FOLLOW_UP_RUN {
                apply_follow_ups(tx, here, peer, &follow_ups, now, &mut applied)?;
                follow_ups.clear();
            }
            let same_run = run.last().is_none_or(|last| last.origin() == record.origin());
            if !matches!(record, SyncRecord::Report(_)) || !same_run || run.len() == REPORT_RUN {
                apply_reports(tx, here, peer, &run, now, &mut applied)?;
                run.clear();
            }
            if matches!(record, SyncRecord::Report(_)) {
                run.push(record);
                continue;
            }
            if is_follow_up(record) {
                follow_ups.push(record);
                continue;
            }
            match apply_record(tx, here, peer, record, now)? {
                Outcome::New => applied.new += 1,
                Outcome::Already => applied.already += 1,
                Outcome::Conflict => applied.conflicts += 1,
            }
        }
        apply_reports(tx, here, peer, &run, now, &mut applied)?;
        apply_follow_ups(tx, here, peer, &follow_ups, now, &mut applied)?;
        events.flush(tx, &mut applied)?;
        tx.set_origin(None)?;
        tx.finish(&batch.batch_id, peer, applied.new, now, cursor)
    })?;
    Ok(applied)
}

/// Reports checked and inserted together.
const REPORT_RUN: usize = 1_000;

/// Applies a run of reports of one origin: those already here are counted,
/// a reference used here by another report is a conflict, the rest are
/// inserted together (one by one when one of them is refused).
fn apply_reports(
    tx: &mut dyn SyncTx,
    here: &str,
    peer: &str,
    run: &[&SyncRecord],
    now: Timestamp,
    applied: &mut Applied,
) -> Result<(), StoreError> {
    let Some(first) = run.first() else { return Ok(()) };
    let references: Vec<_> = run
        .iter()
        .filter_map(|r| match r {
            SyncRecord::Report(r) => Some(r.report.reference.clone()),
            _ => None,
        })
        .collect();
    let stored: std::collections::HashMap<_, _> =
        tx.reports_of(&references)?.into_iter().map(|r| (r.reference.clone(), r)).collect();
    let mut fresh = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for record in run {
        let SyncRecord::Report(r) = record else { continue };
        let reference = &r.report.reference;
        if let Some(stored) = stored.get(reference) {
            if stored.received_at == r.report.received_at && stored.text == r.report.text {
                applied.already += 1;
            } else {
                conflict(tx, peer, RecordKind::Report, reference.to_string(), taken(reference), record, now)?;
                applied.conflicts += 1;
            }
            continue;
        }
        if first.origin() == here || !seen.insert(reference.clone()) {
            applied.already += 1;
            continue;
        }
        let mut report = r.report.clone();
        report.contact = match &r.contact {
            Some(text) => Some(
                SealedContact::from_stored(text)
                    .map_err(|e| StoreError::Backend(format!("report {reference}: {e}")))?,
            ),
            None => None,
        };
        fresh.push((*record, report));
    }
    if fresh.is_empty() {
        return Ok(());
    }
    tx.set_origin(Some(first.origin()))?;
    let reports: Vec<_> = fresh.iter().map(|(_, r)| r.clone()).collect();
    match tx.insert_reports(&reports) {
        Ok(()) => applied.new += reports.len() as u64,
        Err(StoreError::Conflict(_)) => {
            for (record, report) in &fresh {
                match tx.insert_report(report) {
                    Ok(()) => applied.new += 1,
                    Err(StoreError::Conflict(why)) => {
                        let key = report.reference.to_string();
                        conflict(tx, peer, RecordKind::Report, key, why, record, now)?;
                        applied.conflicts += 1;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

fn taken(reference: &vitalcore_intake::Reference) -> String {
    format!(
        "reference {reference} is already used here by another report (drawn before this database joined the \
         mission's synchronisation); the arriving report is kept here, not stored"
    )
}

pub(crate) enum Outcome {
    New,
    Already,
    Conflict,
}

pub(crate) fn conflict(
    tx: &mut dyn SyncTx,
    peer: &str,
    kind: RecordKind,
    key: String,
    reason: String,
    record: &SyncRecord,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let notice = conflict_notice(tx, &key, record, now)?;
    let record = serde_json::to_string(record).map_err(|e| StoreError::Backend(e.to_string()))?;
    tx.add_conflict(&Conflict { peer: peer.to_string(), kind, key, reason, record, at: now })?;
    tx.queue_notifications(&notice)?;
    Ok(Outcome::Conflict)
}

/// The `sync.conflict` notification of a conflict on alert `key`, queued
/// with the conflict's row: the alert's reference, area, urgency and
/// category (the report stored here, else the arriving one), never its
/// text or contact. One per conflicting record: the same batch applied
/// again queues nothing new (the dedup key hashes the record).
fn conflict_notice(
    tx: &mut dyn SyncTx,
    key: &str,
    record: &SyncRecord,
    now: Timestamp,
) -> Result<Vec<NotificationDraft>, StoreError> {
    let Ok(reference) = key.parse::<vitalcore_intake::Reference>() else { return Ok(Vec::new()) };
    let report = match (tx.report(&reference)?, record) {
        (Some(here), _) => Some(here),
        (None, SyncRecord::Report(r)) => Some(r.report.clone()),
        (None, _) => None,
    };
    let identity = serde_json::to_vec(record).map_err(|e| StoreError::Backend(e.to_string()))?;
    let digest = sha2::Sha256::digest(&identity);
    let conflict_key: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Ok(vec![NotificationDraft::sync_conflict(
        &reference,
        report.as_ref().and_then(|r| r.place.area_pcode.as_deref()),
        report.as_ref().map(|r| r.effective_urgency()),
        report.as_ref().and_then(|r| r.category.as_deref()),
        &conflict_key,
        now,
    )])
}

/// Applies one record (not a report run's nor an event's) by its kind's rule.
pub(crate) fn apply_record(
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
        SyncRecord::Report(_) => {
            let mut one = Applied::default();
            apply_reports(tx, here, peer, &[record], now, &mut one)?;
            Ok(if one.new > 0 {
                Outcome::New
            } else if one.conflicts > 0 {
                Outcome::Conflict
            } else {
                Outcome::Already
            })
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
        _ if came_home => Ok(Outcome::Already),
        SyncRecord::Outbox(o) => crate::up::outbox(tx, peer, record, o, now),
        SyncRecord::Correction(c) => crate::up::correction(tx, peer, record, origin, &c.correction, now),
        SyncRecord::WarningChange(w) => crate::up::warning_change(tx, peer, record, w, now),
        // Taken by `EventRun` before they get here.
        SyncRecord::Import(_) | SyncRecord::Event(_) => Ok(Outcome::Already),
        SyncRecord::Forecast(f) => {
            if came_home {
                return Ok(Outcome::Already);
            }
            tx.set_origin(Some(origin))?;
            Ok(if tx.put_forecast(f)? > 0 { Outcome::New } else { Outcome::Already })
        }
        SyncRecord::Warning(w) => {
            if came_home {
                return Ok(Outcome::Already);
            }
            tx.set_origin(Some(origin))?;
            Ok(if tx.put_warning(w)? { Outcome::New } else { Outcome::Already })
        }
        SyncRecord::User(u) => {
            if came_home {
                return Ok(Outcome::Already);
            }
            let user = vitalcore_security::auth::User { password_hash: u.password_hash.clone(), ..u.user.clone() };
            tx.set_origin(Some(origin))?;
            match tx.put_user(&user, SYNC_ACTOR) {
                Ok(true) => Ok(Outcome::New),
                Ok(false) => Ok(Outcome::Already),
                Err(StoreError::Conflict(why)) => {
                    // Kept for an analyst without the password hash.
                    let shown = SyncRecord::User(Box::new(UserOf { password_hash: String::new(), ..(**u).clone() }));
                    conflict(tx, peer, RecordKind::User, u.user.username.clone(), why, &shown, now)
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// Who the audit chain names for an account that arrived by synchronisation.
pub const SYNC_ACTOR: &str = "system:sync";

/// The identity of a step: its alert, content, author and time (not its position).
pub(crate) fn same_step(a: &StepRecord, b: &StepRecord) -> bool {
    a.alert == b.alert && a.step == b.step && a.user_id == b.user_id && a.at == b.at
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitalcore_intake::workflow::Step;
    use vitalcore_store::reports::ReportStore;
    use vitalcore_store::sync::{ReportRecord, StepOf};
    use vitalcore_store::testing::reports::{report_at, step, ts};
    use vitalcore_store_sqlite::SqliteStore;

    fn record(n: u32, text: &str) -> SyncRecord {
        let mut report = report_at(n, Some("CF32"), "2026-12-01T08:00:00Z");
        report.text = text.into();
        let contact = report.contact.as_ref().map(|c| c.as_stored().to_string());
        SyncRecord::Report(Box::new(ReportRecord { origin: "office-a".into(), report, contact }))
    }

    fn batch(id: &str, records: Vec<SyncRecord>) -> Batch {
        Batch { batch_id: id.into(), from_cursor: 0, to_cursor: 9, more: false, pending_after: 0, records }
    }

    #[test]
    fn a_batch_delivered_twice_changes_nothing_the_second_time() {
        let store = SqliteStore::open_in_memory().unwrap();
        let alert = report_at(1, None, "2026-12-01T08:00:00Z").reference;
        let ack = StepRecord { at: ts("2026-12-02T09:00:00Z"), ..step(&alert, 0, Step::Acknowledge) };
        let ack = SyncRecord::Step(Box::new(StepOf { origin: "office-a".into(), step: ack }));
        let b = batch("a:0-9", vec![record(1, "one"), record(2, "two"), ack]);
        let now = ts("2026-12-07T20:00:00Z");
        let first = apply_batch(&store, "hq", "office-a", &b, None, now).unwrap();
        assert_eq!(
            (first.new, first.already, first.conflicts, first.repeated),
            (3, 0, 0, false),
            "{:?}",
            SyncStore::conflicts(&store).unwrap()
        );
        let second = apply_batch(&store, "hq", "office-a", &b, None, now).unwrap();
        assert_eq!((second.new, second.already, second.conflicts, second.repeated), (0, 3, 0, true));
        assert_eq!(store.steps(&alert).unwrap().len(), 1);
        let SyncRecord::Report(sent) = &b.records[0] else { unreachable!() };
        let stored = store.report(&alert).unwrap().unwrap().contact.map(|c| c.as_stored().to_string());
        assert_eq!(stored, sent.contact, "the sealed contact is stored as it came");
    }

    #[test]
    fn a_reference_used_here_by_another_report_is_kept_as_a_conflict_not_overwritten() {
        let store = SqliteStore::open_in_memory().unwrap();
        let mine = report_at(5, Some("CF32"), "2026-11-30T08:00:00Z");
        store.insert_report(&mine).unwrap();
        let now = ts("2026-12-07T20:00:00Z");
        let got = apply_batch(
            &store,
            "hq",
            "office-a",
            &batch("a:0-2", vec![record(5, "theirs"), record(6, "six")]),
            None,
            now,
        )
        .unwrap();
        assert_eq!((got.new, got.conflicts), (1, 1));
        assert_eq!(store.report(&mine.reference).unwrap().unwrap().text, mine.text, "nothing overwritten");
        let conflicts = SyncStore::conflicts(&store).unwrap();
        assert_eq!(conflicts.len(), 1);
        assert!(conflicts[0].reason.contains("already used here") && conflicts[0].record.contains("theirs"));
    }

    #[test]
    fn a_step_the_workflow_refuses_here_is_kept_aside_and_the_log_stays_valid() {
        let store = SqliteStore::open_in_memory().unwrap();
        let report = report_at(7, Some("CF32"), "2026-12-01T08:00:00Z");
        store.insert_report(&report).unwrap();
        let at = ts("2026-12-02T09:00:00Z");
        store.append_step(&StepRecord { at, ..step(&report.reference, 0, Step::Acknowledge) }).unwrap();
        // Another office acknowledged it too while apart: a second acknowledgement does not follow.
        let theirs = StepRecord { at, user_id: "u-2".into(), ..step(&report.reference, 0, Step::Acknowledge) };
        let b = batch("b:0-1", vec![SyncRecord::Step(Box::new(StepOf { origin: "office-b".into(), step: theirs }))]);
        let got = apply_batch(&store, "hq", "office-b", &b, None, ts("2026-12-07T20:00:00Z")).unwrap();
        assert_eq!((got.new, got.conflicts), (0, 1));
        assert_eq!(store.steps(&report.reference).unwrap().len(), 1);
    }

    fn hq_event(id: &str, fatalities: u32) -> SyncRecord {
        let mut event = vitalcore_store::testing::synthetic::simple(id, "2026-03-01", "CAR", fatalities);
        event.place.admin1_pcode = Some("CF32".into());
        SyncRecord::Event(Box::new(vitalcore_store::sync::EventOf { origin: "hq".into(), import: 7, event }))
    }

    fn hq_import() -> SyncRecord {
        SyncRecord::Import(Box::new(vitalcore_store::sync::ImportOf {
            origin: "hq".into(),
            id: 7,
            file: vitalcore_store::testing::synthetic::file("acled.csv", 2),
            imported_at: "2026-12-01T10:00:00Z".into(),
        }))
    }

    #[test]
    fn events_from_hq_are_stored_once_and_a_revision_replaces_them() {
        let store = SqliteStore::open_in_memory().unwrap();
        let now = ts("2026-12-07T20:00:00Z");
        let b = batch("hq:0-3", vec![hq_import(), hq_event("E1", 1), hq_event("E2", 2)]);
        let first = apply_batch(&store, "office", "hq", &b, None, now).unwrap();
        assert_eq!((first.new, first.already), (2, 0));
        let again = apply_batch(&store, "office", "hq", &b, None, now).unwrap();
        assert_eq!((again.new, again.already, again.repeated), (0, 2, true));
        let revised = batch("hq:3-4", vec![hq_import(), hq_event("E1", 4)]);
        assert_eq!(apply_batch(&store, "office", "hq", &revised, None, now).unwrap().new, 1);
        let stored = vitalcore_store::events(&store, &Default::default()).unwrap();
        let mut got: Vec<_> = stored.iter().map(|e| (e.provenance.source_id.as_str(), e.fatalities)).collect();
        got.sort();
        assert_eq!(got, vec![("E1", 4), ("E2", 2)]);
    }

    #[test]
    fn an_event_without_its_import_record_refuses_the_whole_batch() {
        let store = SqliteStore::open_in_memory().unwrap();
        let b = batch("hq:0-2", vec![record(1, "one"), hq_event("E1", 1)]);
        let err = apply_batch(&store, "office", "hq", &b, None, ts("2026-12-07T20:00:00Z")).unwrap_err();
        assert!(err.to_string().contains("without that import's file record"), "{err}");
        assert_eq!(store.report(&report_at(1, Some("CF32"), "2026-12-01T08:00:00Z").reference).unwrap(), None);
    }
}
