//! The analyses read the stored events streamed into a compact table (or
//! rolled up into a forecast panel as they come) and give exactly what they
//! gave from all the events in memory: on the UCDP demo data (Central
//! African Republic, placed in the OCHA admin-1 boundaries) with community
//! reports, on SQLite and PostgreSQL.

use vitalcore_app::analysis::{AnalysisError, Range, for_each_in_range, load_table, stored_community_events};
use vitalcore_assess::{AssessOptions, Period, assess, dimension_panel, profile};
use vitalcore_forecast::{Panel, PanelBuilder, PanelOptions};
use vitalcore_framework::{Event, Framework, Month, UnitKind};
use vitalcore_intake::report::Reference;
use vitalcore_intake::{CategoryMap, Channel, ContactKey, Intake, ReportDraft};
use vitalcore_store::reports::ReportStore;
use vitalcore_store::{EventFilter, ImportFile, Store};

fn demo(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo").join(file)
}

/// The demo events and boundaries, and reports of attacks in three prefectures over 2019-2021.
fn fill(store: &(impl Store + ReportStore)) {
    let areas = vitalcore_import::read_boundaries(&demo("caf-adm1-ocha.geojson")).unwrap();
    let index = vitalcore_spatial::AreaIndex::new(&areas).unwrap();
    store.save_areas(&areas).unwrap();
    let path = demo("ucdp-ged-23.1-caf.geojson");
    let events = vitalcore_import::read_events(&path, &Framework::built_in(), Some(&index), &|_| {}).unwrap().events;
    assert!(events.len() > 1000);
    let file = ImportFile {
        path: path.display().to_string(),
        sha256: "0".repeat(64),
        format: "ucdp-ged".into(),
        rows_read: events.len() as u64,
        rows_rejected: 0,
    };
    store.import_events(&file, &events).unwrap();
    let intake = Intake::new(ContactKey::from_bytes([7; 32]), CategoryMap::built_in());
    for i in 0..36u32 {
        let draft = ReportDraft {
            text: format!("armed men attacked the market, report {i}"),
            category: Some("attack".into()),
            area_pcode: Some(["CF32", "CF11", "CF63"][i as usize % 3].into()),
            event_time: Some(format!("{}-{:02}-10", 2019 + i / 12, i % 12 + 1)),
            ..ReportDraft::default()
        };
        let received = "2022-01-01T00:00:00Z".parse().unwrap();
        let report = intake.accept_as(&draft, Channel::WebForm, received, Reference::from_number(i + 1)).unwrap();
        store.insert_report(&report).unwrap();
    }
}

/// `analysis::load` as it was: every event in range in memory, then the
/// reports, then the months resolved from them.
fn load_all(
    store: &dyn Store,
    reports: &dyn ReportStore,
    range: &Range,
    period: Period,
) -> Result<(Vec<Event>, AssessOptions), AnalysisError> {
    let filter = EventFilter { from: range.from, to: range.to, ..EventFilter::default() };
    let mut events = vitalcore_store::events(store, &filter)?;
    let areas = store.areas()?;
    let in_range = |e: &Event| {
        range.from.is_none_or(|f| Month::of(e.date) >= f) && range.to.is_none_or(|t| Month::of(e.date) <= t)
    };
    events.extend(stored_community_events(reports, &areas)?.into_iter().filter(in_range));
    let first = events.iter().map(|e| Month::of(e.date)).min();
    let last = events.iter().map(|e| Month::of(e.date)).max();
    let (Some(from), Some(to)) = (range.from.or(first), range.to.or(last)) else {
        return Err(AnalysisError::NoEvents);
    };
    let mut opts = AssessOptions::new(range.unit, from, to, period);
    opts.area_names = areas.into_iter().map(|a| (a.pcode, a.name)).collect();
    Ok((events, opts))
}

fn streamed_equals_all_in_memory(store: &(impl Store + ReportStore)) {
    fill(store);
    let fw = Framework::built_in();
    let month = |s: &str| Some(s.parse::<Month>().unwrap());
    let ranges = [
        Range { unit: UnitKind::Admin1, from: None, to: None },
        Range { unit: UnitKind::Admin1, from: month("2018-01"), to: month("2021-06") },
        Range { unit: UnitKind::Country, from: None, to: None },
        Range { unit: UnitKind::Grid, from: month("2020-01"), to: month("2020-12") },
    ];
    for range in ranges {
        let (events, opts) = load_all(store, store, &range, Period::Month).unwrap();
        let (table, streamed_opts) = load_table(store, Some(store), &range, Period::Month).unwrap();
        assert_eq!(table.len(), events.len(), "{range:?}");
        assert_eq!((streamed_opts.from, streamed_opts.to), (opts.from, opts.to), "{range:?}");
        assert_eq!(streamed_opts.area_names, opts.area_names);

        let assessment = assess(&events, &fw, &opts);
        // The reports name a prefecture, not a point: they have no grid cell.
        let placed_reports = range.unit != UnitKind::Grid;
        assert_eq!(assessment.rows.iter().any(|r| r.reports > 0), placed_reports, "{range:?}: the reports counted");
        assert_eq!(table.assess(&fw, &opts), assessment, "{range:?}");
        let quarters = AssessOptions { period: Period::Quarter, ..opts.clone() };
        assert_eq!(table.assess(&fw, &quarters), assess(&events, &fw, &quarters), "{range:?}");
        let busiest = &assessment.rows.iter().max_by_key(|r| r.events).unwrap().unit_id;
        let expected_profile = profile(&events, &fw, &opts, busiest);
        assert!(expected_profile.is_some());
        assert_eq!(table.profile(&fw, &opts, busiest), expected_profile, "{range:?}");
        assert_eq!(table.dimension_panel(&fw, &opts, None), dimension_panel(&events, &fw, &opts, None));

        let panel_opts =
            PanelOptions { first: Some(opts.from), last: Some(opts.to), max_event_types: 4, ..Default::default() };
        let mut builder = PanelBuilder::new(range.unit);
        for_each_in_range(store, Some(store), &range, Period::Month, &mut |e| builder.push(e)).unwrap();
        let expected_panel = Panel::from_events(&events, range.unit, &panel_opts).unwrap();
        assert_eq!(!expected_panel.0.community.is_empty(), placed_reports, "{range:?}: the reports in the panel");
        assert_eq!(builder.finish(&panel_opts).unwrap(), expected_panel, "{range:?}");
    }
}

#[test]
fn streamed_analyses_equal_all_in_memory_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    streamed_equals_all_in_memory(&vitalcore_store_sqlite::SqliteStore::open(dir.path().join("store.db")).unwrap());
}

#[test]
fn streamed_analyses_equal_all_in_memory_on_postgres() {
    let Some(schema) = crate::pg::Schema::new() else { return };
    streamed_equals_all_in_memory(&schema.store());
}
