//! The [`MandateStore`] contract, run on every backend: resolutions read
//! back as stored (paragraphs, points and sub-points in order, tags,
//! emphasis, provenance), importing twice changes nothing, changed content
//! replaces, filters by mission, number and date, the missions named.

use vitalcore_mandate::{Kind, Paragraph, Point, Resolution};

use crate::mandates::{MandateCounts, MandateStore, MissionCount, Provenance, ResolutionFilter, rows};

/// Every check, in order, on a fresh store.
pub fn mandate_contract<S: MandateStore>(store: &S) {
    resolutions_read_back_as_stored(store);
    importing_again_changes_nothing_and_changed_content_replaces(store);
    filters_select_by_mission_number_and_date(store);
}

fn point(num: &str, eid: &str, text: &str, tasks: &[&str], points: Vec<Point>) -> Point {
    Point {
        num: Some(num.into()),
        eid: eid.into(),
        text: text.into(),
        tasks: tasks.iter().map(|t| t.to_string()).collect(),
        dimensions: if tasks.is_empty() { vec![] } else { vec!["personal".into()] },
        themes: vec![],
        strength: Some("decides".into()),
        all_necessary_means: false,
        points,
        emphasis: vec![],
    }
}

/// A resolution shaped like S/RES/2100 (2013): a preambular paragraph, a
/// heading, an operative paragraph with points and sub-points.
pub fn resolution(number: u32, date: &str, mission: &str, text: &str) -> Resolution {
    let year: i32 = date[..4].parse().unwrap();
    Resolution {
        symbol: format!("S/RES/{number} ({year})"),
        number,
        date: date.into(),
        year,
        missions: vec![mission.into()],
        chapter_vii: true,
        agenda_item: Some("The situation in Mali".into()),
        paragraphs: vec![
            Paragraph {
                num: None,
                eid: "preamble__p_1".into(),
                kind: Kind::Preamble,
                text: "Recalling its previous resolutions,".into(),
                emphasis: vec![(0, 9)],
                ..Paragraph::default()
            },
            Paragraph {
                num: None,
                eid: "hcontainer_1".into(),
                kind: Kind::Heading,
                text: "Mandate of the mission".into(),
                ..Paragraph::default()
            },
            Paragraph {
                num: Some("16".into()),
                eid: "para_16".into(),
                kind: Kind::Operative,
                text: text.into(),
                tasks: vec!["protection_of_civilians".into(), "elections".into()],
                dimensions: vec!["personal".into(), "political".into()],
                themes: vec!["protection_of_civilians".into()],
                strength: Some("decides".into()),
                all_necessary_means: true,
                missions: vec![mission.into()],
                emphasis: vec![(0, 7)],
                points: vec![
                    point(
                        "(a)",
                        "para_16__list_1__point_a",
                        "Protection of civilians:",
                        &["protection_of_civilians"],
                        vec![point(
                            "(i)",
                            "para_16__list_1__point_a__list_1__point_i",
                            "To protect civilians under threat of physical violence;",
                            &["protection_of_civilians"],
                            vec![],
                        )],
                    ),
                    point("(b)", "para_16__list_1__point_b", "To support the elections;", &["elections"], vec![]),
                ],
            },
            Paragraph {
                num: Some("17".into()),
                eid: "para_17".into(),
                kind: Kind::Operative,
                text: "Decides to remain seized of the matter.".into(),
                strength: Some("decides".into()),
                ..Paragraph::default()
            },
        ],
        source_file: String::new(),
        source_sha256: String::new(),
    }
}

pub fn provenance(file: &str, at: &str) -> Provenance {
    Provenance {
        file: file.into(),
        sha256: format!("{:064x}", file.len()),
        imported_at: at.into(),
        imported_by: "analyst".into(),
    }
}

const MANDATE: &str = "Decides that the mandate of MINUSMA shall be the following:";

fn same(a: &Resolution, b: &Resolution) {
    assert_eq!(
        (&a.symbol, a.number, &a.date, a.year, &a.missions, a.chapter_vii, &a.agenda_item),
        (&b.symbol, b.number, &b.date, b.year, &b.missions, b.chapter_vii, &b.agenda_item)
    );
    assert_eq!(rows(a), rows(b), "paragraphs, points, tags and emphasis read back as stored");
    assert_eq!(serde_json::to_value(a).unwrap(), serde_json::to_value(b).unwrap());
}

