mod reference;
mod table;

use jiff::civil::date;
use vitalcore_assess::{AssessOptions, Period, assess, profile, summaries};
use vitalcore_framework::{Event, Framework, Month, Place, Provenance, Source, Tags, UnitKind};

fn event(id: &str, day: (i16, i8, i8), admin1: &str, location: &str, fatalities: u32, civ: u32, tags: Tags) -> Event {
    Event {
        provenance: Provenance { source: Source::UcdpGed, source_id: id.into(), file: "t.csv".into(), line: 2 },
        date: date(day.0, day.1, day.2),
        date_end: None,
        place: Place {
            country: Some("Central African Republic".into()),
            admin1: Some(admin1.into()),
            admin1_pcode: Some(format!("CF{}", admin1.len())),
            location: Some(location.into()),
            latitude: Some(5.0),
            longitude: Some(20.0),
            ..Place::default()
        },
        event_type: "x".into(),
        sub_event_type: None,
        actor1: None,
        actor2: None,
        fatalities,
        civilian_fatalities: Some(civ),
        civilian_targeting: false,
        notes: None,
        tags,
    }
}

fn opts(period: Period) -> AssessOptions {
    AssessOptions::new(UnitKind::Admin1, "2014-01".parse().unwrap(), "2014-03".parse().unwrap(), period)
}

fn sample(fw: &Framework) -> Vec<Event> {
    vec![
        // Ouham (pcode CF5): one-sided violence in January, two localities, a battle in February
        event("1", (2014, 1, 3), "Ouham", "Bossangoa", 10, 10, fw.tag_ucdp(3, 10)),
        event("2", (2014, 1, 20), "Ouham", "Bouca", 0, 0, fw.tag_ucdp(3, 0)),
        event("3", (2014, 2, 5), "Ouham", "Bossangoa", 4, 0, fw.tag_ucdp(1, 0)),
        // Lobaye (CF6): one battle in March
        event("4", (2014, 3, 9), "Lobaye", "Mbaiki", 1, 0, fw.tag_ucdp(1, 0)),
        // Out of range
        event("5", (2015, 3, 9), "Lobaye", "Mbaiki", 100, 0, fw.tag_ucdp(1, 0)),
    ]
}

#[test]
fn monthly_rows_count_and_score_by_hand() {
    let fw = Framework::built_in();
    let events = sample(&fw);
    let a = assess(&events, &fw, &opts(Period::Month));
    let row = a
        .rows
        .iter()
        .find(|r| r.unit_id == "CF5" && r.period == "2014-01" && r.category == "personal")
        .expect("Ouham January personal");
    assert_eq!((row.events, row.fatalities, row.civilian_fatalities), (2, 10, 10));
    // harm = severity weights (one-sided + civilian deaths -> level 4 = 8, one-sided = 8) + 10 + 10
    assert_eq!(row.components.harm, 8.0 + 8.0 + 10.0 + 10.0);
    let expected_critical = 10.0 * (37.0f64).ln() / (501.0f64).ln();
    assert!((row.critical - expected_critical).abs() < 0.006, "{} vs {expected_critical}", row.critical);
    // Two of the two localities known in Ouham (Bossangoa, Bouca); weeks 0 and 2 of 5; frequency ln3/ln51.
    assert_eq!((row.components.localities_affected, row.components.localities_known), (2, 2));
    assert_eq!((row.components.weeks_affected, row.components.weeks_in_period), (2, 5));
    let expected_pervasive = 10.0 * (1.0 + 2.0 / 5.0 + 3.0f64.ln() / 51.0f64.ln()) / 3.0;
    assert!((row.pervasive - expected_pervasive).abs() < 0.006);
    // Protection of civilians appears as a theme row; a battle without civilian deaths does not.
    assert!(a.rows.iter().any(|r| r.period == "2014-01" && r.category == "protection_of_civilians"));
    assert!(!a.rows.iter().any(|r| r.period == "2014-02" && r.category == "protection_of_civilians"));
    // The 2015 event is out of range.
    assert_eq!(a.rows.iter().map(|r| r.fatalities).max(), Some(10));
}

