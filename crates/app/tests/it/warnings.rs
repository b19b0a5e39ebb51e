//! The early-warning rule on small panels: which threshold crossing names a
//! unit-month, report bursts counted once per report and only in the last
//! months, the model choice, a whole run stored and re-run without a
//! duplicate warning, and who may move a warning on.

use jiff::civil::Date;
use vitalcore_app::analysis::Range;
use vitalcore_app::warnings::{
    Progress, RunOptions, StatusChange, StatusError, WarningRules, candidate_warnings, choose_model,
    report_count_panel, run,
};
use vitalcore_forecast::{BacktestReport, ModelKind, PanelOptions, Target, UnitForecast};
use vitalcore_framework::{Event, Month, Place, Provenance, Source, Tags, UnitKind};
use vitalcore_security::auth::{Role, User};
use vitalcore_store::forecasts::{ForecastRun, ForecastStore, WarningFilter, WarningKind, WarningStatus};
use vitalcore_store::{Area, ImportFile, Store};
use vitalcore_store_sqlite::SqliteStore;

fn month(s: &str) -> Month {
    s.parse().unwrap()
}

fn unit_forecast(unit: &str, p_any: f64, p_ge_10: f64, p_ge_25: f64) -> UnitForecast {
    UnitForecast {
        unit: unit.into(),
        name: unit.into(),
        country: None,
        origin: month("2023-09"),
        month: month("2023-10"),
        horizon: 1,
        model: "hurdle".into(),
        mean: 1.0,
        p_any,
        p_ge_1: p_any,
        p_ge_10,
        p_ge_25,
        q05: 0.0,
        q50: 1.0,
        q95: 30.0,
    }
}

fn rules(p_any: f64, p_ge: &[(u32, f64)], burst_months: usize) -> WarningRules {
    WarningRules { p_any, p_ge: p_ge.to_vec(), burst_months }
}

/// An event in admin1 area `pcode` on `date`: a community report tagged
/// with `dimensions`, or an event with `fatalities`.
fn event(pcode: &str, date: Date, report: bool, dimensions: &[&str], fatalities: u32, n: usize) -> Event {
    Event {
        provenance: Provenance {
            source: if report { Source::CommunityReport } else { Source::Acled },
            source_id: format!("{pcode}-{date}-{n}"),
            file: "t".into(),
            line: n as u64,
        },
        date,
        date_end: None,
        place: Place { admin1_pcode: Some(pcode.into()), admin1: Some(pcode.into()), ..Place::default() },
        event_type: if report { "community report: attack" } else { "Battles" }.into(),
        sub_event_type: None,
        actor1: None,
        actor2: None,
        fatalities,
        civilian_fatalities: None,
        civilian_targeting: false,
        notes: None,
        tags: Tags {
            dimensions: dimensions.iter().map(|d| d.to_string()).collect(),
            themes: Vec::new(),
            severity: 3,
            rule: "t".into(),
        },
    }
}

/// `counts[i]` community reports in `pcode` in month i of 2023 (from
/// January), each tagged with `dimensions`.
fn reports(pcode: &str, counts: &[usize], dimensions: &[&str]) -> Vec<Event> {
    let mut out = Vec::new();
    for (i, &n) in counts.iter().enumerate() {
        for k in 0..n {
            out.push(event(pcode, Date::new(2023, i as i8 + 1, 10).unwrap(), true, dimensions, 0, k));
        }
    }
    out
}

#[test]
fn the_most_severe_threshold_crossing_comes_first_and_threshold_warnings_carry_their_run() {
    let forecasts =
        [unit_forecast("A", 0.9, 0.5, 0.4), unit_forecast("B", 0.6, 0.1, 0.0), unit_forecast("C", 0.2, 0.0, 0.0)];
    // Given in ascending N: the rule sorts them, the larger N first.
    let list = candidate_warnings(None, &forecasts, &rules(0.5, &[(10, 0.3), (25, 0.3)], 3), 7);
    let seen: Vec<(&str, f64, f64)> = list.iter().map(|w| (w.unit.as_str(), w.value, w.threshold)).collect();
    assert_eq!(seen, vec![("A", 0.4, 0.3), ("A", 0.5, 0.3), ("A", 0.9, 0.5), ("B", 0.6, 0.5)]);
    assert!(list.iter().all(|w| w.kind == WarningKind::ForecastThreshold && w.run_id == Some(7)));
    assert!(list.iter().all(|w| w.status == WarningStatus::New && w.id == 0));
    // One warning per (unit, month, kind) in the queue: the first, most severe, stays.
    let store = SqliteStore::open_in_memory().unwrap();
    let list = candidate_warnings(None, &forecasts, &rules(0.5, &[(10, 0.3), (25, 0.3)], 3), stored_run(&store));
    let added = store.add_warnings(&list).unwrap();
    assert_eq!(added.len(), 2);
    assert_eq!((added[0].unit.as_str(), added[0].value), ("A", 0.4));
}

