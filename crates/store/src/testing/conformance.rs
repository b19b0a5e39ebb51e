//! The store contract, checked the same way on every backend. Each backend's
//! test binary calls `vitalcore_store::conformance_tests!(expression giving
//! Some(fresh store))` in a module of its own: one `#[test]` per check, each
//! on a fresh store, which must deref to a `Store` whose database is empty
//! (`None` skips, where a backend's server may be absent).

use crate::{Area, EventFilter, ImportCounts, Store, StoreCounts, StoreError, events};
use vitalcore_framework::{Event, Month, Source};

use super::synthetic;

/// One `#[test]` per contract check, each on a fresh store.
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:expr) => {
        mod conformance_suite {
            #[allow(unused_imports)]
            use super::*;
            $crate::conformance_tests!(@each $fresh;
                first_import_counts_every_event_as_imported,
                reimport_of_the_same_file_changes_nothing,
                revised_event_is_updated_and_keeps_its_prior_version,
                stored_events_read_back_equal_to_what_was_imported,
                events_stream_in_date_order,
                filters_select_month_range_source_and_country,
                identical_duplicates_in_one_batch_count_as_unchanged,
                conflicting_duplicate_ids_roll_back_the_whole_batch,
                areas_are_upserted_by_pcode,
                observations_follow_the_same_import_contract,
                imports_are_listed_newest_first,
                concurrent_reads_and_writes_from_threads,
                small_revision_batch_into_a_larger_table,
                data_version_changes_with_every_committed_import_only,
                streamed_import_follows_the_same_contract,
            );
        }
    };
    (@each $fresh:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                // `$fresh` is `None` only where a backend's tests may be skipped.
                let Some(store) = $fresh else { return };
                $crate::testing::conformance::$name(&*store);
            }
        )*
    };
}

fn import(store: &dyn Store, path: &str, events: &[Event]) -> ImportCounts {
    store.import_events(&synthetic::file(path, events.len()), events).expect("import succeeds")
}

fn counts(imported: u64, updated: u64, unchanged: u64) -> ImportCounts {
    ImportCounts { imported, updated, unchanged }
}

pub fn first_import_counts_every_event_as_imported(store: &dyn Store) {
    let batch = synthetic::events(500, 1);
    assert_eq!(import(store, "a.csv", &batch), counts(500, 0, 0));
    let c = store.counts().unwrap();
    assert_eq!((c.events, c.prior_versions, c.imports), (500, 0, 1));
}

pub fn reimport_of_the_same_file_changes_nothing(store: &dyn Store) {
    let batch = synthetic::events(300, 2);
    import(store, "a.csv", &batch);
    let before = store.counts().unwrap();
    let before_events = events(store, &EventFilter::default()).unwrap();
    assert_eq!(import(store, "a.csv", &batch), counts(0, 0, 300));
    let after = store.counts().unwrap();
    // Only the import itself is recorded.
    assert_eq!(after, StoreCounts { imports: before.imports + 1, ..before });
    assert_eq!(events(store, &EventFilter::default()).unwrap(), before_events);
    // The same events read from another file (other lines) are still unchanged.
    let mut moved = batch.clone();
    for e in &mut moved {
        e.provenance.file = "b.csv".into();
        e.provenance.line += 10;
    }
    assert_eq!(import(store, "b.csv", &moved), counts(0, 0, 300));
    assert_eq!(store.counts().unwrap().prior_versions, 0);
}