#[test]
fn whole_range_period_sums_months_and_priority_needs_both_scores() {
    let fw = Framework::built_in();
    let events = sample(&fw);
    let a = assess(&events, &fw, &opts(Period::All));
    let ouham: Vec<_> = a.rows.iter().filter(|r| r.unit_id == "CF5" && r.category == "personal").collect();
    assert_eq!(ouham.len(), 1);
    assert_eq!((ouham[0].events, ouham[0].fatalities), (3, 14));
    assert_eq!(ouham[0].period, "2014-01..2014-03");
    // Harm is a rate per month: the three months' harm divided by three.
    let c = &ouham[0].components;
    assert!((c.harm - (c.severity_weight + 14.0 + 10.0) / 3.0).abs() < 1e-9);
    for r in &a.rows {
        assert_eq!(r.priority, r.critical >= 5.0 && r.pervasive >= 5.0);
        assert!((0.0..=10.0).contains(&r.critical) && (0.0..=10.0).contains(&r.pervasive));
    }
}

#[test]
fn events_without_the_unit_are_counted_as_unplaced() {
    let fw = Framework::built_in();
    let mut events = sample(&fw);
    events[0].place.admin1 = None;
    events[0].place.admin1_pcode = None;
    let a = assess(&events, &fw, &opts(Period::Month));
    assert_eq!(a.unplaced_events, 1);
    let grid = assess(&events, &fw, &AssessOptions { unit: UnitKind::Grid, ..opts(Period::Month) });
    assert_eq!(grid.unplaced_events, 0);
}

#[test]
fn community_reports_are_kept_apart_from_event_scores() {
    let fw = Framework::built_in();
    let mut events = sample(&fw);
    let mut report = event("r1", (2014, 1, 4), "Ouham", "Bossangoa", 50, 0, fw.tag_ucdp(3, 0));
    report.provenance.source = Source::CommunityReport;
    events.push(report);
    let a = assess(&events, &fw, &opts(Period::Month));
    let row = a.rows.iter().find(|r| r.unit_id == "CF5" && r.period == "2014-01" && r.category == "personal").unwrap();
    assert_eq!((row.events, row.reports, row.fatalities), (2, 1, 10));
}

/// A report from a new place, or from no unit at all, changes no number
/// computed from event data: not the localities a unit is known to have
/// (its pervasive score), not the profile's events, trend or sources, and
/// not the unplaced events. Reports are counted in their own fields.
#[test]
fn a_community_report_moves_no_event_figure_and_is_counted_apart() {
    let fw = Framework::built_in();
    let events = sample(&fw);
    let report = |id: &str, admin1: Option<&str>| {
        let mut r = event(id, (2014, 1, 25), "Ouham", &format!("Hamlet {id}"), 0, 0, fw.tag_ucdp(3, 0));
        r.provenance.source = Source::CommunityReport;
        if admin1.is_none() {
            (r.place.admin1, r.place.admin1_pcode) = (None, None);
        }
        r
    };
    let with: Vec<Event> = events.iter().cloned().chain([report("r1", Some("Ouham")), report("r2", None)]).collect();
    let (before, after) = (assess(&events, &fw, &opts(Period::Month)), assess(&with, &fw, &opts(Period::Month)));
    let find = |a: &vitalcore_proto::Assessment| {
        a.rows.iter().find(|r| r.unit_id == "CF5" && r.period == "2014-01" && r.category == "personal").unwrap().clone()
    };
    let (b, a) = (find(&before), find(&after));
    assert_eq!((a.reports, b.reports), (1, 0));
    assert_eq!((a.pervasive, a.components.localities_known), (b.pervasive, b.components.localities_known));
    assert_eq!((after.unplaced_events, after.unplaced_reports), (before.unplaced_events, 1));
    let (pb, pa) = (
        profile(&events, &fw, &opts(Period::Month), "CF5").unwrap(),
        profile(&with, &fw, &opts(Period::Month), "CF5").unwrap(),
    );
    assert_eq!((pa.events, pa.reports, &pa.sources), (pb.events, 1, &pb.sources));
    let trend = |p: &vitalcore_proto::AreaProfile| {
        let d = p.dimensions.iter().find(|d| d.category == "personal").unwrap();
        d.trend.iter().map(|t| (t.events, t.reports)).collect::<Vec<_>>()
    };
    assert_eq!(trend(&pb), [(2, 0), (1, 0), (0, 0)]);
    assert_eq!(trend(&pa), [(2, 1), (1, 0), (0, 0)]);
}