/// A forecast run in `store` (threshold warnings name theirs), its id.
pub fn stored_run(store: &dyn ForecastStore) -> i64 {
    let run = ForecastRun {
        id: 0,
        created: String::new(),
        model: "hurdle".into(),
        unit_kind: "admin1".into(),
        target: "fatalities".into(),
        origin: month("2023-09"),
        horizons: vec![1],
        skill: "null".into(),
        parameters: "{}".into(),
    };
    store.save_forecast_run(&run, &[]).unwrap()
}

#[test]
fn a_burst_is_counted_once_per_report_and_raised_only_in_the_last_months() {
    let mut events = Vec::new();
    // CF32: a steady report a month, then 5 in September (tagged twice each).
    events.extend(reports("CF32", &[1, 1, 1, 1, 1, 1, 1, 1, 5], &["personal", "political"]));
    // CF11: 3 in September, each tagged with two dimensions: 3 reports, no
    // burst (counted per dimension it would be 6, over the limit of 4).
    events.extend(reports("CF11", &[1, 1, 1, 1, 1, 1, 1, 1, 3], &["personal", "political"]));
    // CF42: a burst in May, long before the last months.
    events.extend(reports("CF42", &[1, 1, 1, 1, 6, 1, 1, 1, 1], &["community"]));
    // Event data do not count as reports.
    events.push(event("CF11", Date::new(2023, 9, 1).unwrap(), false, &["personal"], 40, 0));
    let opts = PanelOptions {
        first: Some(month("2023-01")),
        last: Some(month("2023-09")),
        grid_neighbours: false,
        max_event_types: 4,
    };
    let panel = report_count_panel(&events, UnitKind::Admin1, &opts).unwrap().expect("reports are stored");
    let september = |unit: &str| {
        let u = panel.units.iter().position(|x| x.id == unit).unwrap();
        panel.community_total(u)[8]
    };
    assert_eq!((september("CF32"), september("CF11")), (5.0, 3.0));

    let bursts = |burst_months| {
        let list = candidate_warnings(Some(&panel), &[], &rules(0.5, &[], burst_months), 1);
        assert!(list.iter().all(|w| w.kind == WarningKind::ReportBurst && w.run_id.is_none()));
        list.iter().map(|w| (w.unit.clone(), w.month.to_string())).collect::<Vec<_>>()
    };
    assert_eq!(bursts(3), vec![("CF32".to_string(), "2023-09".to_string())]);
    let mut six = bursts(6);
    six.sort();
    assert_eq!(six, vec![("CF32".to_string(), "2023-09".to_string()), ("CF42".to_string(), "2023-05".to_string())]);
    // Without reports there is no report panel.
    let no_reports: Vec<Event> =
        events.iter().filter(|e| e.provenance.source != Source::CommunityReport).cloned().collect();
    assert!(report_count_panel(&no_reports, UnitKind::Admin1, &opts).unwrap().is_none());
}

#[test]
fn best_is_the_backtest_winner_or_the_learned_model_without_a_backtest() {
    assert_eq!(choose_model("best", None).unwrap(), ModelKind::Ensemble);
    assert_eq!(choose_model("last", None).unwrap(), ModelKind::Last);
    let skill = BacktestReport {
        unit: "admin1".into(),
        target: "fatalities".into(),
        units: 2,
        origins: vec![month("2023-01")],
        samples: 10,
        seed: 1,
        models: Default::default(),
        best: "conflictology".into(),
    };
    assert_eq!(choose_model("best", Some(&skill)).unwrap(), ModelKind::Conflictology);
    assert_eq!(choose_model("zero", Some(&skill)).unwrap(), ModelKind::Zero, "a named model wins over the backtest");
    assert!(choose_model("oracle", None).is_err());
}

