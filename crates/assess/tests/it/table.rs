//! `EventTable` gives the answers of the string-keyed reference
//! implementation (reference.rs) on varied events: missing and blank place
//! fields, one P-code spelt with two names, points without locality names,
//! community reports, unknown and repeated categories, severities beyond the
//! scale, events outside the range.

use crate::reference;
use jiff::civil::Date;
use vitalcore_assess::{AssessOptions, EventTable, Period};
use vitalcore_framework::{Event, Framework, Month, Place, Provenance, Source, Tags, UnitKind};

/// SplitMix64 (Steele, Lea and Flood 2014).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn maybe(&mut self, items: &[&str]) -> Option<String> {
        let i = self.below(items.len() as u64 + 1) as usize;
        items.get(i).map(|s| s.to_string())
    }
}

fn varied_events(n: usize, seed: u64, fw: &Framework) -> Vec<Event> {
    let mut rng = Rng(seed);
    let dimensions: Vec<&str> = fw.dimension_ids().collect();
    let themes: Vec<&str> = fw.theme_ids().collect();
    (0..n)
        .map(|i| {
            let source =
                [Source::Acled, Source::UcdpGed, Source::CommunityReport, Source::Acled][rng.below(4) as usize];
            let mut dims: Vec<String> = (0..rng.below(3)).map(|_| rng.pick(&dimensions).to_string()).collect();
            if rng.below(10) == 0 {
                dims.push("not-in-the-framework".into());
            }
            let theme_list: Vec<String> = (0..rng.below(2)).map(|_| rng.pick(&themes).to_string()).collect();
            let point = rng.below(5) != 0;
            Event {
                provenance: Provenance { source, source_id: format!("E{i}"), file: "f.csv".into(), line: i as u64 },
                date: Date::new(2013 + rng.below(3) as i16, 1 + rng.below(12) as i8, 1 + rng.below(28) as i8).unwrap(),
                date_end: None,
                place: Place {
                    country: rng.maybe(&["Central African Republic", "Mali", " "]),
                    iso3: rng.maybe(&["CAF", "MLI"]),
                    admin1: rng.maybe(&["Ouham", "ouham", "Lobaye", "Vakaga", ""]),
                    admin2: rng.maybe(&["Bossangoa", "Mbaiki", "Birao"]),
                    location: rng.maybe(&["Bouca", "bouca", "Kabo ", "Ndele", "  "]),
                    latitude: point.then(|| 2.0 + rng.below(800) as f64 / 100.0),
                    longitude: point.then(|| 15.0 + rng.below(1000) as f64 / 100.0),
                    precision: None,
                    admin1_pcode: rng.maybe(&["CF32", "CF11", "CF71"]),
                    admin2_pcode: rng.maybe(&["CF3201", "CF1101"]),
                },
                event_type: "x".into(),
                sub_event_type: None,
                actor1: None,
                actor2: None,
                fatalities: if rng.below(3) == 0 { rng.below(30) as u32 } else { 0 },
                civilian_fatalities: (rng.below(2) == 0).then(|| rng.below(5) as u32),
                civilian_targeting: false,
                notes: None,
                tags: Tags { dimensions: dims, themes: theme_list, severity: rng.below(7) as u8, rule: "t".into() },
            }
        })
        .collect()
}

fn options(unit: UnitKind, from: &str, to: &str, period: Period) -> AssessOptions {
    let mut opts = AssessOptions::new(unit, from.parse().unwrap(), to.parse().unwrap(), period);
    opts.area_names.insert("CF32".into(), "Ouham (boundary name)".into());
    opts
}

fn in_range(events: &[Event], opts: &AssessOptions) -> Vec<Event> {
    events.iter().filter(|e| (opts.from..=opts.to).contains(&Month::of(e.date))).cloned().collect()
}

const UNITS: [UnitKind; 4] = [UnitKind::Country, UnitKind::Admin1, UnitKind::Admin2, UnitKind::Grid];