#[test]
fn profile_finds_an_area_by_name_or_pcode_with_a_zero_filled_trend() {
    let fw = Framework::built_in();
    let events = sample(&fw);
    let p = profile(&events, &fw, &opts(Period::Month), "ouham").expect("by name");
    assert_eq!(p.unit_id, "CF5");
    assert_eq!((p.events, p.fatalities), (3, 14));
    let personal = p.dimensions.iter().find(|d| d.category == "personal").unwrap();
    let trend: Vec<u64> = personal.trend.iter().map(|t| t.events).collect();
    assert_eq!(trend, [2, 1, 0]);
    assert!(profile(&events, &fw, &opts(Period::Month), "CF5").is_some());
    // Names from loaded boundaries win over the names the source spells.
    let mut named = opts(Period::Month);
    named.area_names.insert("CF5".into(), "Ouham (OCHA)".into());
    assert_eq!(profile(&events, &fw, &named, "CF5").unwrap().name, "Ouham (OCHA)");
    assert!(profile(&events, &fw, &opts(Period::Month), "Nowhere").is_none());
    let s = summaries(&events, &fw, &opts(Period::Month), 1);
    let ouham = s.iter().find(|s| s.unit_id == "CF5").unwrap();
    assert_eq!((ouham.events, ouham.fatalities), (3, 14));
    assert!(ouham.top_dimension.is_some());
    let _ = Month::new(2014, 1);
}

mod risk {
    use super::*;
    use vitalcore_assess::area_risks;
    use vitalcore_assess::risk::{hazard_by_area, indicators_by_area};
    use vitalcore_framework::Observation;
    use vitalcore_risk_index::Tree;

    fn row(zone: &str, day: (i16, i8, i8), values: &[(&str, &str)]) -> Observation {
        Observation {
            provenance: Provenance {
                source: Source::Hxl,
                source_id: format!("{zone}{day:?}"),
                file: "t.csv".into(),
                line: 3,
            },
            date: Some(date(day.0, day.1, day.2)),
            place: Place { admin1_pcode: Some("CF5".into()), location: Some(zone.into()), ..Place::default() },
            values: values.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            tags: Tags::default(),
        }
    }

    #[test]
    fn indicators_take_the_latest_value_per_locality_sum_localities_and_never_double_count_columns() {
        let tree = Tree::local_default();
        let obs = vec![
            // Zone A: cumulative cases reported twice; the later report counts.
            row("A", (2014, 1, 1), &[("#affected+infected+total", "10"), ("#affected+infected+new", "10")]),
            row("A", (2014, 2, 1), &[("#affected+infected+total", "25"), ("#affected+infected+new", "15")]),
            // Zone B in the same prefecture.
            row("B", (2014, 2, 1), &[("#affected+infected+total", "5"), ("#population", "1,000")]),
            // Percentages average over localities.
            row("A", (2014, 2, 1), &[("#indicator+poverty+pct", "40")]),
            row("B", (2014, 2, 1), &[("#indicator+poverty+pct", "60%")]),
        ];
        let ind = indicators_by_area(&obs, UnitKind::Admin1, &tree);
        let cf5 = &ind["CF5"];
        // total column: 25 (A, latest) + 5 (B) = 30; new column: 15; the larger wins.
        assert_eq!(cf5["disease_cases"], 30.0);
        assert_eq!(cf5["poverty_pct"], 50.0);
        assert_eq!(cf5["population"], 1000.0);
    }

    #[test]
    fn hazard_is_the_worst_dimension_over_the_last_twelve_months_and_risk_needs_all_three() {
        let fw = Framework::built_in();
        let events = sample(&fw);
        let o = opts(Period::Month);
        let hazard = hazard_by_area(&events, &fw, &o);
        let whole = assess(&events, &fw, &AssessOptions { period: Period::All, ..o.clone() });
        let best = whole
            .rows
            .iter()
            .filter(|r| r.unit_id == "CF5" && r.category_kind == "dimension")
            .map(|r| (r.critical + r.pervasive) / 2.0)
            .fold(0.0, f64::max);
        assert!((hazard["CF5"] - best).abs() < 1e-9);
        let risks = area_risks(&events, &[], &fw, &o, &Tree::local_default());
        let cf5 = risks.iter().find(|r| r.unit_id == "CF5").unwrap();
        assert!(cf5.hazard.is_some());
        // No indicator table: vulnerability and coping are unknown, so is risk (require_all).
        assert_eq!(cf5.risk, None);
        assert!(!cf5.missing_inputs.is_empty());
    }
}