pub fn revised_event_is_updated_and_keeps_its_prior_version(store: &dyn Store) {
    let original = vec![
        synthetic::simple("E1", "2014-03-02", "Mali", 1),
        synthetic::simple("E2", "2014-03-05", "Mali", 0),
        synthetic::simple("E3", "2014-04-01", "Mali", 0),
    ];
    import(store, "v1.csv", &original);
    let mut revised = original.clone();
    revised[1].fatalities = 7;
    revised[1].notes = Some("revised by the source".into());
    revised[1].provenance.file = "v2.csv".into();
    assert_eq!(import(store, "v2.csv", &revised), counts(0, 1, 2));
    assert_eq!(store.counts().unwrap().prior_versions, 1);

    let history = store.event_history(Source::Acled, "E2").unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!((history[0].version, history[1].version), (1, 2));
    assert_eq!(history[0].event, original[1]);
    assert_eq!(history[1].event, revised[1]);
    assert_eq!(history[1].event.provenance.file, "v2.csv");

    let current = events(store, &EventFilter::default()).unwrap();
    assert_eq!(current.iter().find(|e| e.provenance.source_id == "E2").unwrap().fatalities, 7);
    assert_eq!(store.event_history(Source::Acled, "E1").unwrap().len(), 1);
    assert!(store.event_history(Source::Acled, "nope").unwrap().is_empty());
    assert!(store.event_history(Source::UcdpGed, "E1").unwrap().is_empty());

    // A second revision keeps both earlier versions, in order.
    revised[1].fatalities = 9;
    assert_eq!(import(store, "v3.csv", &revised), counts(0, 1, 2));
    let fatalities: Vec<u32> =
        store.event_history(Source::Acled, "E2").unwrap().iter().map(|v| v.event.fatalities).collect();
    assert_eq!(fatalities, vec![0, 7, 9]);
}

pub fn stored_events_read_back_equal_to_what_was_imported(store: &dyn Store) {
    let mut batch = synthetic::events(200, 3);
    // Edge values: empty tag lists, an end date, Unicode, absent place.
    batch[0].tags.dimensions.clear();
    batch[0].tags.themes = vec!["children".into(), "crsv".into()];
    batch[1].date_end = Some("2016-02-29".parse().unwrap());
    batch[2].place = Default::default();
    batch[3].notes = Some("Côte d'Ivoire; «quotes», \"commas\", and a\nnewline".into());
    batch[4].civilian_fatalities = Some(0);
    import(store, "a.csv", &batch);
    let mut stored = events(store, &EventFilter::default()).unwrap();
    stored.sort_by_key(|e| e.provenance.line);
    assert_eq!(stored.len(), batch.len());
    for (got, want) in stored.iter().zip(&batch) {
        assert_eq!(got, want);
    }
}

pub fn events_stream_in_date_order(store: &dyn Store) {
    import(store, "a.csv", &synthetic::events(400, 4));
    let mut last = None;
    let n = store
        .for_each_event(&EventFilter::default(), &mut |e| {
            if let Some(prev) = last {
                assert!(prev <= e.date, "{prev} came before {}", e.date);
            }
            last = Some(e.date);
        })
        .unwrap();
    assert_eq!(n, 400);
}

pub fn filters_select_month_range_source_and_country(store: &dyn Store) {
    let mut batch = vec![
        synthetic::simple("A", "2013-12-31", "Mali", 0),
        synthetic::simple("B", "2014-01-01", "Mali", 0),
        synthetic::simple("C", "2014-02-28", "mali", 0),
        synthetic::simple("D", "2014-03-01", "Côte d'Ivoire", 0),
        synthetic::simple("E", "2014-02-10", "Niger", 0),
    ];
    let mut ucdp = synthetic::simple("U", "2014-02-11", "Mali", 0);
    ucdp.provenance.source = Source::UcdpGed;
    batch.push(ucdp);
    import(store, "a.csv", &batch);
    let ids = |filter: EventFilter| -> Vec<String> {
        events(store, &filter).unwrap().into_iter().map(|e| e.provenance.source_id).collect()
    };
    let month = |s: &str| Some(s.parse::<Month>().unwrap());
    assert_eq!(
        ids(EventFilter { from: month("2014-01"), to: month("2014-02"), ..Default::default() }),
        ["B", "E", "U", "C"]
    );
    assert_eq!(ids(EventFilter { from: month("2014-03"), ..Default::default() }), ["D"]);
    assert_eq!(ids(EventFilter { to: month("2013-12"), ..Default::default() }), ["A"]);
    assert_eq!(ids(EventFilter { source: Some(Source::UcdpGed), ..Default::default() }), ["U"]);
    assert_eq!(ids(EventFilter { country: Some("MALI".into()), ..Default::default() }), ["A", "B", "U", "C"]);
    assert_eq!(ids(EventFilter { country: Some("CÔTE D'IVOIRE".into()), ..Default::default() }), ["D"]);
    assert_eq!(
        ids(EventFilter {
            from: month("2014-02"),
            to: month("2014-02"),
            source: Some(Source::Acled),
            country: Some("mali".into()),
        }),
        ["C"]
    );
    assert!(ids(EventFilter { country: Some("Chad".into()), ..Default::default() }).is_empty());
}

