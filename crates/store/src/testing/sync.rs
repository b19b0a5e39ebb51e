//! The [`SyncStore`] contract, run on every backend: node identity, offices,
//! cursors, the change log written by the database for every write path,
//! scopes, one-transaction apply with origins, conflicts.

use jiff::Timestamp;
use vitalcore_framework::{Area, Event};
use vitalcore_intake::workflow::Step;

use vitalcore_framework::Month;
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxStatus};

use crate::Store;
use crate::forecasts::{EarlyWarning, ForecastRow, ForecastRun, ForecastStore, WarningKind, WarningStatus};
use crate::reports::{ReportStore, TagCorrection};
use crate::sync::{
    Conflict, Direction, ForecastOf, ImportOf, Node, NodeRole, Office, Origins, RecordKind, Scope, SyncRecord,
    SyncStore, SyncTx, WarningChange, WarningChangeOf, WarningOf,
};
use crate::testing::reports::{outbox_draft, report_at, step, ts, user};
use crate::testing::synthetic::{file, simple};
use crate::{ImportCounts, StoreError};
use vitalcore_security::auth::User;

/// Every check, in order, on a fresh store.
pub fn sync_contract<S: SyncStore + ReportStore + Store + ForecastStore>(store: &S) {
    node_is_stored_once_and_gives_the_reference_space(store);
    offices_are_registered_listed_and_revoked(store);
    the_change_log_follows_every_write_and_scopes_filter_it(store);
    a_batch_lands_whole_or_not_at_all_with_its_origin(store);
    feedback_corrections_and_warning_changes_are_logged_and_written_with_their_origin(store);
    events_are_logged_by_their_import_and_go_down_with_its_file_record(store);
    events_put_by_a_batch_follow_the_import_rule(store);
    forecasts_and_warnings_go_down_by_unit_and_are_put_once(store);
    accounts_of_an_area_go_down_with_their_hash_and_no_other_ever(store);
}

fn area(pcode: &str, name: &str) -> Area {
    Area {
        pcode: pcode.into(),
        name: name.into(),
        level: 1,
        parent_pcode: Some("CF".into()),
        country: Some("Central African Republic".into()),
        geometry: None,
    }
}

fn now() -> Timestamp {
    ts("2026-12-07T20:00:00Z")
}

fn node_is_stored_once_and_gives_the_reference_space<S: SyncStore + ReportStore>(store: &S) {
    assert_eq!(store.node().unwrap(), None);
    assert_eq!(store.reference_space().unwrap(), None);
    let node = Node {
        node_id: "hq-node".into(),
        name: "hq".into(),
        role: NodeRole::Hq,
        space: 0,
        hq_node: None,
        credential_hash: None,
        created_at: now(),
        last_sync: None,
        pending_down: 0,
    };
    assert_eq!(store.init_node(&node).unwrap(), node);
    let other = Node { node_id: "other".into(), ..node.clone() };
    assert_eq!(store.init_node(&other).unwrap(), node, "the first identity stays");
    assert_eq!(store.reference_space().unwrap(), Some(0));
    store.node_synced(ts("2026-12-07T21:00:00Z"), 3).unwrap();
    let synced = store.node().unwrap().unwrap();
    assert_eq!((synced.last_sync, synced.pending_down), (Some(ts("2026-12-07T21:00:00Z")), 3));
}

fn offices_are_registered_listed_and_revoked<S: SyncStore>(store: &S) {
    let office = Office {
        name: "bambari".into(),
        node_id: "n-bambari".into(),
        areas: vec!["CF32".into(), "CF43".into()],
        space: 1,
        credential_hash: vec![9; 32],
        created_at: now(),
        revoked_at: None,
        last_sync: None,
        pending_up: 0,
    };
    store.add_office(&office).unwrap();
    let again = Office { node_id: "n-2".into(), space: 2, ..office.clone() };
    assert!(matches!(store.add_office(&again), Err(StoreError::Conflict(_))));
    let same_space = Office { name: "bria".into(), node_id: "n-3".into(), ..office.clone() };
    assert!(matches!(store.add_office(&same_space), Err(StoreError::Conflict(_))));
    assert_eq!(store.offices().unwrap(), vec![office.clone()]);
    store.office_seen("bambari", ts("2026-12-07T20:30:00Z"), Some(7)).unwrap();
    store.office_seen("bambari", ts("2026-12-07T20:31:00Z"), None).unwrap();
    let seen = &store.offices().unwrap()[0];
    assert_eq!((seen.last_sync, seen.pending_up), (Some(ts("2026-12-07T20:31:00Z")), 7));
    store.revoke_office("bambari", ts("2026-12-07T22:00:00Z")).unwrap();
    store.revoke_office("bambari", ts("2026-12-07T23:00:00Z")).unwrap();
    assert_eq!(store.offices().unwrap()[0].revoked_at, Some(ts("2026-12-07T22:00:00Z")), "first revocation kept");
    assert!(matches!(store.revoke_office("nowhere", now()), Err(StoreError::NotFound(_))));

    assert_eq!(store.cursor("n-bambari", Direction::Down).unwrap(), 0);
    store.set_cursor("n-bambari", Direction::Down, 42, now()).unwrap();
    store.set_cursor("n-bambari", Direction::Up, 7, now()).unwrap();
    assert_eq!(store.cursor("n-bambari", Direction::Down).unwrap(), 42);
    assert_eq!(store.cursor("n-bambari", Direction::Up).unwrap(), 7);
}

