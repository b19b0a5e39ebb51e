//! The briefing over a small SQLite database: one prefecture with a few
//! events, three community reports, a warning with a staff note.

use super::*;
use jiff::civil::Date;
use vitalcore_framework::{Place, Provenance, Tags};
use vitalcore_intake::report::Reference;
use vitalcore_intake::{CategoryMap, Channel, ContactKey, Intake, ReportDraft};
use vitalcore_store::ImportFile;
use vitalcore_store::forecasts::{EarlyWarning, WarningKind, WarningStatus};
use vitalcore_store_sqlite::SqliteStore;

fn area(pcode: &str, name: &str) -> Area {
    Area {
        pcode: pcode.into(),
        name: name.into(),
        level: 1,
        parent_pcode: None,
        country: Some("Central African Republic".into()),
        geometry: Some(format!(
            r#"{{"type":"Polygon","coordinates":[[[16,6],[17,6],[17,7],[16,{}]]]}}"#,
            if pcode == "CF32" { 7 } else { 6 }
        )),
    }
}

fn event(id: u32, pcode: &str, date: Date, fatalities: u32) -> Event {
    Event {
        provenance: Provenance {
            source: Source::UcdpGed,
            source_id: format!("E{id}"),
            file: "e.csv".into(),
            line: u64::from(id),
        },
        date,
        date_end: None,
        place: Place { admin1_pcode: Some(pcode.into()), admin1: Some(pcode.into()), ..Place::default() },
        event_type: "state-based".into(),
        sub_event_type: None,
        actor1: None,
        actor2: None,
        fatalities,
        civilian_fatalities: Some(fatalities / 2),
        civilian_targeting: false,
        notes: None,
        tags: Tags { dimensions: vec!["personal".into()], themes: vec![], severity: 3, rule: "t".into() },
    }
}

/// CF32 with 12 events in June 2020 (one death each) and 3 reports, CF11
/// with one event; a burst warning and a forecast warning with a note.
fn store() -> SqliteStore {
    let store = SqliteStore::open_in_memory().unwrap();
    fill(&store);
    store
}

fn fill<S: Store + ReportStore + ForecastStore>(store: &S) {
    store.save_areas(&[area("CF32", "Nana-Grébizi"), area("CF11", "Ouham")]).unwrap();
    let mut events: Vec<Event> = (0..12).map(|i| event(i, "CF32", Date::constant(2020, 6, 1 + i as i8), 1)).collect();
    events.push(event(100, "CF11", Date::constant(2020, 5, 3), 0));
    let file = ImportFile {
        path: "e.csv".into(),
        sha256: "0".repeat(64),
        format: "test".into(),
        rows_read: 13,
        rows_rejected: 0,
    };
    store.import_events(&file, &events).unwrap();
    let intake = Intake::new(ContactKey::from_bytes([7; 32]), CategoryMap::built_in());
    for i in 0..3 {
        let draft = ReportDraft {
            text: format!("armed men attacked the market, report {i}"),
            category: Some("attack".into()),
            area_pcode: Some("CF32".into()),
            event_time: Some("2020-06-10".into()),
            ..ReportDraft::default()
        };
        let received = "2020-06-11T08:00:00Z".parse().unwrap();
        let report = intake.accept_as(&draft, Channel::WebForm, received, Reference::from_number(i + 1)).unwrap();
        store.insert_report(&report).unwrap();
    }
    let warning = |kind, value, threshold| EarlyWarning {
        id: 0,
        created: String::new(),
        unit: "CF32".into(),
        month: Month::new(2020, 6).unwrap(),
        kind,
        value,
        threshold,
        reason: "test".into(),
        run_id: None,
        status: WarningStatus::New,
        status_by: None,
        status_at: None,
        note: None,
    };
    let added = store
        .add_warnings(&[warning(WarningKind::ForecastThreshold, 0.8, 0.5), warning(WarningKind::ReportBurst, 3.0, 1.2)])
        .unwrap();
    store
        .set_warning_status(
            added[0].id,
            WarningStatus::Acknowledged,
            "u-analyst",
            "2020-06-02T00:00:00Z",
            Some("patrol sent to Kaga-Bandoro"),
        )
        .unwrap();
}

fn brief<S: Store + ReportStore + ForecastStore + vitalcore_store::mandates::MandateStore>(
    store: &S,
    from: (i16, u8),
    to: (i16, u8),
    area: Option<&str>,
    audience: BriefingAudience,
) -> Briefing {
    let fw = Framework::built_in();
    let deadlines = Deadlines::built_in();
    let src = Sources {
        events: store,
        reports: Some(store),
        forecasts: Some(store),
        mandates: Some(store),
        framework: &fw,
        deadlines: &deadlines,
    };
    let req = BriefingRequest {
        from: Month::new(from.0, from.1).unwrap(),
        to: Month::new(to.0, to.1).unwrap(),
        area: area.map(str::to_string),
        audience,
        lang: "en",
    };
    gather(&src, &req, Timestamp::UNIX_EPOCH).unwrap()
}