pub fn identical_duplicates_in_one_batch_count_as_unchanged(store: &dyn Store) {
    let e = synthetic::simple("D1", "2015-01-01", "Mali", 2);
    let mut again = e.clone();
    again.provenance.line = 9;
    let other = synthetic::simple("D2", "2015-01-02", "Mali", 0);
    assert_eq!(import(store, "d.csv", &[e, other, again]), counts(2, 0, 1));
    assert_eq!(store.counts().unwrap().events, 2);
    assert_eq!(store.event_history(Source::Acled, "D1").unwrap().len(), 1);
}

/// The rule: one batch may not hold the same (source, id) twice with
/// different content; such a batch is refused whole and nothing changes.
pub fn conflicting_duplicate_ids_roll_back_the_whole_batch(store: &dyn Store) {
    import(store, "first.csv", &synthetic::events(50, 5));
    let before = store.counts().unwrap();
    let before_events = events(store, &EventFilter::default()).unwrap();
    let mut batch = synthetic::events(120, 6);
    for e in &mut batch {
        e.provenance.source_id = format!("NEW{}", e.provenance.source_id);
    }
    batch[10].fatalities += 1; // also a revision of nothing: it is new
    let mut conflicting = batch[3].clone();
    conflicting.fatalities += 5;
    conflicting.provenance.line = 999;
    batch.push(conflicting);
    let err = store.import_events(&synthetic::file("bad.csv", batch.len()), &batch).unwrap_err().to_string();
    assert!(err.contains("bad.csv") && err.contains("999"), "the error names the file and line: {err}");
    assert_eq!(store.counts().unwrap(), before, "nothing landed, not even the import record");
    assert_eq!(events(store, &EventFilter::default()).unwrap(), before_events);
}