fn local() -> Scope {
    Scope { origins: Origins::Local, areas: None, kinds: vec![RecordKind::Area, RecordKind::Report, RecordKind::Step] }
}

fn the_change_log_follows_every_write_and_scopes_filter_it<S: SyncStore + ReportStore + Store>(store: &S) {
    let start = store.changes(0, &local(), 10_000).unwrap().next_cursor;
    store.save_areas(&[area("CF32", "Ouaka"), area("CF43", "Ouham")]).unwrap();
    store.save_areas(&[area("CF32", "Ouaka")]).unwrap(); // unchanged: no entry
    let a = report_at(1, Some("CF32"), "2026-01-01T00:00:00Z");
    let b = report_at(2, Some("CF43"), "2026-01-02T00:00:00Z");
    let c = report_at(3, None, "2026-01-03T00:00:00Z");
    store.insert_report(&a).unwrap();
    store.insert_reports(&[b.clone(), c.clone()]).unwrap();
    store.append_step(&step(&a.reference, 0, Step::Acknowledge)).unwrap();

    let all = store.changes(start, &local(), 100).unwrap();
    let kinds: Vec<RecordKind> = all.records.iter().map(SyncRecord::kind).collect();
    use RecordKind as K;
    assert_eq!(kinds, vec![K::Area, K::Area, K::Report, K::Report, K::Report, K::Step]);
    assert!(!all.more);
    assert!(all.records.iter().all(|r| r.origin() == "hq-node"), "local records carry this node's id");
    match &all.records[2] {
        SyncRecord::Report(r) => {
            assert_eq!(r.report.reference, a.reference);
            assert_eq!(r.contact.as_deref(), a.contact.as_ref().map(|c| c.as_stored()), "sealed text travels as is");
        }
        other => panic!("expected a report, got {other:?}"),
    }
    assert_eq!(store.pending(start, &local()).unwrap(), 6);

    // Paging: the cursor moves past what was read.
    let first = store.changes(start, &local(), 2).unwrap();
    assert_eq!((first.records.len(), first.more), (2, true));
    let rest = store.changes(first.next_cursor, &local(), 100).unwrap();
    assert_eq!(rest.records.len(), 4);
    assert_eq!(rest.next_cursor, all.next_cursor);

    // Areas by P-code prefix: the report without an area is outside.
    let ouaka = Scope { areas: Some(vec!["CF3".into()]), ..local() };
    let got = store.changes(start, &ouaka, 100).unwrap();
    assert_eq!(got.records.iter().map(SyncRecord::kind).collect::<Vec<_>>(), vec![K::Area, K::Report, K::Step]);
    assert_eq!(store.pending(start, &ouaka).unwrap(), 3);
    let reports_only = Scope { kinds: vec![K::Report], ..local() };
    assert_eq!(store.pending(start, &reports_only).unwrap(), 3);
    let none = Scope { areas: Some(vec![]), ..local() };
    assert_eq!(store.pending(start, &none).unwrap(), 0);
}

