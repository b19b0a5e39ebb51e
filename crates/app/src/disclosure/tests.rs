use super::*;
use jiff::civil::date;
use std::collections::BTreeSet;
use vitalcore_assess::{AssessOptions, assess, profile};
use vitalcore_framework::{Event, Framework, Place, Provenance, Source, Tags, UnitKind};
use vitalcore_security::auth::Role;

fn month(s: &str) -> Month {
    s.parse().unwrap()
}

fn user(role: Role, community: Option<&str>) -> User {
    User::new("u-1", "someone", role, community, String::new()).unwrap()
}

/// A record in prefecture `pcode` on `day` (2024), tagged `personal`.
fn record(source: Source, id: &str, pcode: &str, day: (i8, i8)) -> Event {
    Event {
        provenance: Provenance { source, source_id: id.into(), file: "t".into(), line: 0 },
        date: date(2024, day.0, day.1),
        date_end: None,
        place: Place {
            country: Some("Central African Republic".into()),
            iso3: Some("CAF".into()),
            admin1_pcode: Some(pcode.into()),
            admin1: Some(pcode.into()),
            ..Place::default()
        },
        event_type: "x".into(),
        sub_event_type: None,
        actor1: None,
        actor2: None,
        fatalities: 0,
        civilian_fatalities: None,
        civilian_targeting: false,
        notes: None,
        tags: Tags { dimensions: vec!["personal".into()], themes: Vec::new(), severity: 2, rule: "t".into() },
    }
}

/// `n` community reports in `pcode` on `day`.
fn reports(pcode: &str, day: (i8, i8), n: usize) -> Vec<Event> {
    (0..n).map(|i| record(Source::CommunityReport, &format!("{pcode}-{day:?}-{i}"), pcode, day)).collect()
}

fn opts(unit: UnitKind, from: &str, to: &str, period: Period) -> AssessOptions {
    AssessOptions::new(unit, month(from), month(to), period)
}

/// The published report count of `unit` in the row of `period`.
fn shown(a: &Assessment<Published>, unit: &str, period: &str) -> Published {
    a.rows.iter().find(|r| r.unit_id == unit && r.period == period).map(|r| r.reports).unwrap()
}

/// The values `target` can take given published parts and their total
/// (`parts[target]` included in `parts`): what a reader can derive.
fn derivable(parts: &[RangeInclusive<u64>], total: &RangeInclusive<u64>, target: usize) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    let mut stack = vec![(0usize, 0u64, None::<u64>)];
    while let Some((i, sum, picked)) = stack.pop() {
        if i == parts.len() {
            if total.contains(&sum) {
                out.insert(picked.unwrap());
            }
            continue;
        }
        for v in parts[i].clone() {
            stack.push((i + 1, sum + v, if i == target { Some(v) } else { picked }));
        }
    }
    out
}

#[test]
fn zero_stays_one_to_four_are_suppressed_the_rest_rounded_to_five() {
    let r = Rule::PUBLIC;
    let shown: Vec<String> = [0, 1, 2, 4, 5, 7, 8, 12, 13, 16, 102].iter().map(|&n| r.publish(n).to_string()).collect();
    assert_eq!(shown, ["0", "<5", "<5", "<5", "5", "5", "10", "10", "15", "15", "100"]);
    assert_eq!(serde_json::to_value(r.publish(3)).unwrap(), serde_json::Value::Null);
    assert_eq!(serde_json::to_value(r.publish(16)).unwrap(), 15);
    // What a reader can work out from a published value holds the true count, and more.
    for rule in [Rule::PUBLIC, Rule { below: 3, base: 5 }, Rule { below: 10, base: 5 }, Rule { below: 1, base: 5 }] {
        for n in 0..=500 {
            let could = rule.could_be(rule.publish(n).shown());
            assert!(could.contains(&n), "{rule:?} {n}: {could:?}");
            assert!(n == 0 || could.start() < could.end(), "{rule:?} {n} is pinned: {could:?}");
        }
    }
}

