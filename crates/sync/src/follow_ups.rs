//! Runs of follow-up records (alert steps, outbox changes, tag corrections)
//! applied with the reads of the whole run done up front: the steps,
//! reports, feedback messages and corrections of every alert the run names,
//! one query each, instead of two or three queries per record. Each record
//! is then applied by the same rules as one arriving alone
//! (`apply_record`), against a [`ReadAhead`] that answers those reads from
//! memory and keeps them up to date as each record is written, so the
//! outcomes, stored rows, positions and audit entries are the ones the
//! one-by-one path gives. Writes still go one record at a time.

use std::collections::HashMap;

use jiff::Timestamp;
use vitalcore_framework::{Area, Event, Month};
use vitalcore_intake::notify::NotificationDraft;
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxMessage};
use vitalcore_intake::report::{Reference, Report};
use vitalcore_intake::workflow::StepRecord;
use vitalcore_security::auth::User;
use vitalcore_store::forecasts::WarningKind;
use vitalcore_store::reports::TagCorrection;
use vitalcore_store::sync::{
    Conflict, Direction, ForecastOf, ImportOf, SyncRecord, SyncTx, WarningChange, WarningChangeOf, WarningOf,
};
use vitalcore_store::{ImportCounts, StoreError};

use crate::batch::{Applied, Outcome, apply_record};

/// Follow-up records applied with their reads done together.
pub(crate) const FOLLOW_UP_RUN: usize = 1_000;

/// Whether `record` is of a kind [`apply_follow_ups`] reads ahead for.
pub(crate) fn is_follow_up(record: &SyncRecord) -> bool {
    matches!(record, SyncRecord::Step(_) | SyncRecord::Outbox(_) | SyncRecord::Correction(_))
}

/// Applies a run of follow-up records in order, as `apply_record` applies
/// each, with their reads done for the whole run first.
pub(crate) fn apply_follow_ups(
    tx: &mut dyn SyncTx,
    here: &str,
    peer: &str,
    run: &[&SyncRecord],
    now: Timestamp,
    applied: &mut Applied,
) -> Result<(), StoreError> {
    if run.is_empty() {
        return Ok(());
    }
    let mut ahead = ReadAhead::read(tx, run)?;
    for record in run {
        match apply_record(&mut ahead, here, peer, record, now)? {
            Outcome::New => applied.new += 1,
            Outcome::Already => applied.already += 1,
            Outcome::Conflict => applied.conflicts += 1,
        }
    }
    Ok(())
}

/// What the run reads, keyed by alert (report) reference. A reference
/// read ahead is known whole here: no entry, or an empty list, means none
/// is stored. Anything not read ahead goes to the transaction.
#[derive(Default)]
struct Known {
    steps: HashMap<Reference, Vec<StepRecord>>,
    /// Reports as `reports_of` reads them: their duplicate links may be
    /// missing (none of the rules applied here reads them).
    reports: HashMap<Reference, Option<Report>>,
    outbox: HashMap<Reference, Vec<OutboxMessage>>,
    corrections: HashMap<Reference, Vec<TagCorrection>>,
}

/// A transaction whose reads of the run's alerts are answered from what
/// was read ahead, kept current as the run writes; every write goes to the
/// transaction.
pub(crate) struct ReadAhead<'a> {
    tx: &'a mut dyn SyncTx,
    known: Known,
    /// The origin last set in this run (`None`: not set yet), so that a
    /// run of one office's records sets it once.
    origin: Option<Option<String>>,
}