fn a_batch_lands_whole_or_not_at_all_with_its_origin<S: SyncStore + ReportStore + Store>(store: &S) {
    let start = store.changes(0, &local(), 10_000).unwrap().next_cursor;
    let r = report_at(10, Some("CF32"), "2026-02-01T00:00:00Z");
    // A failing batch leaves nothing, not even its cursor.
    let failed = store.apply(&mut |tx: &mut dyn SyncTx| {
        tx.set_origin(Some("n-bambari"))?;
        tx.insert_report(&r)?;
        tx.finish("b-1", "bambari", 1, now(), Some(("hq-peer", Direction::Down, 99)))?;
        Err(StoreError::Backend("killed".into()))
    });
    assert!(failed.is_err());
    assert_eq!(store.report(&r.reference).unwrap(), None);
    assert_eq!(store.cursor("hq-peer", Direction::Down).unwrap(), 0);

    store
        .apply(&mut |tx: &mut dyn SyncTx| {
            assert!(!tx.applied("b-1")?);
            tx.set_origin(Some("n-bambari"))?;
            tx.insert_report(&r)?;
            assert!(tx.report(&r.reference)?.is_some());
            tx.append_step(&step(&r.reference, 0, Step::Acknowledge))?;
            assert_eq!(tx.steps(&r.reference)?.len(), 1);
            tx.save_area(&area("CF50", "Bamingui-Bangoran"))?;
            assert_eq!(tx.area("CF50")?.map(|a| a.name), Some("Bamingui-Bangoran".to_string()));
            tx.set_origin(None)?;
            tx.add_conflict(&Conflict {
                peer: "bambari".into(),
                kind: RecordKind::Step,
                key: r.reference.to_string(),
                reason: "both acted".into(),
                record: "{}".into(),
                at: now(),
            })?;
            tx.finish("b-1", "bambari", 3, now(), Some(("hq-peer", Direction::Down, 99)))
        })
        .unwrap();
    assert_eq!(store.cursor("hq-peer", Direction::Down).unwrap(), 99);
    assert!(store.apply(&mut |tx: &mut dyn SyncTx| { tx.applied("b-1").map(|a| assert!(a)) }).is_ok());
    let stored = store.report(&r.reference).unwrap().unwrap();
    assert_eq!(stored.contact, r.contact);
    // What came from the office is not local, and the office's feed skips it.
    assert_eq!(store.pending(start, &local()).unwrap(), 0);
    let to_bambari = Scope { origins: Origins::Except("n-bambari".into()), ..local() };
    assert_eq!(store.pending(start, &to_bambari).unwrap(), 0);
    let to_bria = Scope { origins: Origins::Except("n-bria".into()), ..local() };
    let got = store.changes(start, &to_bria, 100).unwrap();
    assert_eq!(got.records.len(), 3);
    assert!(got.records.iter().all(|r| r.origin() == "n-bambari"), "{got:?}");
    // A write after the batch is local again.
    store.insert_report(&report_at(11, Some("CF32"), "2026-02-02T00:00:00Z")).unwrap();
    assert_eq!(store.pending(start, &local()).unwrap(), 1);
    let conflicts = store.conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!((conflicts[0].peer.as_str(), conflicts[0].reason.as_str()), ("bambari", "both acted"));
}

fn event_in(id: &str, admin1: Option<&str>, admin2: Option<&str>, fatalities: u32) -> Event {
    let mut e = simple(id, "2026-03-01", "Central African Republic", fatalities);
    e.place.admin1_pcode = admin1.map(str::to_owned);
    e.place.admin2_pcode = admin2.map(str::to_owned);
    e
}

fn events_only(areas: &[&str]) -> Scope {
    Scope {
        origins: Origins::Except("n-bambari".into()),
        areas: Some(areas.iter().map(|a| a.to_string()).collect()),
        kinds: vec![RecordKind::Event],
    }
}

/// (import id, source id, fatalities) of an event record.
type EventSeen = (i64, String, u32);
/// (id, path, origin) of an import's file record.
type ImportSeen = (i64, String, String);

/// The event records and the import records, in batch order.
fn events_of(records: &[SyncRecord]) -> (Vec<EventSeen>, Vec<ImportSeen>) {
    let mut events = Vec::new();
    let mut imports = Vec::new();
    for r in records {
        match r {
            SyncRecord::Event(e) => {
                events.push((e.import, e.event.provenance.source_id.clone(), e.event.fatalities));
                assert!(imports.iter().any(|(id, _, _)| *id == e.import), "the file record goes ahead: {records:?}");
            }
            SyncRecord::Import(i) => imports.push((i.id, i.file.path.clone(), i.origin.clone())),
            other => panic!("only events and their imports: {other:?}"),
        }
    }
    (events, imports)
}