/// Two prefectures with fatal events most months of 2021-2023 and a few
/// community reports.
fn event_store() -> SqliteStore {
    let store = SqliteStore::open_in_memory().unwrap();
    let area = |pcode: &str, name: &str| Area {
        pcode: pcode.into(),
        name: name.into(),
        level: 1,
        parent_pcode: None,
        country: Some("Central African Republic".into()),
        geometry: None,
    };
    store.save_areas(&[area("CF32", "Ouham"), area("CF11", "Ouham-Pendé")]).unwrap();
    let mut events = Vec::new();
    for (y, m) in (2021..=2023).flat_map(|y| (1..=12).map(move |m| (y, m))) {
        for (k, pcode) in ["CF32", "CF11"].iter().enumerate() {
            if (m + k as i8) % 3 != 0 {
                let fatalities = ((m as u32 * 7 + k as u32 * 3) % 11) + 1;
                events.push(event(pcode, Date::new(y, m, 15).unwrap(), false, &["personal"], fatalities, events.len()));
            }
        }
    }
    let file =
        ImportFile { path: "t".into(), sha256: "0".repeat(64), format: "test".into(), rows_read: 0, rows_rejected: 0 };
    store.import_events(&file, &events).unwrap();
    store
}

#[test]
fn a_run_stores_its_forecasts_and_raises_no_warning_twice() {
    let store = event_store();
    let options = RunOptions {
        range: Range { unit: UnitKind::Admin1, from: None, to: None },
        target: Target::Fatalities,
        horizons: vec![1, 2],
        model: "best".into(),
        skill_origins: 0,
        samples: 100,
        seed: 1,
        train_window: 120,
        rules: rules(0.01, &[(10, 0.3)], 3),
    };
    let mut steps = Vec::new();
    let first = run(&store, None, &store, &options, &mut |p| {
        steps.push(match p {
            Progress::Panel { panel, reports, .. } => format!("panel {} {} {reports}", panel.n_units(), panel.months),
            Progress::Backtest { .. } => "backtest".into(),
            Progress::Stored { run_id, rows, .. } => format!("stored {run_id} {rows}"),
            Progress::Raised { raised, added } => format!("raised {raised} {added}"),
        })
    })
    .unwrap();
    assert_eq!(first.run.model, "ensemble", "no backtest: the learned model");
    assert_eq!(first.run.origin, month("2023-12"));
    assert_eq!(first.run.target, "fatalities");
    assert!(!first.added.is_empty() && first.added.len() == first.raised);
    assert_eq!(
        steps,
        vec![
            "panel 2 36 0".to_string(),
            format!("stored {} 4", first.run_id),
            format!("raised {} {}", first.raised, first.raised)
        ]
    );
    let stored = store.latest_forecast_run(Some("admin1")).unwrap().unwrap();
    assert_eq!(stored.id, first.run_id);
    assert_eq!(store.forecast_rows(first.run_id).unwrap().len(), 4, "2 units x 2 horizons");

    let again = run(&store, None, &store, &options, &mut |_| {}).unwrap();
    assert_eq!(again.raised, first.raised);
    assert!(again.added.is_empty(), "re-running adds no warning twice");
    assert_eq!(store.warnings(&WarningFilter::default()).unwrap().len(), first.added.len());
}

#[test]
fn a_warning_moves_on_under_a_name_or_for_the_roles_that_triage() {
    assert!(matches!(StatusChange::by_name(WarningStatus::Closed, "  ", None), Err(StatusError::NoOne)));
    let long = "x".repeat(5000);
    assert!(matches!(StatusChange::by_name(WarningStatus::Closed, "ann", Some(&long)), Err(StatusError::Note(_))));
    let user = |role, active| {
        let community = (role == Role::FocalPoint).then(|| "CF11".to_string());
        let mut u = User::new("u1", "ann", role, community.as_deref(), String::new()).unwrap();
        u.active = active;
        u
    };
    for role in [Role::Viewer, Role::FocalPoint] {
        assert!(matches!(
            StatusChange::by_user(WarningStatus::Acknowledged, &user(role, true), None),
            Err(StatusError::Denied(_))
        ));
    }
    assert!(matches!(
        StatusChange::by_user(WarningStatus::Acknowledged, &user(Role::Analyst, false), None),
        Err(StatusError::Denied(_))
    ));

    let store = SqliteStore::open_in_memory().unwrap();
    let added = store
        .add_warnings(&candidate_warnings(
            None,
            &[unit_forecast("A", 0.9, 0.0, 0.0)],
            &rules(0.5, &[], 3),
            stored_run(&store),
        ))
        .unwrap();
    let change =
        StatusChange::by_user(WarningStatus::Acknowledged, &user(Role::Responder, true), Some(" called ")).unwrap();
    let now: jiff::Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
    let moved = change.apply(&store, added[0].id, now).unwrap();
    assert_eq!(moved.status, WarningStatus::Acknowledged);
    assert_eq!(moved.status_by.as_deref(), Some("ann"));
    assert_eq!(moved.note.as_ref().map(|n| n.text.as_str()), Some("called"));
    assert!(matches!(change.apply(&store, 987_654, now), Err(StatusError::NotFound(987_654))));
}