#[test]
fn assessments_and_summaries_equal_the_reference_for_every_unit_and_period() {
    let fw = Framework::built_in();
    let events = varied_events(3000, 1, &fw);
    let table = EventTable::new(&events);
    for unit in UNITS {
        for period in [Period::Month, Period::Quarter, Period::Year, Period::All] {
            for (from, to) in [("2013-01", "2015-12"), ("2013-11", "2014-05"), ("2014-02", "2014-02")] {
                let opts = options(unit, from, to, period);
                let expected = reference::assess(&events, &fw, &opts);
                assert!(!expected.rows.is_empty());
                assert_eq!(table.assess(&fw, &opts), expected, "{unit:?} {period:?} {from}..{to}");
                assert_eq!(table.summaries(&fw, &opts, 1), reference::summaries(&events, &fw, &opts, 1));
            }
        }
    }
}

#[test]
fn profiles_equal_the_reference_for_ids_names_and_boundary_names() {
    let fw = Framework::built_in();
    let events = varied_events(3000, 2, &fw);
    let table = EventTable::new(&events);
    for (unit, queries) in [
        (
            UnitKind::Admin1,
            vec!["CF32", "cf11", "OUHAM", "Ouham (boundary name)", "Central African Republic/Lobaye", "nowhere"],
        ),
        (UnitKind::Country, vec!["CAF", "mali", "MLI"]),
        (UnitKind::Admin2, vec!["CF3201", "Birao"]),
    ] {
        for query in queries {
            let opts = options(unit, "2013-06", "2015-03", Period::Month);
            let expected = reference::profile(&in_range(&events, &opts), &fw, &opts, query);
            assert_eq!(expected.is_none(), query == "nowhere", "{query}");
            assert_eq!(table.profile(&fw, &opts, query), expected, "{unit:?} {query}");
        }
    }
}

#[test]
fn dimension_panels_equal_the_reference() {
    let fw = Framework::built_in();
    let events = varied_events(2000, 3, &fw);
    let table = EventTable::new(&events);
    for unit in UNITS {
        let opts = options(unit, "2013-03", "2015-10", Period::Month);
        assert_eq!(table.dimension_panel(&fw, &opts, None), reference::dimension_panel(&events, &fw, &opts, None));
    }
    let opts = options(UnitKind::Admin1, "2013-03", "2015-10", Period::Month);
    for only in ["CF32", "Central African Republic/Vakaga", "Ouham", "nowhere"] {
        let expected = reference::dimension_panel(&events, &fw, &opts, Some(only));
        assert_eq!(expected.is_some(), only.starts_with("CF") || only.contains('/'), "{only}");
        assert_eq!(table.dimension_panel(&fw, &opts, Some(only)), expected, "{only}");
    }
}

#[test]
fn a_table_with_more_events_answers_as_one_table_of_all_of_them() {
    let fw = Framework::built_in();
    let stored = varied_events(1500, 4, &fw);
    let mut reports = varied_events(300, 5, &fw);
    for (i, r) in reports.iter_mut().enumerate() {
        r.provenance.source = Source::CommunityReport;
        r.place.location = Some(format!("New place {i}"));
    }
    let base = EventTable::new(&stored);
    let both = base.with(&reports);
    let all: Vec<Event> = stored.iter().chain(&reports).cloned().collect();
    assert_eq!((base.len(), both.len()), (1500, 1800));
    let opts = options(UnitKind::Admin1, "2013-01", "2015-12", Period::Quarter);
    assert_eq!(both.assess(&fw, &opts), reference::assess(&all, &fw, &opts));
    assert_ne!(base.assess(&fw, &opts), both.assess(&fw, &opts), "the reports count");
    assert_eq!(base.assess(&fw, &opts), reference::assess(&stored, &fw, &opts), "the base table is unchanged");
    assert_eq!(base.with(&[]).len(), 1500);
    let months = |list: &[Event]| {
        let m = list.iter().map(|e| Month::of(e.date));
        (m.clone().min().unwrap(), m.max().unwrap())
    };
    assert_eq!(both.months(), Some(months(&all)));
    assert_eq!(EventTable::default().months(), None);
}