fn events_are_logged_by_their_import_and_go_down_with_its_file_record<S: SyncStore + Store>(store: &S) {
    let start = store.changes(0, &local(), 10_000).unwrap().next_cursor;
    let ouaka = event_in("EV1", Some("CF32"), None, 1);
    let ouham_district = event_in("EV2", Some("CF43"), Some("CF431"), 2);
    let nowhere = event_in("EV3", None, None, 3);
    let first = vec![ouaka.clone(), ouham_district.clone(), nowhere.clone()];
    store.import_events(&file("first.csv", 3), &first).unwrap();
    let got = store.changes(start, &events_only(&["CF32"]), 100).unwrap();
    let (events, imports) = events_of(&got.records);
    assert_eq!(imports.len(), 1);
    assert_eq!((imports[0].1.as_str(), imports[0].2.as_str()), ("first.csv", "hq-node"));
    assert_eq!(events, vec![(imports[0].0, "EV1".to_string(), 1)]);
    // By the admin-2 P-code when there is one; an event with no P-code goes nowhere.
    let (events, _) = events_of(&store.changes(start, &events_only(&["CF431"]), 100).unwrap().records);
    assert_eq!(events.iter().map(|e| e.1.as_str()).collect::<Vec<_>>(), vec!["EV2"]);
    assert_eq!(store.pending(start, &events_only(&["CF"])).unwrap(), 2);

    // The same file again logs nothing; a revision is logged and read as it is now, once.
    store.import_events(&file("first.csv", 3), &first).unwrap();
    assert_eq!(store.pending(start, &events_only(&["CF"])).unwrap(), 2);
    let revised = event_in("EV1", Some("CF32"), None, 9);
    store.import_events(&file("second.csv", 1), &[revised]).unwrap();
    assert_eq!(store.pending(start, &events_only(&["CF32"])).unwrap(), 2);
    let got = store.changes(start, &events_only(&["CF32"]), 100).unwrap();
    let (events, imports) = events_of(&got.records);
    assert_eq!(imports.iter().map(|i| i.1.as_str()).collect::<Vec<_>>(), vec!["second.csv"]);
    assert_eq!(events, vec![(imports[0].0, "EV1".to_string(), 9)], "the current version, once");
    // Paging counts log entries in scope.
    let page = store.changes(start, &events_only(&["CF"]), 1).unwrap();
    assert!(page.more);
    let rest = store.changes(page.next_cursor, &events_only(&["CF"]), 100).unwrap();
    let (a, _) = events_of(&page.records);
    let (b, _) = events_of(&rest.records);
    assert_eq!(a.len() + b.len(), 3, "{a:?} {b:?}");
    // Other feeds do not see events.
    assert_eq!(store.pending(start, &local()).unwrap(), 0);
}

fn events_put_by_a_batch_follow_the_import_rule<S: SyncStore + Store>(store: &S) {
    let log_before = store.pending(0, &events_only(&["CF"])).unwrap();
    let imports_before = store.imports().unwrap().len();
    let import = ImportOf {
        origin: "hq-elsewhere".into(),
        id: 41,
        file: file("hq-export.csv", 2),
        imported_at: "2026-12-01T10:00:00Z".into(),
    };
    let put = |events: Vec<Event>| {
        let mut counts = ImportCounts::default();
        store
            .apply(&mut |tx: &mut dyn SyncTx| {
                counts = tx.put_events(&import, &events)?;
                Ok(())
            })
            .unwrap();
        counts
    };
    let a = event_in("HQ1", Some("CF32"), None, 1);
    let b = event_in("HQ2", Some("CF32"), Some("CF321"), 0);
    assert_eq!(put(vec![a.clone(), b.clone()]), ImportCounts { imported: 2, updated: 0, unchanged: 0 });
    assert_eq!(store.imports().unwrap().len(), imports_before + 1);
    assert_eq!(store.imports().unwrap()[0].path, "hq-export.csv");
    // Equal content again changes nothing, not even the list of imports.
    assert_eq!(put(vec![a.clone(), b.clone()]), ImportCounts { imported: 0, updated: 0, unchanged: 2 });
    assert_eq!(store.imports().unwrap().len(), imports_before + 1);
    // A revision replaces the stored event and keeps the prior version.
    let revised = event_in("HQ1", Some("CF32"), None, 5);
    assert_eq!(put(vec![revised.clone(), b]), ImportCounts { imported: 0, updated: 1, unchanged: 1 });
    let history = store.event_history(a.provenance.source, "HQ1").unwrap();
    assert_eq!(history.iter().map(|v| v.event.fatalities).collect::<Vec<_>>(), vec![1, 5]);
    assert_eq!(history[1].event, revised);
    // A batch that fails leaves no event behind.
    let failed = store.apply(&mut |tx: &mut dyn SyncTx| {
        tx.put_events(&import, &[event_in("HQ3", Some("CF32"), None, 1)])?;
        Err(StoreError::Backend("killed".into()))
    });
    assert!(failed.is_err());
    assert!(store.event_history(a.provenance.source, "HQ3").unwrap().is_empty());
    // Events that arrived are not logged again here.
    assert_eq!(store.pending(0, &events_only(&["CF"])).unwrap(), log_before);
}

fn forecast_row(unit: &str, month: &str, mean: f64) -> ForecastRow {
    ForecastRow {
        unit: unit.into(),
        name: format!("{unit} name"),
        month: month.parse().unwrap(),
        mean,
        p_any: 0.5,
        p_ge: vec![(1, 0.5), (10, 0.1)],
        quantiles: vec![(0.05, 0.0), (0.95, mean * 2.0)],
    }
}

fn forecast_run() -> ForecastRun {
    ForecastRun {
        id: 0,
        created: String::new(),
        model: "negbin".into(),
        unit_kind: "admin1".into(),
        target: "fatalities".into(),
        origin: "2026-10".parse().unwrap(),
        horizons: vec![1, 2],
        skill: "null".into(),
        parameters: "{}".into(),
    }
}