pub fn areas_are_upserted_by_pcode(store: &dyn Store) {
    let area = |pcode: &str, name: &str, level: u8, parent: Option<&str>| Area {
        pcode: pcode.into(),
        name: name.into(),
        level,
        parent_pcode: parent.map(Into::into),
        country: Some("Central African Republic".into()),
        geometry: Some(r#"{"type":"Point","coordinates":[18.5,4.4]}"#.into()),
    };
    assert_eq!(
        store.save_areas(&[area("CF", "CAR", 0, None), area("CF11", "Ombella M'Poko", 1, Some("CF"))]).unwrap(),
        2
    );
    let renamed = Area { geometry: None, ..area("CF11", "Ombella-M'Poko", 1, Some("CF")) };
    store.save_areas(&[renamed.clone(), area("CF12", "Lobaye", 1, Some("CF"))]).unwrap();
    let areas = store.areas().unwrap();
    assert_eq!(areas.len(), 3);
    assert_eq!(areas.iter().find(|a| a.pcode == "CF11").unwrap(), &renamed);
    assert_eq!(store.counts().unwrap().areas, 3);
}

pub fn observations_follow_the_same_import_contract(store: &dyn Store) {
    let rows = vec![synthetic::observation("h1", "Beni", "12"), synthetic::observation("h2", "Butembo", "3")];
    let file = synthetic::file("ebola.csv", 2);
    assert_eq!(store.import_observations(&file, &rows).unwrap(), counts(2, 0, 0));
    assert_eq!(store.import_observations(&file, &rows).unwrap(), counts(0, 0, 2));
    let mut revised = rows.clone();
    revised[0].values[1].1 = "14".into();
    assert_eq!(store.import_observations(&file, &revised).unwrap(), counts(0, 1, 1));
    let mut seen = Vec::new();
    assert_eq!(store.for_each_observation(&mut |o| seen.push(o)).unwrap(), 2);
    seen.sort_by(|a, b| a.provenance.source_id.cmp(&b.provenance.source_id));
    assert_eq!(seen, revised);
    let c = store.counts().unwrap();
    assert_eq!((c.observations, c.events, c.imports), (2, 0, 3));
}

pub fn imports_are_listed_newest_first(store: &dyn Store) {
    import(store, "first.csv", &synthetic::events(5, 7));
    let mut second = synthetic::file("second.csv", 7);
    second.rows_rejected = 2;
    second.format = "ucdp-ged-csv".into();
    store.import_events(&second, &synthetic::events(5, 8)).unwrap();
    let imports = store.imports().unwrap();
    let paths: Vec<&str> = imports.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["second.csv", "first.csv"]);
    assert_eq!((imports[0].rows_read, imports[0].rows_rejected, imports[0].format.as_str()), (7, 2, "ucdp-ged-csv"));
}

pub fn concurrent_reads_and_writes_from_threads(store: &dyn Store) {
    import(store, "base.csv", &synthetic::events(200, 9));
    std::thread::scope(|scope| {
        for t in 0..3u64 {
            scope.spawn(move || {
                let mut batch = synthetic::events(100, 100 + t);
                for e in &mut batch {
                    e.provenance.source_id = format!("T{t}-{}", e.provenance.source_id);
                }
                assert_eq!(import(store, &format!("t{t}.csv"), &batch), counts(100, 0, 0));
            });
            scope.spawn(move || {
                let n = store.for_each_event(&EventFilter::default(), &mut |_| {}).unwrap();
                assert!((200..=500).contains(&n), "a reader sees whole imports only, got {n}");
                assert_eq!(n % 100, 0, "a reader sees whole imports only, got {n}");
            });
        }
    });
    assert_eq!(store.counts().unwrap().events, 500);
}

/// A small batch into a much larger table (backends may look rows up one by
/// one rather than loading every stored id).
pub fn small_revision_batch_into_a_larger_table(store: &dyn Store) {
    let batch = synthetic::events(400, 10);
    import(store, "big.csv", &batch);
    let mut small: Vec<Event> = batch[..6].to_vec();
    small[1].fatalities += 3;
    small[4].tags.severity = 9;
    small.push(synthetic::simple("brand-new", "2020-01-01", "Mali", 0));
    assert_eq!(import(store, "small.csv", &small), counts(1, 2, 4));
    assert_eq!(store.counts().unwrap().prior_versions, 2);
    assert_eq!(store.counts().unwrap().events, 401);
}