impl<'a> ReadAhead<'a> {
    fn read(tx: &'a mut dyn SyncTx, run: &[&SyncRecord]) -> Result<ReadAhead<'a>, StoreError> {
        let mut step_alerts = Vec::new();
        let mut report_refs = Vec::new();
        let mut outbox_alerts = Vec::new();
        let mut correction_refs = Vec::new();
        for record in run {
            match record {
                SyncRecord::Step(s) => {
                    step_alerts.push(s.step.alert.clone());
                    report_refs.push(s.step.alert.clone());
                }
                SyncRecord::Outbox(o) => {
                    step_alerts.push(o.step.alert.clone());
                    outbox_alerts.push(o.step.alert.clone());
                }
                SyncRecord::Correction(c) => {
                    report_refs.push(c.correction.report.clone());
                    correction_refs.push(c.correction.report.clone());
                }
                _ => {}
            }
        }
        // Steps, then reports, messages and corrections: corrections_of_many locks the reports it reads last.
        let steps = grouped(step_alerts, |refs| tx.steps_of(refs), |s| &s.alert)?;
        let mut reports = HashMap::new();
        if !report_refs.is_empty() {
            dedup(&mut report_refs);
            reports = report_refs.iter().map(|r| (r.clone(), None)).collect();
            for report in tx.reports_of(&report_refs)? {
                reports.insert(report.reference.clone(), Some(report));
            }
        }
        let known = Known {
            steps,
            reports,
            outbox: grouped(outbox_alerts, |refs| tx.outbox_of_many(refs), |m| &m.report)?,
            corrections: grouped(correction_refs, |refs| tx.corrections_of_many(refs), |c| &c.report)?,
        };
        Ok(ReadAhead { tx, known, origin: None })
    }
}

/// What `read` gives for the distinct `references`, by reference: each one
/// asked for has an entry (empty when nothing is stored), none when none
/// was asked for.
fn grouped<T>(
    mut references: Vec<Reference>,
    read: impl FnOnce(&[Reference]) -> Result<Vec<T>, StoreError>,
    key: impl Fn(&T) -> &Reference,
) -> Result<HashMap<Reference, Vec<T>>, StoreError> {
    if references.is_empty() {
        return Ok(HashMap::new());
    }
    dedup(&mut references);
    let mut by_reference: HashMap<Reference, Vec<T>> = references.iter().map(|r| (r.clone(), Vec::new())).collect();
    for item in read(&references)? {
        by_reference.entry(key(&item).clone()).or_default().push(item);
    }
    Ok(by_reference)
}

fn dedup(references: &mut Vec<Reference>) {
    let mut seen = std::collections::HashSet::new();
    references.retain(|r| seen.insert(r.clone()));
}

impl SyncTx for ReadAhead<'_> {
    fn applied(&mut self, batch_id: &str) -> Result<bool, StoreError> {
        self.tx.applied(batch_id)
    }

    fn set_origin(&mut self, origin: Option<&str>) -> Result<(), StoreError> {
        if self.origin.as_ref().is_some_and(|set| set.as_deref() == origin) {
            return Ok(());
        }
        self.tx.set_origin(origin)?;
        self.origin = Some(origin.map(str::to_string));
        Ok(())
    }

    fn report(&mut self, reference: &Reference) -> Result<Option<Report>, StoreError> {
        match self.known.reports.get(reference) {
            Some(known) => Ok(known.clone()),
            None => self.tx.report(reference),
        }
    }

    fn insert_report(&mut self, report: &Report) -> Result<(), StoreError> {
        self.known.reports.remove(&report.reference);
        self.tx.insert_report(report)
    }

    fn insert_reports(&mut self, reports: &[Report]) -> Result<(), StoreError> {
        for report in reports {
            self.known.reports.remove(&report.reference);
        }
        self.tx.insert_reports(reports)
    }

    fn steps(&mut self, alert: &Reference) -> Result<Vec<StepRecord>, StoreError> {
        match self.known.steps.get(alert) {
            Some(known) => Ok(known.clone()),
            None => self.tx.steps(alert),
        }
    }

    fn append_step(&mut self, record: &StepRecord) -> Result<(), StoreError> {
        self.tx.append_step(record)?;
        if let Some(known) = self.known.steps.get_mut(&record.alert) {
            known.push(record.clone());
        }
        Ok(())
    }

    fn area(&mut self, pcode: &str) -> Result<Option<Area>, StoreError> {
        self.tx.area(pcode)
    }

    fn save_area(&mut self, area: &Area) -> Result<(), StoreError> {
        self.tx.save_area(area)
    }

    fn add_conflict(&mut self, conflict: &Conflict) -> Result<(), StoreError> {
        self.tx.add_conflict(conflict)
    }

    fn queue_notifications(&mut self, drafts: &[NotificationDraft]) -> Result<(), StoreError> {
        self.tx.queue_notifications(drafts)
    }