fn forecast_warning(unit: &str, run_id: Option<i64>) -> EarlyWarning {
    EarlyWarning {
        month: "2026-11".parse().unwrap(),
        kind: WarningKind::ForecastThreshold,
        value: 0.7,
        threshold: 0.5,
        reason: "P(deaths >= 10) 0.70 >= 0.50".into(),
        run_id,
        ..warning(unit, "2026-11")
    }
}

fn up_kinds() -> Scope {
    Scope {
        origins: Origins::Local,
        areas: None,
        kinds: vec![RecordKind::Outbox, RecordKind::Correction, RecordKind::WarningChange],
    }
}

fn warning(unit: &str, month: &str) -> EarlyWarning {
    EarlyWarning {
        id: 0,
        created: String::new(),
        unit: unit.into(),
        month: month.parse().unwrap(),
        kind: WarningKind::ReportBurst,
        value: 9.0,
        threshold: 4.0,
        reason: "reports above their recent level".into(),
        run_id: None,
        status: WarningStatus::New,
        status_by: None,
        status_at: None,
        note: None,
    }
}

fn correction(report: &vitalcore_intake::report::Reference, user: &str, at: &str, dims: &[&str]) -> TagCorrection {
    TagCorrection {
        report: report.clone(),
        user_id: user.into(),
        at: ts(at),
        previous_dimensions: vec![],
        previous_themes: vec![],
        dimensions: dims.iter().map(|d| d.to_string()).collect(),
        themes: vec![],
    }
}

/// Each outbox status change, tag correction and warning status change is
/// in the change log, readable as a record with its content (never a
/// contact); written in a batch they carry the batch's origin, and the
/// current tags or status follow only when asked.
fn feedback_corrections_and_warning_changes_are_logged_and_written_with_their_origin<
    S: SyncStore + ReportStore + Store + ForecastStore,