#[test]
fn counts_are_published_for_calendar_months_quarters_and_years_only() {
    let m = |a: &str, b: &str| Months { first: month(a), last: month(b) }.is_publication_period();
    assert!(m("2024-04", "2024-04") && m("2024-04", "2024-06") && m("2024-01", "2024-12"));
    assert!(!m("2024-03", "2024-04") && !m("2024-02", "2024-04") && !m("2024-02", "2025-01"));
    let public = Audience::public();
    let window = Some(Months { first: month("2024-03"), last: month("2024-04") });
    assert_eq!(publish_count(7, window, &public), Published::Withheld);
    assert_eq!(publish_count(0, window, &public), Published::Exact(0));
    assert_eq!(publish_count(7, None, &public), Published::Withheld, "a period not known is not published");
    assert_eq!(publish_count(7, window, &Audience::Exact), Published::Exact(7));
}

#[test]
fn the_audience_follows_the_permission_policy() {
    for role in [Role::Admin, Role::Analyst, Role::Responder] {
        assert!(Audience::of(Some(&user(role, None))).is_exact(), "{role}");
    }
    let focal = Audience::of(Some(&user(Role::FocalPoint, Some("CF32"))));
    assert!(matches!(focal, Audience::Partial(_)));
    assert!(focal.reads_reports_of(Some("CF32")) && !focal.reads_reports_of(Some("CF11")));
    assert!(!focal.reads_reports_of(None), "unplaced reports belong to no community");
    assert_eq!(Audience::of(Some(&user(Role::Viewer, None))).rule(), Some(Rule::PUBLIC));
    assert_eq!(Audience::of(None).rule(), Some(Rule::PUBLIC));
    let mut gone = user(Role::Analyst, None);
    gone.active = false;
    assert_eq!(Audience::of(Some(&gone)).rule(), Some(Rule::PUBLIC), "a deactivated account sees what anyone sees");
    assert!(Audience::export(0).is_exact());
    assert_eq!(Audience::export(10).rule(), Some(Rule { below: 10, base: 5 }));
}

/// CF11 = 2 is hidden, CF12 = 6 and CF32 = 8 are shown: the country total
/// minus the shown prefectures must not give CF11 away.
#[test]
fn a_hidden_prefecture_cannot_be_derived_from_the_country_total_and_its_siblings() {
    let fw = Framework::built_in();
    let events: Vec<Event> =
        [("CF11", 2), ("CF12", 6), ("CF32", 8)].iter().flat_map(|&(p, n)| reports(p, (3, 10), n)).collect();
    let public = Audience::public();
    let by_area =
        publish_assessment(assess(&events, &fw, &opts(UnitKind::Admin1, "2024-03", "2024-03", Period::Month)), &public);
    let country = publish_assessment(
        assess(&events, &fw, &opts(UnitKind::Country, "2024-03", "2024-03", Period::Month)),
        &public,
    );
    let rule = Rule::PUBLIC;
    let parts: Vec<RangeInclusive<u64>> =
        ["CF11", "CF12", "CF32"].iter().map(|p| rule.could_be(shown(&by_area, p, "2024-03").shown())).collect();
    let total = rule.could_be(shown(&country, "CAF", "2024-03").shown());
    assert_eq!((shown(&by_area, "CF11", "2024-03"), total.clone()), (Published::Suppressed { below: 5 }, 13..=17));
    let cf11 = derivable(&parts, &total, 0);
    assert!(cf11.len() > 1, "CF11 is pinned to {cf11:?}");
    // The same answers exactly, to those who read the reports.
    let exact = publish_assessment(
        assess(&events, &fw, &opts(UnitKind::Country, "2024-03", "2024-03", Period::Month)),
        &Audience::Exact,
    );
    assert_eq!(shown(&exact, "CAF", "2024-03"), Published::Exact(16));
}

