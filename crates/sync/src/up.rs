//! Applying what flows up from a field office beyond reports and steps:
//! feedback messages and their delivery status, tag corrections, early-warning
//! status changes. Each is append-only: a record already here (same content)
//! changes nothing, a new one is appended at this node's next position
//! (positions are each node's own; identity is content), and nothing is
//! renumbered or overwritten. Where the current value is one of many (a
//! report's tags, a warning's status), the latest by its own time decides,
//! whatever the arrival order.

use jiff::Timestamp;
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxStatus};
use vitalcore_store::StoreError;
use vitalcore_store::reports::TagCorrection;
use vitalcore_store::sync::{OutboxOf, RecordKind, SyncRecord, SyncTx, WarningChangeOf};

use crate::batch::{Outcome, conflict, same_step};

/// A feedback message's status change: the message is found by its
/// alert and feedback step (by content), created with its `queued` entry,
/// and each later change appended once.
pub(crate) fn outbox(
    tx: &mut dyn SyncTx,
    peer: &str,
    record: &SyncRecord,
    o: &OutboxOf,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let alert = &o.step.alert;
    let key = alert.to_string();
    let steps = tx.steps(alert)?;
    let Some(position) = steps.iter().find(|s| same_step(s, &o.step)).map(|s| s.seq) else {
        let why = format!("the feedback step of alert {alert} is not here; the message is kept until it arrives");
        return conflict(tx, peer, RecordKind::Outbox, key, why, record, now);
    };
    let c = &o.change;
    let message = tx.outbox_of(alert)?.into_iter().find(|m| m.step_seq == position);
    tx.set_origin(Some(&o.origin))?;
    match message {
        None if c.status == OutboxStatus::Queued => {
            tx.queue_message(&OutboxDraft {
                report: alert.clone(),
                step_seq: position,
                language: o.language.clone(),
                body: o.body.clone(),
                queued_by: c.user_id.clone(),
                queued_at: c.at,
            })?;
            Ok(Outcome::New)
        }
        None => {
            let why = format!("the feedback message of alert {alert} step #{position} is not here yet");
            conflict(tx, peer, RecordKind::Outbox, key, why, record, now)
        }
        Some(m) if m.history.iter().any(|h| same_change(h, c)) => Ok(Outcome::Already),
        Some(m) => {
            let seq = m.history.len() as u32;
            tx.append_outbox_change(&OutboxChange { message_id: m.id, seq, ..c.clone() })?;
            Ok(Outcome::New)
        }
    }
}

/// The identity of a status change: what, who, when, why (not its position).
fn same_change(a: &OutboxChange, b: &OutboxChange) -> bool {
    a.status == b.status && a.user_id == b.user_id && a.at == b.at && a.detail == b.detail
}

/// An analyst's tag correction: appended once; the report's tags become it
/// when it is the latest correction of the report by its time.
pub(crate) fn correction(
    tx: &mut dyn SyncTx,
    peer: &str,
    record: &SyncRecord,
    origin: &str,
    c: &TagCorrection,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    if tx.report(&c.report)?.is_none() {
        let why = format!("report {} is not here; the correction is kept until it arrives", c.report);
        return conflict(tx, peer, RecordKind::Correction, c.report.to_string(), why, record, now);
    }
    let here = tx.corrections_of(&c.report)?;
    if here.contains(c) {
        return Ok(Outcome::Already);
    }
    let latest = here.iter().all(|h| h.at <= c.at);
    tx.set_origin(Some(origin))?;
    tx.add_correction(c, latest)?;
    Ok(Outcome::New)
}

/// An early warning's status change: appended once; the warning's status
/// becomes it when it is the latest change by its time. A change made
/// while a later one was recorded here with another status is also shown
/// to an analyst (both acted on the warning while apart).
pub(crate) fn warning_change(
    tx: &mut dyn SyncTx,
    peer: &str,
    record: &SyncRecord,
    w: &WarningChangeOf,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let key = format!("{} {} {}", w.unit, w.month, w.warning.as_str());
    let Some(here) = tx.warning_changes(&w.unit, w.month, w.warning)? else {
        let why = format!("early warning {key} is not here; the status change is kept until it arrives");
        return conflict(tx, peer, RecordKind::WarningChange, key, why, record, now);
    };
    if here.contains(&w.change) {
        return Ok(Outcome::Already);
    }
    let at = parse(&w.change.at);
    let later = here.iter().filter(|h| parse(&h.at) > at).max_by_key(|h| parse(&h.at));
    tx.set_origin(Some(&w.origin))?;
    tx.add_warning_change(w, later.is_none())?;
    match later {
        Some(l) if l.status != w.change.status => {
            let why = format!(
                "{} set warning {key} {} at {} while it was set {} at {} here; both are kept, the latest decides",
                w.change.by_user,
                w.change.status.as_str(),
                w.change.at,
                l.status.as_str(),
                l.at
            );
            conflict(tx, peer, RecordKind::WarningChange, key, why, record, now).map(|_| Outcome::New)
        }
        _ => Ok(Outcome::New),
    }
}

