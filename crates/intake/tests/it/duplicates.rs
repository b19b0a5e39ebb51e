use crate::ts;
use vitalcore_intake::duplicates::{Candidate, DuplicateRules, duplicates_of, find_duplicates};
use vitalcore_intake::report::Reference;

fn c(n: u32, area: Option<&str>, point: Option<(f64, f64)>, at: &str, text: &str) -> Candidate {
    Candidate::new(Reference::from_number(n), area.map(str::to_string), point, ts(at), text)
}

#[test]
fn same_place_close_time_similar_text_is_linked() {
    let rules = DuplicateRules::default();
    let reports = vec![
        c(1, Some("CF32"), None, "2024-05-01T08:00:00Z", "Armed men burned houses in Bouca market"),
        c(2, Some("CF32"), None, "2024-05-01T20:00:00Z", "armed men burned the houses at Bouca market!"),
        // same text, other area, no points: not linked
        c(3, Some("CF11"), None, "2024-05-01T09:00:00Z", "Armed men burned houses in Bouca market"),
        // same area, similar text, but 3 days later: not linked
        c(4, Some("CF32"), None, "2024-05-04T09:00:00Z", "Armed men burned houses in Bouca market"),
        // same area and time, unrelated text: not linked
        c(5, Some("CF32"), None, "2024-05-01T09:00:00Z", "Cholera cases at the health post"),
    ];
    let pairs = find_duplicates(&reports, &rules);
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    let p = &pairs[0];
    assert_eq!((p.a.clone(), p.b.clone()), (Reference::from_number(1), Reference::from_number(2)));
    assert!((p.link.hours_apart - 12.0).abs() < 1e-9);
    assert!(p.link.text_similarity > 0.5 && p.link.score <= 1.0);
    let [(from_a, link_a), (from_b, link_b)] = p.links();
    assert_eq!((from_a, link_a.other), (Reference::from_number(1), Reference::from_number(2)));
    assert_eq!((from_b, link_b.other), (Reference::from_number(2), Reference::from_number(1)));
}

#[test]
fn points_within_two_km_count_as_the_same_place() {
    let rules = DuplicateRules::default();
    // 0.01 degree of latitude is 1.11 km; 0.03 is 3.3 km.
    let near = c(2, None, Some((6.51, 18.27)), "2024-05-01T10:00:00Z", "Attaque du village par des hommes armés");
    let far = c(3, None, Some((6.53, 18.27)), "2024-05-01T10:00:00Z", "Attaque du village par des hommes armés");
    let base = c(1, None, Some((6.50, 18.27)), "2024-05-01T08:00:00Z", "attaque du village par hommes armés");
    let links = duplicates_of(&base, &[near, far], &rules);
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].other, Reference::from_number(2));
    assert!((links[0].km_apart.unwrap() - 1.112).abs() < 0.01);
}

#[test]
fn thousands_of_reports_are_compared_by_blocks() {
    // 5,000 reports over 100 days in 50 areas, every text distinct: no links,
    // and only pairs inside the 48 h window are examined.
    let reports: Vec<Candidate> = (0..5000u32)
        .map(|i| {
            let t = jiff::Timestamp::from_second(1_714_521_600 + i as i64 * 1728).unwrap();
            Candidate::new(
                Reference::from_number(i),
                Some(format!("A{}", i % 50)),
                None,
                t,
                &format!("report number {i} {}", i * 7919),
            )
        })
        .collect();
    let pairs = find_duplicates(&reports, &DuplicateRules { min_text_similarity: 0.9, ..DuplicateRules::default() });
    assert!(pairs.is_empty(), "{}", pairs.len());
}

#[test]
fn pointed_reports_across_area_borders_are_found_once() {
    let rules = DuplicateRules::default();
    let text = "Hommes armés au marché de Kaga-Bandoro ce matin";
    let reports = vec![
        // same area and 1.1 km apart: found by the area pass only, not twice
        c(1, Some("CF71"), Some((6.98, 19.18)), "2024-05-01T08:00:00Z", text),
        c(2, Some("CF71"), Some((6.99, 19.18)), "2024-05-01T09:00:00Z", text),
        // other side of an area border, 1.1 km from #2: found by the point pass
        c(3, Some("CF42"), Some((7.00, 19.18)), "2024-05-01T10:00:00Z", text),
        // no area, 3.3 km from #3: too far
        c(4, None, Some((7.03, 19.18)), "2024-05-01T10:00:00Z", text),
    ];
    let found: Vec<(u32, u32)> = find_duplicates(&reports, &rules)
        .iter()
        .map(|p| {
            let n = |r: &Reference| (1..=4).find(|&k| Reference::from_number(k) == *r).unwrap();
            (n(&p.a), n(&p.b))
        })
        .collect();
    // #1-#3 are 2.2 km apart (> 2 km): not linked.
    assert_eq!(found, vec![(1, 2), (2, 3)]);
}