#[test]
fn staff_see_exact_report_counts_and_notes() {
    let s = store();
    let b = brief(&s, (2020, 6), (2020, 6), None, BriefingAudience::Staff);
    assert_eq!(b.totals.events, 12);
    assert_eq!(b.totals.fatalities, 12);
    assert_eq!(b.totals.reports, Published::Exact(3));
    assert_eq!(b.previous.events, 1, "May 2020 is the period before");
    let personal = b.trends.iter().find(|t| t.category == "personal").unwrap();
    assert_eq!(personal.months[0].reports, Published::Exact(3));
    assert_eq!(b.warnings.len(), 2);
    assert!(b.warnings.iter().any(|w| w.warning.note.as_ref().is_some_and(|n| n.text.contains("Kaga-Bandoro"))));
    assert!(b.warnings.iter().all(|w| w.outcome == Outcome::Observed(12)), "{:?}", b.warnings);
    let alerts = b.alerts.unwrap();
    assert_eq!(alerts.overall.alerts, Published::Exact(3));
    assert_eq!(b.summary.len(), 3);
    assert!(b.summary[0].contains("12 events") && b.summary[0].contains("12 deaths"), "{}", b.summary[0]);
    assert!(b.summary[2].starts_with("3 community reports were received"), "{}", b.summary[2]);
    assert_eq!(b.mandates, None, "no resolution stored: no mandate coverage section");
}

#[test]
fn the_public_sees_no_count_of_1_to_4_and_no_note() {
    let s = store();
    let b = brief(&s, (2020, 6), (2020, 6), None, BriefingAudience::Public);
    assert_eq!(b.totals.reports, Published::Suppressed { below: 5 });
    let personal = b.trends.iter().find(|t| t.category == "personal").unwrap();
    assert_eq!(personal.months[0].reports, Published::Suppressed { below: 5 });
    // The burst on 3 reports is not listed (that it fired bounds the count); the forecast one has no note.
    assert_eq!(b.warnings.len(), 1);
    assert!(b.warnings[0].warning.note.is_none() && b.warnings[0].warning.status_by.is_none());
    let alerts = b.alerts.unwrap();
    assert_eq!(alerts.overall.alerts, Published::Suppressed { below: 5 });
    assert!(alerts.areas.iter().all(|(_, _, p)| p.alerts.shown().is_none()));
    assert!(b.summary[2].starts_with("Fewer than 5 community reports"), "{}", b.summary[2]);
    let community = b.sources.iter().find(|s| s.source == "community-report").unwrap();
    assert_eq!((community.events, community.first.as_deref()), (Published::Suppressed { below: 5 }, None));
    // Over two months (not a publication period) report counts are withheld.
    let two = brief(&s, (2020, 5), (2020, 6), None, BriefingAudience::Public);
    assert_eq!(two.totals.reports, Published::Withheld);
}

#[test]
fn an_area_narrows_every_section_and_an_unknown_one_is_named() {
    let s = store();
    let b = brief(&s, (2020, 5), (2020, 6), Some("cf11"), BriefingAudience::Staff);
    assert_eq!(b.area.as_ref().unwrap().pcode, "CF11");
    assert_eq!((b.totals.events, b.totals.reports), (1, Published::Exact(0)));
    assert!(b.warnings.is_empty());
    assert!(b.map.iter().any(|m| m.selected && m.pcode == "CF11"));
    let fw = Framework::built_in();
    let deadlines = Deadlines::built_in();
    let src =
        Sources { events: &s, reports: None, forecasts: None, mandates: None, framework: &fw, deadlines: &deadlines };
    let m = |y, mo| Month::new(y, mo).unwrap();
    let req = BriefingRequest {
        from: m(2020, 1),
        to: m(2020, 6),
        area: Some("XX99".into()),
        audience: BriefingAudience::Staff,
        lang: "en",
    };
    let err = gather(&src, &req, Timestamp::UNIX_EPOCH).unwrap_err().to_string();
    assert!(err.contains("XX99") && err.contains("CF"), "{err}");
    let req =
        BriefingRequest { from: m(2020, 6), to: m(2020, 1), area: None, audience: BriefingAudience::Staff, lang: "en" };
    assert!(gather(&src, &req, Timestamp::UNIX_EPOCH).unwrap_err().to_string().contains("after"));
}

#[test]
fn priorities_say_what_is_new_and_the_map_reads_the_boundaries() {
    let s = store();
    let b = brief(&s, (2020, 6), (2020, 6), None, BriefingAudience::Staff);
    let cf32 = b.top_areas.first().unwrap();
    assert_eq!(cf32.pcode, "CF32");
    for p in &b.priorities {
        assert!(p.critical >= 5.0 && p.pervasive >= 5.0 || p.change == Change::Eased);
    }
    assert_eq!(b.map.len(), 2);
    assert_eq!(b.map[0].polygons[0][0].len(), 4);
}

#[test]
fn the_same_briefing_from_postgresql() {
    let Some(url) = vitalcore_test_postgres::database_url_or_skip() else { return };
    let schema = format!("vc_briefing_{}", std::process::id());
    let store = vitalcore_store_postgres::PostgresStore::connect_with_schema(&url, &schema).unwrap();
    fill(&store);
    let on_pg = brief(&store, (2020, 6), (2020, 6), None, BriefingAudience::Public);
    let on_sqlite = brief(&self::store(), (2020, 6), (2020, 6), None, BriefingAudience::Public);
    drop(store);
    vitalcore_test_postgres::drop_schema(&schema);
    assert_eq!(on_pg.totals, on_sqlite.totals);
    assert_eq!(on_pg.summary, on_sqlite.summary);
    assert_eq!(on_pg.trends, on_sqlite.trends);
    assert_eq!(on_pg.alerts, on_sqlite.alerts);
    assert_eq!(on_pg.warnings.len(), on_sqlite.warnings.len());
}