/// March has 6 reports, April 1 (hidden). A window over both, or any
/// window ending in April, would give April away by difference: such
/// windows are not published; whole months, quarters and years are.
#[test]
fn april_cannot_be_derived_by_differencing_windows() {
    let fw = Framework::built_in();
    // Some earlier months too, so windows with several bases exist.
    let mut events = reports("CF32", (1, 5), 3);
    events.extend(reports("CF32", (2, 5), 4));
    events.extend(reports("CF32", (3, 10), 6));
    events.extend(reports("CF32", (4, 10), 1));
    let public = Audience::public();
    let window = |from: &str, to: &str, period: Period| {
        let o = opts(UnitKind::Admin1, from, to, period);
        publish_assessment(assess(&events, &fw, &o), &public)
    };
    let months = window("2024-01", "2024-04", Period::Month);
    assert_eq!(shown(&months, "CF32", "2024-04"), Published::Suppressed { below: 5 });
    assert_eq!(shown(&months, "CF32", "2024-03"), Published::Rounded(5));
    for from in ["2024-01", "2024-02", "2024-03"] {
        let label = format!("{from}..2024-04");
        assert_eq!(shown(&window(from, "2024-04", Period::All), "CF32", &label), Published::Withheld, "{label}");
    }
    // A quarter clipped to two months is that two-month window: withheld.
    let clipped = window("2024-02", "2024-03", Period::Quarter);
    assert_eq!(shown(&clipped, "CF32", "2024-Q1"), Published::Withheld);
    // A whole quarter is published, from the exact count (3 + 4 + 6 = 13), then rounded.
    assert_eq!(shown(&window("2024-01", "2024-03", Period::Quarter), "CF32", "2024-Q1"), Published::Rounded(15));
    assert_eq!(shown(&window("2024-01", "2024-03", Period::All), "CF32", "2024-01..2024-03"), Published::Rounded(15));
    // What a reader derives for April from everything published about it: April itself,
    // and the quarter (April alone: May and June are empty, also published) and the year.
    let q2 = window("2024-04", "2024-06", Period::Quarter);
    let year = window("2024-01", "2024-12", Period::Year);
    let rule = Rule::PUBLIC;
    let april = rule.could_be(shown(&months, "CF32", "2024-04").shown());
    let year_total = rule.could_be(shown(&year, "CF32", "2024").shown());
    let q1 = rule.could_be(shown(&window("2024-01", "2024-03", Period::Quarter), "CF32", "2024-Q1").shown());
    let from_year = derivable(&[q1, april.clone()], &year_total, 1);
    let from_q2 = rule.could_be(shown(&q2, "CF32", "2024-Q2").shown());
    let candidates: BTreeSet<u64> = from_year.into_iter().filter(|a| from_q2.contains(a)).collect();
    assert!(candidates.len() > 1, "April is pinned to {candidates:?}");
}

#[test]
fn a_single_report_shows_in_no_public_number_of_an_area_profile() {
    let fw = Framework::built_in();
    let mut events = vec![record(Source::Acled, "a1", "CF32", (3, 2)), record(Source::Acled, "a2", "CF32", (4, 2))];
    events.extend(reports("CF32", (4, 20), 1));
    let o = opts(UnitKind::Admin1, "2024-03", "2024-04", Period::Month);
    let exact = profile(&events, &fw, &o, "CF32").unwrap();
    assert_eq!((exact.events, exact.reports), (2, 1));
    let p = publish_profile(exact, &Audience::public());
    assert_eq!((p.events, p.reports), (2, Published::Withheld), "two months are not a publication period");
    assert_eq!(p.sources, [("acled".to_string(), 2)]);
    let personal = &p.dimensions[0];
    assert_eq!(personal.total.reports, Published::Withheld);
    let trend: Vec<(u64, Published)> = personal.trend.iter().map(|t| (t.events, t.reports)).collect();
    assert_eq!(trend, [(1, Published::Exact(0)), (1, Published::Suppressed { below: 5 })]);
    let json = serde_json::to_value(Disclosed::new(&p, &Audience::public())).unwrap();
    assert_eq!(json["events"], 2);
    assert_eq!(json["reports"], serde_json::Value::Null);
    assert_eq!(json["disclosure"]["audience"], "public");
}