    fn put_events(&mut self, import: &ImportOf, events: &[Event]) -> Result<ImportCounts, StoreError> {
        self.tx.put_events(import, events)
    }

    fn put_forecast(&mut self, forecast: &ForecastOf) -> Result<u64, StoreError> {
        self.tx.put_forecast(forecast)
    }

    fn put_warning(&mut self, warning: &WarningOf) -> Result<bool, StoreError> {
        self.tx.put_warning(warning)
    }

    fn put_user(&mut self, user: &User, by: &str) -> Result<bool, StoreError> {
        self.tx.put_user(user, by)
    }

    fn finish(
        &mut self,
        batch_id: &str,
        peer: &str,
        records: u64,
        at: Timestamp,
        cursor: Option<(&str, Direction, i64)>,
    ) -> Result<(), StoreError> {
        self.tx.finish(batch_id, peer, records, at, cursor)
    }

    fn outbox_of(&mut self, report: &Reference) -> Result<Vec<OutboxMessage>, StoreError> {
        match self.known.outbox.get(report) {
            Some(known) => Ok(known.clone()),
            None => self.tx.outbox_of(report),
        }
    }

    fn queue_message(&mut self, draft: &OutboxDraft) -> Result<(), StoreError> {
        self.tx.queue_message(draft)?;
        if self.known.outbox.contains_key(&draft.report) {
            // Read back for the id the store gave the message (one query).
            let messages = self.tx.outbox_of(&draft.report)?;
            self.known.outbox.insert(draft.report.clone(), messages);
        }
        Ok(())
    }

    fn append_outbox_change(&mut self, change: &OutboxChange) -> Result<(), StoreError> {
        self.tx.append_outbox_change(change)?;
        let mut messages = self.known.outbox.values_mut().flatten();
        if let Some(message) = messages.find(|m| m.id == change.message_id) {
            message.history.push(change.clone());
        }
        Ok(())
    }

    fn corrections_of(&mut self, report: &Reference) -> Result<Vec<TagCorrection>, StoreError> {
        match self.known.corrections.get(report) {
            Some(known) => Ok(known.clone()),
            None => self.tx.corrections_of(report),
        }
    }

    fn add_correction(&mut self, correction: &TagCorrection, set_tags: bool) -> Result<(), StoreError> {
        self.tx.add_correction(correction, set_tags)?;
        if let Some(known) = self.known.corrections.get_mut(&correction.report) {
            known.push(correction.clone());
        }
        if set_tags {
            // The report's tags changed: read it again if asked.
            self.known.reports.remove(&correction.report);
        }
        Ok(())
    }

    fn warning_changes(
        &mut self,
        unit: &str,
        month: Month,
        kind: WarningKind,
    ) -> Result<Option<Vec<WarningChange>>, StoreError> {
        self.tx.warning_changes(unit, month, kind)
    }