>(
    store: &S,
) {
    let start = store.changes(0, &up_kinds(), 10_000).unwrap().next_cursor;
    let r = report_at(20, Some("CF32"), "2026-03-01T00:00:00Z");
    store.insert_report(&r).unwrap();
    let ack = step(&r.reference, 0, Step::Acknowledge);
    let ids = store.append_step_with_messages(&ack, &[outbox_draft(&r.reference, 0)]).unwrap();
    let sent = OutboxChange {
        message_id: ids[0],
        seq: 1,
        status: OutboxStatus::Sent,
        user_id: "u-2".into(),
        at: ts("2026-03-02T09:00:00Z"),
        detail: Some("gw-77".into()),
    };
    store.append_outbox_changes(std::slice::from_ref(&sent)).unwrap();
    let fixed = correction(&r.reference, "u-3", "2026-03-03T10:00:00Z", &["physical"]);
    store.correct_tags(&fixed).unwrap();
    let w = warning("CF32", "2026-04");
    store.add_warnings(std::slice::from_ref(&w)).unwrap();
    let id = store.warnings(&Default::default()).unwrap().into_iter().find(|x| x.unit == "CF32").unwrap().id;
    store.set_warning_status(id, WarningStatus::Acknowledged, "u-4", "2026-03-04T08:00:00Z", Some("seen")).unwrap();

    let got = store.changes(start, &up_kinds(), 100).unwrap();
    use RecordKind as K;
    let kinds: Vec<K> = got.records.iter().map(SyncRecord::kind).collect();
    assert_eq!(kinds, [K::Outbox, K::Outbox, K::Correction, K::WarningChange]);
    assert!(got.records.iter().all(|x| x.origin() == "hq-node"), "{got:?}");
    let SyncRecord::Outbox(queued) = &got.records[0] else { unreachable!() };
    assert_eq!((queued.step.alert.clone(), queued.step.user_id.as_str()), (r.reference.clone(), ack.user_id.as_str()));
    assert_eq!((queued.change.status, queued.body.clone()), (OutboxStatus::Queued, outbox_draft(&r.reference, 0).body));
    let SyncRecord::Outbox(out) = &got.records[1] else { unreachable!() };
    assert_eq!(out.change, sent);
    let text = serde_json::to_string(&got.records).unwrap();
    if let Some(contact) = &r.contact {
        assert!(!text.contains(contact.as_stored()), "no contact travels with feedback");
    }
    let SyncRecord::Correction(c) = &got.records[2] else { unreachable!() };
    assert_eq!(c.correction, fixed);
    let SyncRecord::WarningChange(wc) = &got.records[3] else { unreachable!() };
    assert_eq!(
        (wc.unit.as_str(), wc.month, wc.warning),
        ("CF32", "2026-04".parse::<Month>().unwrap(), WarningKind::ReportBurst)
    );
    assert_eq!(
        wc.change,
        WarningChange {
            status: WarningStatus::Acknowledged,
            by_user: "u-4".into(),
            at: "2026-03-04T08:00:00Z".into(),
            note: Some("seen".into())
        }
    );

    // Written in a batch from an office: the origin is the office's, and
    // the current values follow only when asked.
    let older = correction(&r.reference, "u-9", "2026-03-01T12:00:00Z", &["political"]);
    let closed = WarningChangeOf {
        origin: "n-bambari".into(),
        change: WarningChange {
            status: WarningStatus::Closed,
            by_user: "u-9".into(),
            at: "2026-03-05T08:00:00Z".into(),
            note: None,
        },
        ..(**wc).clone()
    };
    store
        .apply(&mut |tx: &mut dyn SyncTx| {
            tx.set_origin(Some("n-bambari"))?;
            let messages = tx.outbox_of(&r.reference)?;
            assert_eq!(messages.len(), 1);
            assert_eq!(messages[0].history.len(), 2);
            let failed = OutboxChange {
                message_id: messages[0].id,
                seq: 2,
                status: OutboxStatus::Failed,
                user_id: "u-9".into(),
                at: ts("2026-03-06T00:00:00Z"),
                detail: Some("no signal".into()),
            };
            tx.append_outbox_change(&failed)?;
            tx.add_correction(&older, false)?;
            assert_eq!(tx.corrections_of(&r.reference)?, vec![fixed.clone(), older.clone()]);
            assert_eq!(tx.warning_changes("CF32", wc.month, wc.warning)?.map(|l| l.len()), Some(1), "acknowledged");
            assert_eq!(tx.warning_changes("CF99", wc.month, wc.warning)?, None);
            tx.add_warning_change(&closed, true)?;
            Ok(())
        })
        .unwrap();
    assert_eq!(
        store.report(&r.reference).unwrap().unwrap().tags.dimensions,
        fixed.dimensions,
        "an older correction leaves the tags"
    );
    let now = store.warnings(&Default::default()).unwrap().into_iter().find(|x| x.id == id).unwrap();
    assert_eq!((now.status, now.status_by.as_deref()), (WarningStatus::Closed, Some("u-9")));
    let to_bambari = Scope { origins: Origins::Except("n-bambari".into()), ..up_kinds() };
    assert_eq!(store.pending(got.next_cursor, &to_bambari).unwrap(), 0, "the office's own come back to nobody");
    let from_office =
        store.changes(got.next_cursor, &Scope { origins: Origins::Except("x".into()), ..up_kinds() }, 100).unwrap();
    assert_eq!(from_office.records.len(), 3);
    assert!(from_office.records.iter().all(|x| x.origin() == "n-bambari"));
    assert_eq!(store.pending(got.next_cursor, &up_kinds()).unwrap(), 0, "none of them is local");
    // A message queued in a batch is stored with its queued entry.
    let r2 = report_at(21, Some("CF32"), "2026-03-01T00:00:00Z");
    store.insert_report(&r2).unwrap();
    store.append_step(&step(&r2.reference, 0, Step::Acknowledge)).unwrap();
    store
        .apply(&mut |tx: &mut dyn SyncTx| {
            tx.set_origin(Some("n-bambari"))?;
            tx.queue_message(&OutboxDraft { report: r2.reference.clone(), ..outbox_draft(&r2.reference, 0) })
        })
        .unwrap();
    let queued = store
        .outbox(&vitalcore_intake::outbox::OutboxFilter { report: Some(r2.reference.clone()), ..Default::default() })
        .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].status(), OutboxStatus::Queued);
    assert_eq!(queued[0].origin.as_deref(), Some("n-bambari"), "it keeps the node that queued it");
    let to_send = store.outbox(&vitalcore_intake::outbox::OutboxFilter::to_send(&[OutboxStatus::Queued])).unwrap();
    assert!(to_send.iter().all(|m| m.report != r2.reference), "the office sends it, never this node too");
    assert!(store.outbox(&Default::default()).unwrap().iter().any(|m| m.report == r.reference && m.origin.is_none()));
}

fn only(kind: RecordKind, areas: &[&str]) -> Scope {
    Scope { kinds: vec![kind], ..events_only(areas) }
}

