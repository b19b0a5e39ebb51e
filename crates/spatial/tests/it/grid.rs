//! GridShape (the accelerated point-in-polygon) against `geo`'s plain
//! `MultiPolygon::intersects(&Point)`: they must agree on every point,
//! boundary points included, on the CAR prefecture shapes and on random
//! polygons with holes (valid or not).

use geo::{Coord, Distance, Euclidean, Intersects, LineString, MultiPolygon, Point, Polygon};
use proptest::prelude::*;
use std::sync::OnceLock;
use vitalcore_spatial::{GridShape, parse_geometry};

/// The 17 simplified CAR admin-1 shapes of the fixture.
fn car_shapes() -> &'static [(MultiPolygon<f64>, GridShape)] {
    static SHAPES: OnceLock<Vec<(MultiPolygon<f64>, GridShape)>> = OnceLock::new();
    SHAPES.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/caf_adm1_simplified.geojson");
        let text = std::fs::read_to_string(path).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let features = doc["features"].as_array().unwrap();
        features
            .iter()
            .map(|f| {
                let shape = parse_geometry(&f["geometry"].to_string()).unwrap();
                let grid = GridShape::new(&shape);
                (shape, grid)
            })
            .collect()
    })
}

fn agree(shape: &MultiPolygon<f64>, grid: &GridShape, p: Coord<f64>) -> Result<(), TestCaseError> {
    let expected = shape.intersects(&Point(p));
    prop_assert_eq!(grid.intersects(p), expected, "point ({:?}, {:?})", p.x, p.y);
    Ok(())
}

/// `distance_within` must give `geo`'s distance exactly when within the
/// tolerance, and None otherwise.
fn same_distance(
    shape: &MultiPolygon<f64>,
    grid: &GridShape,
    p: Coord<f64>,
    tolerance: f64,
) -> Result<(), TestCaseError> {
    let d = Euclidean.distance(&Point(p), shape);
    let expected = (d <= tolerance).then_some(d);
    prop_assert_eq!(
        grid.distance_within(p, tolerance),
        expected,
        "point ({:?}, {:?}) tolerance {}",
        p.x,
        p.y,
        tolerance
    );
    Ok(())
}

/// All vertices of a shape, in ring order.
fn vertices(shape: &MultiPolygon<f64>) -> Vec<Coord<f64>> {
    shape
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.0.iter().copied())
        .collect()
}