    fn add_warning_change(&mut self, change: &WarningChangeOf, set_status: bool) -> Result<(), StoreError> {
        self.tx.add_warning_change(change, set_status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Batch, apply_batch};
    use vitalcore_intake::outbox::OutboxStatus;
    use vitalcore_intake::workflow::Step;
    use vitalcore_store::notify::NotifyStore;
    use vitalcore_store::reports::ReportStore;
    use vitalcore_store::sync::{CorrectionOf, OutboxOf, StepOf, SyncStore};
    use vitalcore_store::testing::reports::{report_at, step, ts};
    use vitalcore_store_sqlite::SqliteStore;

    trait Hq: SyncStore + ReportStore + NotifyStore {}
    impl<T: SyncStore + ReportStore + NotifyStore> Hq for T {}

    fn alert(n: u32) -> Reference {
        report_at(n, Some("CF32"), "2026-12-01T08:00:00Z").reference
    }

    fn step_at(n: u32, seq: u32, what: Step, user: &str, at: &str) -> StepRecord {
        StepRecord { user_id: user.into(), at: ts(at), ..step(&alert(n), seq, what) }
    }

    fn office_step(record: StepRecord) -> SyncRecord {
        SyncRecord::Step(Box::new(StepOf { origin: "office-a".into(), step: record }))
    }

    fn outbox_change(feedback: &StepRecord, seq: u32, status: OutboxStatus, at: &str) -> SyncRecord {
        SyncRecord::Outbox(Box::new(OutboxOf {
            origin: "office-a".into(),
            step: feedback.clone(),
            language: "fr".into(),
            body: "pris en charge".into(),
            change: OutboxChange {
                message_id: 40 + i64::from(seq),
                seq,
                status,
                user_id: "u-1".into(),
                at: ts(at),
                detail: None,
            },
        }))
    }

    fn correction(n: u32, at: &str) -> SyncRecord {
        let report = report_at(n, Some("CF32"), "2026-12-01T08:00:00Z");
        SyncRecord::Correction(Box::new(CorrectionOf {
            origin: "office-a".into(),
            correction: TagCorrection {
                report: report.reference,
                user_id: "u-1".into(),
                at: ts(at),
                previous_dimensions: report.tags.dimensions.clone(),
                previous_themes: report.tags.themes.clone(),
                dimensions: vec!["physical".into()],
                themes: vec!["armed-attack".into()],
            },
        }))
    }

    /// Several steps on the same alerts, their feedback message, a step the
    /// workflow refuses here (alert 3 was acknowledged at HQ), a step made
    /// while HQ recorded another, a step, message and correction for alert
    /// 9 that HQ does not have, and corrections.
    fn follow_ups() -> Vec<SyncRecord> {
        let ack1 = step_at(1, 0, Step::Acknowledge, "u-1", "2026-12-02T09:00:00Z");
        let verify =
            |n, seq, user: &str| step_at(n, seq, Step::Verify { note: "seen".into() }, user, "2026-12-02T10:00:00Z");
        let ack9 = step_at(9, 0, Step::Acknowledge, "u-1", "2026-12-02T09:00:00Z");
        vec![
            office_step(ack1.clone()),
            office_step(step_at(2, 0, Step::Acknowledge, "u-1", "2026-12-02T09:00:00Z")),
            outbox_change(&ack1, 0, OutboxStatus::Queued, "2026-12-02T09:00:00Z"),
            office_step(verify(1, 1, "u-1")),
            outbox_change(&ack1, 1, OutboxStatus::Exported, "2026-12-02T09:30:00Z"),
            office_step(step_at(3, 0, Step::Acknowledge, "u-2", "2026-12-02T09:00:00Z")),
            office_step(verify(3, 0, "u-2")),
            office_step(ack9.clone()),
            outbox_change(&ack9, 0, OutboxStatus::Queued, "2026-12-02T09:00:00Z"),
            correction(2, "2026-12-02T11:00:00Z"),
            office_step(verify(2, 1, "u-1")),
            correction(9, "2026-12-02T11:00:00Z"),
            correction(2, "2026-12-02T12:00:00Z"),
            outbox_change(&ack1, 1, OutboxStatus::Exported, "2026-12-02T09:30:00Z"),
        ]
    }

    fn seed(store: &dyn Hq) {
        for n in 1..=3 {
            store.insert_report(&report_at(n, Some("CF32"), "2026-12-01T08:00:00Z")).unwrap();
        }
        store.append_step(&step_at(3, 0, Step::Acknowledge, "u-hq", "2026-12-02T08:00:00Z")).unwrap();
    }

    /// The records applied one at a time, each read on its own (the path
    /// before follow-ups were read ahead).
    fn apply_one_by_one(store: &dyn Hq, records: &[SyncRecord], now: Timestamp) -> Applied {
        let mut applied = Applied::default();
        store
            .apply(&mut |tx: &mut dyn SyncTx| {
                applied = Applied::default();
                for record in records {
                    match apply_record(tx, "hq", "office-a", record, now)? {
                        Outcome::New => applied.new += 1,
                        Outcome::Already => applied.already += 1,
                        Outcome::Conflict => applied.conflicts += 1,
                    }
                }
                tx.set_origin(None)
            })
            .unwrap();
        applied
    }

    /// What a batch leaves at HQ that the two paths must agree on.
    #[derive(Debug, PartialEq)]
    struct Stored {
        conflicts: Vec<Conflict>,
        steps: Vec<Vec<StepRecord>>,
        outbox: Vec<OutboxMessage>,
        corrections: Vec<TagCorrection>,
        tags: Vec<Vec<String>>,
        notifications: Vec<NotificationDraft>,
        /// The chain entries after the seeding's, by position and event
        /// (their hashes chain on the seeding's, made at another time).
        audit: Vec<(u64, String)>,
    }

    fn stored(store: &dyn Hq, audit_after: u64) -> Stored {
        Stored {
            conflicts: SyncStore::conflicts(store).unwrap(),
            steps: (1..=3).map(|n| store.steps(&alert(n)).unwrap()).collect(),
            outbox: store.outbox(&Default::default()).unwrap(),
            corrections: store.tag_corrections().unwrap(),
            tags: (1..=3).map(|n| store.report(&alert(n)).unwrap().unwrap().tags.dimensions).collect(),
            notifications: store.pending_notifications(1_000).unwrap().into_iter().map(|n| n.draft).collect(),
            audit: store
                .audit_entries(audit_after, 1_000)
                .unwrap()
                .into_iter()
                .map(|e| (e.seq, format!("{:?}", e.event)))
                .collect(),
        }
    }

    fn same_outcome_read_ahead_and_one_by_one(batched: &dyn Hq, one_by_one: &dyn Hq) {
        let now = ts("2026-12-07T20:00:00Z");
        seed(batched);
        seed(one_by_one);
        let audit_after = |s: &dyn Hq| s.audit_head().unwrap().map_or(0, |e| e.seq);
        let (after_b, after_o) = (audit_after(batched), audit_after(one_by_one));
        let records = follow_ups();
        let batch =
            Batch { batch_id: "a:0-14".into(), from_cursor: 0, to_cursor: 14, more: false, pending_after: 0, records };
        let first = apply_batch(batched, "hq", "office-a", &batch, None, now).unwrap();
        let expected = apply_one_by_one(one_by_one, &batch.records, now);
        assert_eq!((first.new, first.already, first.conflicts), (expected.new, expected.already, expected.conflicts));
        assert_eq!((first.new, first.already, first.conflicts), (9, 1, 4), "{:?}", SyncStore::conflicts(batched));
        assert_eq!(stored(batched, after_b), stored(one_by_one, after_o));
        // Delivered again: the same outcome on both paths, nothing stored twice.
        let again = apply_batch(
            batched,
            "hq",
            "office-a",
            &Batch { batch_id: "a:0-14-again".into(), ..batch.clone() },
            None,
            now,
        )
        .unwrap();
        let expected = apply_one_by_one(one_by_one, &batch.records, now);
        assert_eq!((again.new, again.already, again.conflicts), (expected.new, expected.already, expected.conflicts));
        assert_eq!(again.new, 0);
        assert_eq!(stored(batched, after_b), stored(one_by_one, after_o));
        let repeated = apply_batch(batched, "hq", "office-a", &batch, None, now).unwrap();
        assert!(repeated.repeated && repeated.new == 0);
    }

    #[test]
    fn follow_ups_read_ahead_give_the_one_by_one_outcome_on_sqlite() {
        let (batched, one_by_one) = (SqliteStore::open_in_memory().unwrap(), SqliteStore::open_in_memory().unwrap());
        same_outcome_read_ahead_and_one_by_one(&batched, &one_by_one);
    }

    /// Two schemas of their own, dropped when the test ends, passed or failed.
    struct Schemas([String; 2]);

    impl Drop for Schemas {
        fn drop(&mut self) {
            for schema in &self.0 {
                vitalcore_test_postgres::drop_schema(schema);
            }
        }
    }

    #[test]
    fn follow_ups_read_ahead_give_the_one_by_one_outcome_on_postgres() {
        let Some(url) = vitalcore_test_postgres::database_url_or_skip() else { return };
        let schemas = Schemas([1, 2].map(|n| format!("vc_test_followups_{}_{n}", std::process::id())));
        let connect =
            |schema: &String| vitalcore_store_postgres::PostgresStore::connect_with_schema(&url, schema).unwrap();
        let (batched, one_by_one) = (connect(&schemas.0[0]), connect(&schemas.0[1]));
        same_outcome_read_ahead_and_one_by_one(&batched, &one_by_one);
    }
}