/// A stored change time; one that does not parse sorts first.
fn parse(at: &str) -> Option<Timestamp> {
    at.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Batch, apply_batch};
    use vitalcore_intake::workflow::Step;
    use vitalcore_store::forecasts::{EarlyWarning, ForecastStore, WarningKind, WarningStatus};
    use vitalcore_store::reports::ReportStore;
    use vitalcore_store::sync::{Node, NodeRole, Origins, Scope, SyncStore};
    use vitalcore_store::testing::reports::{outbox_draft, report_at, step, ts};
    use vitalcore_store_sqlite::SqliteStore;

    fn new_office() -> SqliteStore {
        let store = SqliteStore::open_in_memory().unwrap();
        store
            .init_node(&Node {
                node_id: "n-office".into(),
                name: "bambari".into(),
                role: NodeRole::Office,
                space: 1,
                hq_node: Some("n-hq".into()),
                credential_hash: None,
                created_at: ts("2026-12-01T00:00:00Z"),
                last_sync: None,
                pending_down: 0,
            })
            .unwrap();
        store
    }

    fn up() -> Scope {
        Scope {
            origins: Origins::Local,
            areas: None,
            kinds: vec![
                RecordKind::Report,
                RecordKind::Step,
                RecordKind::Outbox,
                RecordKind::Correction,
                RecordKind::WarningChange,
            ],
        }
    }

    /// Everything made at `from` after `cursor`, applied at `to` as one batch.
    fn push(from: &SqliteStore, to: &SqliteStore, cursor: i64) -> (crate::Applied, i64) {
        let changes = from.changes(cursor, &up(), 10_000).unwrap();
        let batch = Batch {
            batch_id: format!("n-office:{cursor}-{}", changes.next_cursor),
            from_cursor: cursor,
            to_cursor: changes.next_cursor,
            more: false,
            pending_after: 0,
            records: changes.records,
        };
        (apply_batch(to, "n-hq", "bambari", &batch, None, ts("2026-12-07T20:00:00Z")).unwrap(), batch.to_cursor)
    }

    fn burst(unit: &str) -> EarlyWarning {
        EarlyWarning {
            id: 0,
            created: String::new(),
            unit: unit.into(),
            month: "2026-12".parse().unwrap(),
            kind: WarningKind::ReportBurst,
            value: 9.0,
            threshold: 4.0,
            reason: "burst".into(),
            run_id: None,
            status: WarningStatus::New,
            status_by: None,
            status_at: None,
            note: None,
        }
    }

    #[test]
    fn feedback_and_its_delivery_status_reach_hq_once_in_the_offices_order() {
        let (office, hq) = (new_office(), SqliteStore::open_in_memory().unwrap());
        let r = report_at(1, Some("CF32"), "2026-12-01T08:00:00Z");
        office.insert_report(&r).unwrap();
        let fb = step(&r.reference, 0, Step::Acknowledge);
        let fb = vitalcore_intake::workflow::StepRecord { at: ts("2026-12-01T09:00:00Z"), ..fb };
        let ids = office.append_step_with_messages(&fb, &[outbox_draft(&r.reference, 0)]).unwrap();
        let (first, cursor) = push(&office, &hq, 0);
        assert_eq!((first.new, first.conflicts), (3, 0), "report, step, queued message");
        let exported = OutboxChange {
            message_id: ids[0],
            seq: 1,
            status: OutboxStatus::Exported,
            user_id: "u-2".into(),
            at: ts("2026-12-02T09:00:00Z"),
            detail: Some("sms-2026-12-02.csv".into()),
        };
        let sent = OutboxChange { seq: 2, status: OutboxStatus::Sent, detail: Some("gw-1".into()), ..exported.clone() };
        office.append_outbox_changes(&[exported, sent]).unwrap();
        let (second, _) = push(&office, &hq, cursor);
        assert_eq!((second.new, second.already), (2, 0));
        // Delivered again from the start: nothing new.
        let (again, _) = push(&office, &hq, 0);
        assert_eq!((again.new, again.already, again.conflicts), (0, 5, 0));
        let at_hq = hq.outbox(&Default::default()).unwrap();
        let at_office = office.outbox(&Default::default()).unwrap();
        assert_eq!(at_hq.len(), 1);
        let statuses = |m: &vitalcore_intake::outbox::OutboxMessage| {
            m.history.iter().map(|c| (c.status, c.user_id.clone(), c.at, c.detail.clone())).collect::<Vec<_>>()
        };
        assert_eq!(statuses(&at_hq[0]), statuses(&at_office[0]));
        assert_eq!(at_hq[0].status(), OutboxStatus::Sent);
        assert_eq!(at_hq[0].body, at_office[0].body);
        assert_eq!(
            hq.report(&r.reference).unwrap().unwrap().contact.map(|c| c.as_stored().to_string()),
            r.contact.map(|c| c.as_stored().to_string()),
            "the contact stays the sealed text"
        );
    }

    #[test]
    fn a_correction_reaches_hq_once_and_the_latest_by_time_sets_the_tags() {
        let (office, hq) = (new_office(), SqliteStore::open_in_memory().unwrap());
        let r = report_at(2, Some("CF32"), "2026-12-01T08:00:00Z");
        office.insert_report(&r).unwrap();
        let (_, cursor) = push(&office, &hq, 0);
        let at_office = TagCorrection {
            report: r.reference.clone(),
            user_id: "u-office".into(),
            at: ts("2026-12-03T10:00:00Z"),
            previous_dimensions: r.tags.dimensions.clone(),
            previous_themes: r.tags.themes.clone(),
            dimensions: vec!["physical".into()],
            themes: vec!["armed-attack".into()],
        };
        // HQ corrected it later, before the office's arrived.
        let at_hq = TagCorrection {
            user_id: "u-hq".into(),
            at: ts("2026-12-04T10:00:00Z"),
            dimensions: vec!["political".into()],
            ..at_office.clone()
        };
        office.correct_tags(&at_office).unwrap();
        hq.correct_tags(&at_hq).unwrap();
        let (got, _) = push(&office, &hq, cursor);
        assert_eq!((got.new, got.conflicts), (1, 0));
        assert_eq!(hq.tag_corrections().unwrap(), vec![at_hq.clone(), at_office.clone()], "both kept");
        assert_eq!(
            hq.report(&r.reference).unwrap().unwrap().tags.dimensions,
            at_hq.dimensions,
            "the later one decides"
        );
        let (again, _) = push(&office, &hq, cursor);
        assert_eq!((again.new, again.already), (0, 1));
    }

    #[test]
    fn a_warning_change_reaches_hq_once_and_one_made_apart_is_shown_to_an_analyst() {
        let (office, hq) = (new_office(), SqliteStore::open_in_memory().unwrap());
        for store in [&office, &hq] {
            store.add_warnings(&[burst("CF32"), burst("CF41")]).unwrap();
        }
        let id_of = |s: &SqliteStore, unit: &str| {
            s.warnings(&Default::default()).unwrap().into_iter().find(|w| w.unit == unit).unwrap().id
        };
        let status_of = |s: &SqliteStore, unit: &str| {
            s.warnings(&Default::default()).unwrap().into_iter().find(|w| w.unit == unit).unwrap().status
        };
        let ack = WarningStatus::Acknowledged;
        office.set_warning_status(id_of(&office, "CF32"), ack, "u-o", "2026-12-02T08:00:00Z", Some("patrol")).unwrap();
        // CF41: HQ closed it later than the office acknowledged it.
        office.set_warning_status(id_of(&office, "CF41"), ack, "u-o", "2026-12-02T08:00:00Z", None).unwrap();
        hq.set_warning_status(id_of(&hq, "CF41"), WarningStatus::Closed, "u-h", "2026-12-03T08:00:00Z", None).unwrap();
        let (got, _) = push(&office, &hq, 0);
        assert_eq!((got.new, got.conflicts), (2, 0), "both stored (the one made apart is also listed below)");
        assert_eq!(status_of(&hq, "CF32"), ack);
        assert_eq!(status_of(&hq, "CF41"), WarningStatus::Closed, "the later change decides");
        let conflicts = SyncStore::conflicts(&hq).unwrap();
        assert_eq!(conflicts.len(), 1);
        assert!(conflicts[0].key.starts_with("CF41") && conflicts[0].reason.contains("closed"), "{conflicts:?}");
        let (again, _) = push(&office, &hq, 0);
        assert_eq!((again.new, again.already, again.conflicts), (0, 2, 0));
        // A warning HQ does not have is kept aside, not invented.
        let lone = new_office();
        lone.add_warnings(&[burst("CF50")]).unwrap();
        lone.set_warning_status(id_of(&lone, "CF50"), ack, "u-o", "2026-12-02T08:00:00Z", None).unwrap();
        let (kept, _) = push(&lone, &hq, 0);
        assert_eq!((kept.new, kept.conflicts), (0, 1));
    }
}