fn early_warning(kind: WarningKind, value: f64, threshold: f64) -> EarlyWarning {
    EarlyWarning {
        id: 3,
        created: "2024-05-01T00:00:00Z".into(),
        unit: "CF32".into(),
        month: month("2024-04"),
        kind,
        value,
        threshold,
        reason: format!("{value} community reports against a recent level of 0.4"),
        run_id: None,
        status: WarningStatus::Acknowledged,
        status_by: Some("ana".into()),
        status_at: Some("2024-05-02T00:00:00Z".into()),
        note: Some(WarningNote {
            text: "Called Marie Yakite on +236 70 12 34 56".into(),
            by: "ana".into(),
            at: "2024-05-02T00:00:00Z".into(),
            status: WarningStatus::Acknowledged,
        }),
    }
}

#[test]
fn warnings_reach_the_public_without_staff_records_or_a_bound_on_a_hidden_count() {
    let public = Audience::public();
    let burst = publish_warning(early_warning(WarningKind::ReportBurst, 7.0, 2.3), &public).unwrap();
    assert_eq!((burst.value, burst.threshold), (Some(5.0), None));
    assert!(burst.note.is_none() && burst.status_by.is_none());
    assert!(!burst.reason.contains('7') && !burst.reason.contains("0.4"), "{}", burst.reason);
    assert_eq!(publish_warning(early_warning(WarningKind::ReportBurst, 3.0, 1.7), &public), None);
    let focal = Audience::of(Some(&user(Role::FocalPoint, Some("CF32"))));
    assert!(publish_warning(early_warning(WarningKind::ReportBurst, 7.0, 2.3), &focal).unwrap().note.is_none());
    let forecast = publish_warning(early_warning(WarningKind::ForecastThreshold, 0.62, 0.5), &public).unwrap();
    assert_eq!((forecast.value, forecast.threshold, forecast.note), (Some(0.62), Some(0.5), None));
    // Staff see the warning as stored.
    let stored = early_warning(WarningKind::ReportBurst, 3.0, 1.7);
    let staff = publish_warning(stored.clone(), &Audience::Exact).unwrap();
    assert_eq!(serde_json::to_value(staff).unwrap(), serde_json::to_value(stored).unwrap());
}

fn metrics(area: &str, alerts: usize) -> ResponseMetrics {
    ResponseMetrics {
        area_pcode: Some(area.into()),
        month: month("2024-04"),
        alerts,
        unfounded: 0,
        acknowledged: alerts,
        responded: 1,
        median_to_acknowledge: Some(SignedDuration::from_hours(2)),
        p90_to_acknowledge: Some(SignedDuration::from_hours(3)),
        median_to_respond: Some(SignedDuration::from_hours(9)),
        p90_to_respond: Some(SignedDuration::from_hours(9)),
        share_responded: Some(1.0 / alerts as f64),
        share_with_feedback: Some(0.5),
    }
}

#[test]
fn alert_metrics_go_to_a_focal_point_for_their_community_only_and_to_viewers_without_hidden_parts() {
    let rows = vec![metrics("CF11", 2), metrics("CF32", 6)];
    let focal = publish_metrics(rows.clone(), &Audience::of(Some(&user(Role::FocalPoint, Some("CF32")))));
    assert_eq!(focal.len(), 1);
    assert_eq!((focal[0].area_pcode.as_deref(), focal[0].alerts), (Some("CF32"), Published::Exact(6)));
    assert_eq!(focal[0].share_with_feedback, Some(0.5));
    let viewer = publish_metrics(rows.clone(), &Audience::of(Some(&user(Role::Viewer, None))));
    assert_eq!(viewer.len(), 2);
    let (cf11, cf32) = (&viewer[0], &viewer[1]);
    assert_eq!(
        (cf11.alerts, cf11.share_with_feedback, cf11.median_to_acknowledge),
        (Published::Suppressed { below: 5 }, None, None)
    );
    assert_eq!(
        (cf32.alerts, cf32.acknowledged, cf32.responded),
        (Published::Rounded(5), Published::Rounded(5), Published::Suppressed { below: 5 })
    );
    assert_eq!((cf32.share_responded, cf32.share_with_feedback), (None, None));
    assert_eq!((cf32.median_to_acknowledge, cf32.median_to_respond), (Some(SignedDuration::from_hours(2)), None));
    let staff = publish_metrics(rows.clone(), &Audience::Exact);
    assert_eq!(serde_json::to_value(&staff).unwrap(), serde_json::to_value(&rows).unwrap(), "staff: as computed");
}