/// Every committed import (new, revised, unchanged, observations) gives a new
/// data version; reads, area saves and a rolled-back import do not.
pub fn data_version_changes_with_every_committed_import_only(store: &dyn Store) {
    let mut seen = vec![store.data_version().unwrap()];
    let mut expect_new = |store: &dyn Store, what: &str| {
        let v = store.data_version().unwrap();
        assert!(!seen.contains(&v), "{what}: version {v:?} was seen before ({seen:?})");
        seen.push(v);
    };
    let batch = synthetic::events(50, 11);
    import(store, "a.csv", &batch);
    expect_new(store, "first import");
    import(store, "a.csv", &batch);
    expect_new(store, "re-import with nothing changed");
    let mut revised = batch[..3].to_vec();
    revised[0].fatalities += 1;
    import(store, "b.csv", &revised);
    expect_new(store, "a revision");
    store.import_observations(&synthetic::file("obs.csv", 1), &[synthetic::observation("o1", "Beni", "3")]).unwrap();
    expect_new(store, "observations");
    let before = store.data_version().unwrap();
    events(store, &EventFilter::default()).unwrap();
    store
        .save_areas(&[Area {
            pcode: "CF11".into(),
            name: "Ouham".into(),
            level: 1,
            parent_pcode: None,
            country: None,
            geometry: None,
        }])
        .unwrap();
    let mut conflict = synthetic::events(2, 12);
    conflict[1].provenance.source_id = conflict[0].provenance.source_id.clone();
    conflict[1].fatalities = conflict[0].fatalities + 1;
    let refused = store.import_events(&synthetic::file("conflict.csv", 2), &conflict);
    assert!(matches!(refused, Err(StoreError::BatchConflict { .. })), "{refused:?}");
    assert_eq!(store.data_version().unwrap(), before, "reads, areas and a refused import leave the version");
}

fn import_streamed(store: &dyn Store, path: &str, batch: &[Event]) -> Result<ImportCounts, StoreError> {
    store.import_events_streamed(batch.len() as u64, &mut |sink| {
        for e in batch.iter().cloned() {
            sink(e)?;
        }
        Ok(synthetic::file(path, batch.len()))
    })
}

fn sorted_events(store: &dyn Store) -> Vec<Event> {
    let mut all = events(store, &EventFilter::default()).unwrap();
    all.sort_by(|a, b| a.provenance.source_id.cmp(&b.provenance.source_id));
    all
}

/// `import_events_streamed` (issue 14): the contract of `import_events` for
/// events handed over one at a time, in one transaction.
pub fn streamed_import_follows_the_same_contract(store: &dyn Store) {
    // Into an empty store (PostgreSQL: straight into the table), with a repeat.
    let mut first = synthetic::events(500, 31);
    first.push(first[7].clone());
    assert_eq!(import_streamed(store, "s1.csv", &first).unwrap(), counts(500, 0, 1));
    let mut expected = first[..500].to_vec();
    expected.sort_by(|a, b| a.provenance.source_id.cmp(&b.provenance.source_id));
    assert_eq!(sorted_events(store), expected, "stored as given");
    let listed = &store.imports().unwrap()[0];
    assert_eq!((listed.path.as_str(), listed.rows_read), ("s1.csv", 501), "the file recorded at the end");
    // Into a filled store: new, unchanged and revised events.
    let mut second: Vec<Event> = synthetic::events(100, 32)
        .into_iter()
        .map(|mut e| {
            e.provenance.source_id.push_str("-n");
            e
        })
        .collect();
    second.extend(first[10..20].iter().cloned());
    let mut revised = first[30].clone();
    revised.fatalities += 7;
    second.push(revised);
    assert_eq!(import_streamed(store, "s2.csv", &second).unwrap(), counts(100, 1, 10));
    let c = store.counts().unwrap();
    assert_eq!((c.events, c.prior_versions, c.imports), (600, 1, 2));
    // A conflict, or a failing reader: nothing stored.
    let before = (store.counts().unwrap(), sorted_events(store));
    let mut conflict: Vec<Event> = synthetic::events(50, 33)
        .into_iter()
        .map(|mut e| {
            e.provenance.source_id.push_str("-c");
            e
        })
        .collect();
    let mut twin = conflict[5].clone();
    twin.fatalities += 1;
    conflict.push(twin);
    let err = import_streamed(store, "s3.csv", &conflict).unwrap_err();
    assert!(matches!(err, StoreError::BatchConflict { .. }), "{err}");
    let failed = store.import_events_streamed(10, &mut |sink| {
        for e in synthetic::events(10, 34) {
            sink(e)?;
        }
        Err(StoreError::Backend("the file ends in the middle of a row".into()))
    });
    assert!(failed.is_err());
    assert_eq!((store.counts().unwrap(), sorted_events(store)), before);
}