/// A point derived from vertex `i` (and its successor) of the shape: the
/// vertex itself, a point along the edge, a one-ulp neighbour, or a point
/// sharing the vertex's x or y (the cases that exercise the crossing rules).
fn near_vertex(v: &[Coord<f64>], i: usize, kind: u8, t: f64) -> Coord<f64> {
    let a = v[i % v.len()];
    let b = v[(i + 1) % v.len()];
    match kind % 6 {
        0 => a,
        1 => Coord { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y) },
        2 => Coord { x: (a.x + b.x) / 2.0, y: (a.y + b.y) / 2.0 },
        3 => Coord { x: a.x.next_up(), y: a.y.next_down() },
        4 => Coord { x: a.x + (t - 0.5), y: a.y },
        _ => Coord { x: a.x, y: a.y + (t - 0.5) },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn car_shapes_agree_at_random_points(area in 0usize..17, fx in -0.05f64..1.05, fy in -0.05f64..1.05) {
        let (shape, grid) = &car_shapes()[area];
        let [x0, y0, x1, y1] = bbox(shape);
        agree(shape, grid, Coord { x: x0 + fx * (x1 - x0), y: y0 + fy * (y1 - y0) })?;
    }

    #[test]
    fn car_shapes_agree_on_and_near_vertices_and_edges(
        area in 0usize..17, i in 0usize..10_000, kind in 0u8..6, t in 0.0f64..1.0,
    ) {
        let (shape, grid) = &car_shapes()[area];
        agree(shape, grid, near_vertex(&vertices(shape), i, kind, t))?;
    }

    #[test]
    fn car_shapes_agree_on_a_neighbours_vertices(area in 0usize..17, other in 0usize..17, i in 0usize..10_000) {
        // Shared boundaries: a neighbour's vertices lie on (or next to) this shape's edges.
        let (shape, grid) = &car_shapes()[area];
        let v = vertices(&car_shapes()[other].0);
        agree(shape, grid, v[i % v.len()])?;
    }

    #[test]
    fn random_polygons_with_holes_agree_on_lattice_points(
        shape in small_multipolygon(),
        points in prop::collection::vec((-2i32..24, -2i32..24), 64),
    ) {
        // Vertices lie on the integer lattice: half-lattice points hit
        // vertices, edges, hole boundaries and hole interiors exactly.
        let grid = GridShape::new(&shape);
        for (x, y) in points {
            agree(&shape, &grid, Coord { x: x as f64 / 2.0, y: y as f64 / 2.0 })?;
        }
    }

    #[test]
    fn random_polygons_with_holes_agree_at_any_point(
        shape in small_multipolygon(),
        points in prop::collection::vec((-1.0f64..11.0, -1.0f64..11.0), 64),
        i in 0usize..1000, kind in 0u8..6, t in 0.0f64..1.0,
    ) {
        let grid = GridShape::new(&shape);
        for (x, y) in points {
            agree(&shape, &grid, Coord { x, y })?;
        }
        let v = vertices(&shape);
        if !v.is_empty() {
            agree(&shape, &grid, near_vertex(&v, i, kind, t))?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn car_shapes_give_geo_distances_within_the_tolerance(
        area in 0usize..17, fx in -0.1f64..1.1, fy in -0.1f64..1.1,
        tolerance in prop_oneof![Just(0.0), Just(0.01), Just(0.1), Just(0.5)],
    ) {
        let (shape, grid) = &car_shapes()[area];
        let [x0, y0, x1, y1] = bbox(shape);
        same_distance(shape, grid, Coord { x: x0 + fx * (x1 - x0), y: y0 + fy * (y1 - y0) }, tolerance)?;
    }

    #[test]
    fn car_shapes_give_geo_distances_near_their_edges(
        area in 0usize..17, i in 0usize..10_000, kind in 0u8..6, t in 0.0f64..1.0,
        dx in -0.2f64..0.2, dy in -0.2f64..0.2, tolerance in 0.0f64..0.3,
    ) {
        let (shape, grid) = &car_shapes()[area];
        let p = near_vertex(&vertices(shape), i, kind, t);
        same_distance(shape, grid, p, tolerance)?;
        same_distance(shape, grid, Coord { x: p.x + dx, y: p.y + dy }, tolerance)?;
    }

    #[test]
    fn random_polygons_with_holes_give_geo_distances(
        shape in small_multipolygon(),
        points in prop::collection::vec((-24i32..48, -24i32..48), 32),
        tolerance in prop_oneof![Just(0.0), Just(0.5), Just(1.0), Just(3.0)],
    ) {
        let grid = GridShape::new(&shape);
        for (x, y) in points {
            same_distance(&shape, &grid, Coord { x: x as f64 / 4.0, y: y as f64 / 4.0 }, tolerance)?;
        }
    }
}

fn bbox(shape: &MultiPolygon<f64>) -> [f64; 4] {
    use geo::BoundingRect;
    let r = shape.bounding_rect().unwrap();
    [r.min().x, r.min().y, r.max().x, r.max().y]
}

/// A ring of 3-9 lattice points in [0, 10]², not necessarily simple.
fn ring() -> impl Strategy<Value = LineString<f64>> {
    prop::collection::vec((0i32..=10, 0i32..=10), 3..10)
        .prop_map(|pts| LineString::from(pts.into_iter().map(|(x, y)| (x as f64, y as f64)).collect::<Vec<_>>()))
}

/// An axis-aligned rectangle ring, either orientation, within [0, 10]².
fn rectangle() -> impl Strategy<Value = LineString<f64>> {
    (0i32..9, 0i32..9, 1i32..5, 1i32..5, any::<bool>()).prop_map(|(x, y, w, h, ccw)| {
        let (x0, y0) = (x as f64, y as f64);
        let (x1, y1) = ((x + w).min(10) as f64, (y + h).min(10) as f64);
        let mut pts = vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1)];
        if !ccw {
            pts.reverse();
        }
        LineString::from(pts)
    })
}

/// 1-3 polygons: a big rectangle or a random ring as exterior, with 0-3
/// holes (rectangles or random rings, either orientation, possibly
/// overlapping each other or poking outside the exterior).
fn small_multipolygon() -> impl Strategy<Value = MultiPolygon<f64>> {
    let exterior = prop_oneof![
        Just(LineString::from(vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)])),
        ring(),
        rectangle(),
    ];
    let hole = prop_oneof![rectangle(), ring()];
    let polygon = (exterior, prop::collection::vec(hole, 0..4)).prop_map(|(e, holes)| Polygon::new(e, holes));
    prop::collection::vec(polygon, 1..4).prop_map(MultiPolygon::new)
}

#[test]
fn the_fixture_holds_17_shapes() {
    assert_eq!(car_shapes().len(), 17);
}
