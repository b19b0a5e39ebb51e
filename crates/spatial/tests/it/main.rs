//! AreaIndex on hand-made squares: containment, boundaries, the nearest-area
//! fallback and its tolerance, levels, names; `grid`: the accelerated
//! point-in-polygon against `geo`.

mod grid;

use vitalcore_framework::Area;
use vitalcore_spatial::{AreaIndex, NEAREST_AREA_TOLERANCE_DEG, SpatialError};

fn square(pcode: &str, name: &str, level: u8, parent: Option<&str>, x0: f64, y0: f64, size: f64) -> Area {
    let (x1, y1) = (x0 + size, y0 + size);
    Area {
        pcode: pcode.into(),
        name: name.into(),
        level,
        parent_pcode: parent.map(Into::into),
        country: Some("Testland".into()),
        geometry: Some(format!(
            r#"{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}"#
        )),
    }
}

fn index() -> AreaIndex {
    AreaIndex::new(&[
        square("T01", "West Côte", 1, Some("T"), 0.0, 0.0, 1.0),
        square("T02", "East-Hills", 1, Some("T"), 1.0, 0.0, 1.0),
        square("T0101", "Lower Ward", 2, Some("T01"), 0.0, 0.0, 0.5),
    ])
    .unwrap()
}

#[test]
fn points_inside_find_their_area_at_each_level() {
    let idx = index();
    let (a1, a2) = idx.locate(0.25, 0.25);
    assert_eq!(a1.map(|a| a.pcode.as_str()), Some("T01"));
    assert_eq!(a2.map(|a| a.pcode.as_str()), Some("T0101"));
    let (a1, a2) = idx.locate(1.5, 0.5);
    assert_eq!(a1.map(|a| a.pcode.as_str()), Some("T02"));
    assert!(a2.is_none(), "no level-2 area covers (1.5, 0.5) nor lies within the tolerance");
    assert!(idx.has_admin2());
}

#[test]
fn a_point_on_a_shared_boundary_is_placed_in_one_of_the_two() {
    let idx = index();
    let (a1, _) = idx.locate_strict(1.0, 0.5);
    assert!(matches!(a1.map(|a| a.pcode.as_str()), Some("T01" | "T02")));
}

#[test]
fn points_just_outside_go_to_the_nearest_area_within_the_tolerance() {
    let idx = index();
    let near = 2.0 + NEAREST_AREA_TOLERANCE_DEG / 2.0;
    assert_eq!(idx.locate(near, 0.5).0.map(|a| a.pcode.as_str()), Some("T02"));
    assert_eq!(idx.locate_strict(near, 0.5).0, None);
    let far = 2.0 + NEAREST_AREA_TOLERANCE_DEG * 2.0;
    assert_eq!(idx.locate(far, 0.5).0, None);
    assert_eq!(idx.locate(f64::NAN, 0.5).0, None);
}

#[test]
fn names_match_whatever_the_case_accents_and_punctuation() {
    let idx = index();
    assert_eq!(idx.by_name(1, "west cote").map(|a| a.pcode.as_str()), Some("T01"));
    assert_eq!(idx.by_name(1, "EAST HILLS").map(|a| a.pcode.as_str()), Some("T02"));
    assert_eq!(idx.by_name(2, "Lower-Ward").map(|a| a.pcode.as_str()), Some("T0101"));
    assert!(idx.by_name(2, "West Côte").is_none(), "levels are kept apart");
    assert!(idx.by_name_in(1, "West Côte", Some("Otherland")).is_none());
    assert_eq!(idx.by_name_in(1, "West Côte", Some("testland")).map(|a| a.pcode.as_str()), Some("T01"));
    assert_eq!(idx.by_pcode("t02").map(|a| a.name.as_str()), Some("East-Hills"));
}

#[test]
fn a_bad_geometry_names_the_area() {
    let mut a = square("X1", "Broken", 1, None, 0.0, 0.0, 1.0);
    a.geometry = Some(r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#.into());
    let err = AreaIndex::new(&[a]).err().unwrap();
    assert!(matches!(err, SpatialError::Geometry { .. }));
    assert!(err.to_string().contains("X1 (Broken)"), "{err}");
}