fn resolutions_read_back_as_stored<S: MandateStore>(store: &S) {
    assert!(store.resolutions(&ResolutionFilter::default()).unwrap().is_empty());
    let a = resolution(2100, "2013-04-25", "MINUSMA", MANDATE);
    let b = resolution(2176, "2014-09-15", "UNMIL", "Decides to extend the mandate of UNMIL until 31 December 2014;");
    let counts = store
        .import_resolutions(&[
            (a.clone(), provenance("Pre-2020/2013/S_RES_2100.xml", "2026-12-07T20:00:00Z")),
            (b.clone(), provenance("S_RES_2176.xml", "2026-12-07T20:00:00Z")),
        ])
        .unwrap();
    assert_eq!(counts, MandateCounts { new: 2, replaced: 0, unchanged: 0 });
    let stored = store.resolutions(&ResolutionFilter::default()).unwrap();
    assert_eq!(stored.len(), 2);
    same(&stored[0].resolution, &a);
    same(&stored[1].resolution, &b);
    assert_eq!(stored[0].provenance, provenance("Pre-2020/2013/S_RES_2100.xml", "2026-12-07T20:00:00Z"));
    let sub = &stored[0].resolution.paragraphs[2].points[0].points[0];
    assert_eq!((sub.num.as_deref(), sub.eid.as_str()), (Some("(i)"), "para_16__list_1__point_a__list_1__point_i"));
}

fn importing_again_changes_nothing_and_changed_content_replaces<S: MandateStore>(store: &S) {
    let a = resolution(2100, "2013-04-25", "MINUSMA", MANDATE);
    let b = resolution(2176, "2014-09-15", "UNMIL", "Decides to extend the mandate of UNMIL until 31 December 2014;");
    let later = "2026-12-08T09:00:00Z";
    let counts = store
        .import_resolutions(&[(a.clone(), provenance("copy/S_RES_2100.xml", later)), (b, provenance("b.xml", later))])
        .unwrap();
    assert_eq!(counts, MandateCounts { new: 0, replaced: 0, unchanged: 2 });
    let stored = store.resolutions(&ResolutionFilter { number: Some(2100), ..Default::default() }).unwrap();
    assert_eq!(stored[0].provenance.imported_at, "2026-12-07T20:00:00Z", "an unchanged resolution is left alone");

    // A corrected text, one paragraph fewer: replaced whole.
    let mut changed = resolution(2100, "2013-04-25", "MINUSMA", "Decides that the mandate of MINUSMA shall be:");
    changed.paragraphs.pop();
    changed.paragraphs[2].points.pop();
    let counts = store.import_resolutions(&[(changed.clone(), provenance("new/S_RES_2100.xml", later))]).unwrap();
    assert_eq!(counts, MandateCounts { new: 0, replaced: 1, unchanged: 0 });
    let stored = store.resolutions(&ResolutionFilter { number: Some(2100), ..Default::default() }).unwrap();
    assert_eq!(stored.len(), 1);
    same(&stored[0].resolution, &changed);
    assert_eq!(stored[0].provenance, provenance("new/S_RES_2100.xml", later));
    // Tags alone changing (new tables) replace too.
    let mut retagged = changed.clone();
    retagged.paragraphs[2].tasks.push("children".into());
    let counts = store.import_resolutions(&[(retagged, provenance("new/S_RES_2100.xml", later))]).unwrap();
    assert_eq!(counts.replaced, 1);
    // Back to the first text for the checks that follow.
    store.import_resolutions(&[(a, provenance("Pre-2020/2013/S_RES_2100.xml", later))]).unwrap();
}

fn filters_select_by_mission_number_and_date<S: MandateStore>(store: &S) {
    let c = resolution(2164, "2014-06-25", "MINUSMA", MANDATE);
    assert_eq!(store.import_resolutions(&[(c, provenance("c.xml", "2026-12-08T10:00:00Z"))]).unwrap().new, 1);
    let numbers = |filter: ResolutionFilter| -> Vec<u32> {
        store.resolutions(&filter).unwrap().iter().map(|s| s.resolution.number).collect()
    };
    assert_eq!(numbers(ResolutionFilter::default()), [2100, 2164, 2176], "by adoption date");
    assert_eq!(numbers(ResolutionFilter { mission: Some("MINUSMA".into()), ..Default::default() }), [2100, 2164]);
    assert_eq!(numbers(ResolutionFilter { mission: Some("UNMIL".into()), ..Default::default() }), [2176]);
    assert!(numbers(ResolutionFilter { mission: Some("MONUSCO".into()), ..Default::default() }).is_empty());
    assert_eq!(numbers(ResolutionFilter { adopted_after: Some("2014-06-25".into()), ..Default::default() }), [2176]);
    assert!(numbers(ResolutionFilter { number: Some(9999), ..Default::default() }).is_empty());
    assert_eq!(
        store.mandate_missions().unwrap(),
        [
            MissionCount {
                mission: "MINUSMA".into(),
                resolutions: 2,
                first: "2013-04-25".into(),
                last: "2014-06-25".into()
            },
            MissionCount {
                mission: "UNMIL".into(),
                resolutions: 1,
                first: "2014-09-15".into(),
                last: "2014-09-15".into()
            },
        ]
    );
}