fn forecasts_and_warnings_go_down_by_unit_and_are_put_once<S: SyncStore + ForecastStore>(store: &S) {
    let start = store.changes(0, &local(), 10_000).unwrap().next_cursor;
    let rows = [
        forecast_row("CF32", "2026-11", 3.0),
        forecast_row("CF32", "2026-12", 4.0),
        forecast_row("CF43", "2026-11", 1.0),
    ];
    let run_id = store.save_forecast_run(&forecast_run(), &rows).unwrap();
    let got = store.changes(start, &only(RecordKind::Forecast, &["CF32"]), 100).unwrap();
    assert_eq!(got.records.len(), 1, "one record per run: {got:?}");
    let SyncRecord::Forecast(f) = &got.records[0] else { panic!("{got:?}") };
    assert_eq!((f.origin.as_str(), f.run.id, f.run.model.as_str()), ("hq-node", run_id, "negbin"));
    assert_eq!(f.rows, rows[..2].to_vec(), "only the rows of the office's areas");
    assert_eq!(store.pending(start, &only(RecordKind::Forecast, &["CF4"])).unwrap(), 1);

    store.add_warnings(&[forecast_warning("CF32", Some(run_id)), forecast_warning("CF43", None)]).unwrap();
    let ouaka = store.warnings(&Default::default()).unwrap().into_iter().find(|w| w.unit == "CF32").unwrap();
    store
        .set_warning_status(ouaka.id, WarningStatus::Acknowledged, "amina", "2026-12-07T09:00:00Z", Some("called"))
        .unwrap();
    let got = store.changes(start, &only(RecordKind::Warning, &["CF32"]), 100).unwrap();
    let kinds: Vec<RecordKind> = got.records.iter().map(SyncRecord::kind).collect();
    assert_eq!(kinds, [RecordKind::Warning, RecordKind::WarningChange], "as raised, then its changes: {got:?}");
    let SyncRecord::Warning(w) = &got.records[0] else { panic!("{got:?}") };
    assert_eq!((w.warning.status, w.warning.run_id), (WarningStatus::New, Some(run_id)), "as raised");
    assert_eq!((&w.warning.status_by, &w.warning.note), (&None, &None));
    let SyncRecord::WarningChange(c) = &got.records[1] else { panic!("{got:?}") };
    assert_eq!((c.unit.as_str(), c.warning, c.origin.as_str()), ("CF32", WarningKind::ForecastThreshold, "hq-node"));
    let acknowledged = WarningChange {
        status: WarningStatus::Acknowledged,
        by_user: "amina".into(),
        at: "2026-12-07T09:00:00Z".into(),
        note: Some("called".into()),
    };
    assert_eq!(c.change, acknowledged);

    // A status change goes down on its own to the offices of the warning's
    // unit, never back to the office it came from.
    let down_to = |office: &str, areas: &[&str]| Scope {
        origins: Origins::Except(office.into()),
        areas: Some(areas.iter().map(|a| a.to_string()).collect()),
        kinds: vec![RecordKind::Warning, RecordKind::WarningChange],
    };
    let after = got.next_cursor;
    store.set_warning_status(ouaka.id, WarningStatus::Closed, "lead", "2026-12-07T10:00:00Z", Some("calm")).unwrap();
    let got = store.changes(after, &down_to("n-bambari", &["CF3"]), 100).unwrap();
    assert_eq!(got.records.len(), 1, "{got:?}");
    let SyncRecord::WarningChange(c) = &got.records[0] else { panic!("{got:?}") };
    assert_eq!((c.change.status, c.change.note.as_deref()), (WarningStatus::Closed, Some("calm")));
    assert_eq!(store.pending(after, &down_to("n-bria", &["CF41"])).unwrap(), 0, "not the office's areas");
    let from_office = WarningChangeOf {
        origin: "n-bambari".into(),
        change: WarningChange {
            status: WarningStatus::Acknowledged,
            at: "2026-12-07T11:00:00Z".into(),
            ..acknowledged
        },
        ..(**c).clone()
    };
    let before = got.next_cursor;
    store
        .apply(&mut |tx: &mut dyn SyncTx| {
            tx.set_origin(Some("n-bambari"))?;
            tx.add_warning_change(&from_office, true)
        })
        .unwrap();
    assert_eq!(store.pending(before, &down_to("n-bambari", &["CF3"])).unwrap(), 0, "no echo to its office");
    let relayed = store.changes(before, &down_to("n-ippy", &["CF32"]), 100).unwrap();
    assert_eq!(relayed.records.len(), 1, "{relayed:?}");
    assert_eq!(relayed.records[0].origin(), "n-bambari");

    // Put at another node: once, rows added later join the same run.
    let theirs = ForecastOf {
        origin: "hq-elsewhere".into(),
        run: ForecastRun { id: 77, created: "2026-12-01T00:00:00Z".into(), ..forecast_run() },
        rows: vec![forecast_row("CF50", "2026-11", 2.0), forecast_row("CF50", "2026-12", 2.5)],
    };
    let put = |f: &ForecastOf| {
        let mut new = 0;
        store
            .apply(&mut |tx: &mut dyn SyncTx| {
                tx.set_origin(Some("hq-elsewhere"))?;
                new = tx.put_forecast(f)?;
                Ok(())
            })
            .unwrap();
        new
    };
    assert_eq!(put(&theirs), 2);
    assert_eq!(put(&theirs), 0);
    let more = ForecastOf { rows: vec![forecast_row("CF51", "2026-11", 9.0)], ..theirs.clone() };
    assert_eq!(put(&more), 1);
    let here = store.latest_forecast_run(Some("admin1")).unwrap().unwrap();
    assert_eq!(here.created, "2026-12-01T00:00:00Z");
    let stored = store.forecast_rows(here.id).unwrap();
    assert_eq!(stored.iter().map(|r| r.unit.as_str()).collect::<Vec<_>>(), vec!["CF50", "CF50", "CF51"]);

    let their_warning = WarningOf {
        origin: "hq-elsewhere".into(),
        warning: EarlyWarning {
            id: 5,
            created: "2026-12-01T00:00:00Z".into(),
            run_id: Some(77),
            status: WarningStatus::Closed,
            status_by: Some("lead".into()),
            status_at: Some("2026-12-02T00:00:00Z".into()),
            note: Some(crate::forecasts::WarningNote {
                text: "false alarm".into(),
                by: "lead".into(),
                at: "2026-12-02T00:00:00Z".into(),
                status: WarningStatus::Closed,
            }),
            ..forecast_warning("CF50", None)
        },
    };
    let put_warning = || {
        let mut new = false;
        store
            .apply(&mut |tx: &mut dyn SyncTx| {
                tx.set_origin(Some("hq-elsewhere"))?;
                new = tx.put_warning(&their_warning)?;
                Ok(())
            })
            .unwrap();
        new
    };
    assert!(put_warning());
    assert!(!put_warning(), "one warning per unit, month and kind");
    let stored = store.warnings(&Default::default()).unwrap().into_iter().find(|w| w.unit == "CF50").unwrap();
    assert_eq!((stored.status, stored.status_by.as_deref()), (WarningStatus::Closed, Some("lead")));
    assert_eq!(stored.note.map(|n| n.text), Some("false alarm".into()));
    assert_eq!(stored.run_id, Some(here.id), "its run is the one here that stands for HQ's");
    // What arrived is not this node's own: no local entry for it.
    let local_kinds = Scope { kinds: vec![RecordKind::Forecast, RecordKind::Warning], ..local() };
    assert_eq!(store.pending(start, &local_kinds).unwrap(), 3 + 2);
}

fn accounts_of_an_area_go_down_with_their_hash_and_no_other_ever<S: SyncStore + ReportStore>(store: &S) {
    use vitalcore_security::auth::Role;
    let start = store.changes(0, &local(), 10_000).unwrap().next_cursor;
    let users_only = |areas: &[&str]| only(RecordKind::User, areas);
    let focal = user("u-fp-ouaka", "fp-ouaka", Role::FocalPoint, Some("CF32"));
    store.save_user(&focal, "admin").unwrap();
    store.save_user(&user("u-analyst", "hq-analyst", Role::Analyst, None), "admin").unwrap();
    store.save_user(&user("u-fp-bria", "fp-bria", Role::FocalPoint, Some("CF41")), "admin").unwrap();
    let got = store.changes(start, &users_only(&["CF32"]), 100).unwrap();
    assert_eq!(got.records.len(), 1, "{got:?}");
    let SyncRecord::User(u) = &got.records[0] else { panic!("{got:?}") };
    assert_eq!((u.user.username.as_str(), u.password_hash.as_str()), ("fp-ouaka", focal.password_hash.as_str()));
    assert_eq!(store.pending(start, &users_only(&["CF"])).unwrap(), 2, "the analyst has no area: never down");
    // A change is logged again; an unchanged save is not.
    store.save_user(&focal, "admin").unwrap();
    assert_eq!(store.pending(start, &users_only(&["CF32"])).unwrap(), 1);
    store.save_user(&User { active: false, ..focal.clone() }, "admin").unwrap();
    assert_eq!(store.pending(start, &users_only(&["CF32"])).unwrap(), 2);

    let theirs = user("u-fp-remote", "fp-remote", Role::FocalPoint, Some("CF50"));
    let put = |u: &User| {
        let mut changed = Ok(false);
        store
            .apply(&mut |tx: &mut dyn SyncTx| {
                tx.set_origin(Some("hq-elsewhere"))?;
                changed = tx.put_user(u, "system:sync");
                Ok(())
            })
            .unwrap();
        changed
    };
    assert_eq!(put(&theirs), Ok(true));
    assert_eq!(put(&theirs), Ok(false), "equal: nothing changes");
    let stored = store.user_by_username("fp-remote").unwrap().unwrap();
    assert_eq!(stored.password_hash, theirs.password_hash, "its holder can log in here");
    let clash = user("u-other", "fp-remote", Role::FocalPoint, Some("CF50"));
    assert!(matches!(put(&clash), Err(StoreError::Conflict(_))), "a username held here is not overwritten");
    assert_eq!(store.user("u-other").unwrap(), None);
    // Three accounts and one change made here; what arrived is not logged as this node's.
    assert_eq!(store.pending(start, &Scope { kinds: vec![RecordKind::User], ..local() }).unwrap(), 4);
}
