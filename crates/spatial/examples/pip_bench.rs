//! Point-in-polygon cost per point on admin boundaries: `geo`'s plain
//! `intersects` (what `AreaIndex` used before), `geo`'s indexed options
//! (`PreparedGeometry` + `Relate`, `IntervalTreeMultiPolygon` (boundary
//! excluded), `MonotonicPolygons`) and this crate's `GridShape`, on the
//! same pseudo-random points over the Central African Republic (the box of
//! the import throughput example). Also `AreaIndex::locate_strict` and
//! `locate` (nearest-area fallback). Prints wall and thread-CPU ns per
//! point (median of RUNS) and how many answers differ from plain `geo`.
//!
//!     cargo run -p vitalcore-spatial --release --example pip_bench -- [BOUNDARIES] [POINTS] [RUNS]
//!
//! BOUNDARIES: a GeoJSON FeatureCollection of (Multi)Polygons; default the
//! committed simplified CAR admin-1 fixture. Full resolution:
//! `../shared/datasets/boundaries-caf-adm1/caf_adm1_ocha_cod.geojson`.

use geo::indexed::IntervalTreeMultiPolygon;
use geo::{BoundingRect, Contains, Coord, Intersects, MonotonicPolygons, MultiPolygon, Point};
use geo::{PreparedGeometry, Relate};
use std::time::Instant;
use vitalcore_framework::Area;
use vitalcore_spatial::{AreaIndex, GridShape, parse_geometry};

/// 64-bit LCG (Knuth's MMIX constants), as in the import throughput example.
struct Lcg(u64);
impl Lcg {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(text.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `f` on every point RUNS times; prints ns per point, returns the answers.
fn measure<T: PartialEq>(label: &str, points: &[Coord<f64>], runs: usize, f: impl Fn(Coord<f64>) -> T) -> Vec<T> {
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    let mut answers = Vec::new();
    for _ in 0..runs {
        let (t, c) = (Instant::now(), thread_cpu_seconds());
        answers = points.iter().map(|&p| f(p)).collect();
        wall.push(t.elapsed().as_secs_f64());
        if let (Some(c0), Some(c1)) = (c, thread_cpu_seconds()) {
            cpu.push(c1 - c0);
        }
    }
    let per = |s: f64| s * 1e9 / points.len() as f64;
    let cpu = if cpu.is_empty() { f64::NAN } else { per(median(cpu)) };
    println!("{label:<44} wall {:>9.0} ns/point, CPU {:>9.0} ns/point", per(median(wall)), cpu);
    answers
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/caf_adm1_simplified.geojson").into());
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let runs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let shapes: Vec<MultiPolygon<f64>> = doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| parse_geometry(&f["geometry"].to_string()).unwrap())
        .collect();
    let vertices: usize = shapes.iter().map(geo::CoordsIter::coords_count).sum();
    println!("{path}: {} shapes, {vertices} vertices, {n} points", shapes.len());
    let boxes: Vec<_> = shapes.iter().map(|s| s.bounding_rect().unwrap()).collect();
    let in_box = |i: usize, p: Coord<f64>| {
        let b = boxes[i];
        p.x >= b.min().x && p.x <= b.max().x && p.y >= b.min().y && p.y <= b.max().y
    };
    let mut r = Lcg(42);
    let points: Vec<Coord<f64>> =
        (0..n).map(|_| Coord { x: 15.0 + 12.0 * r.unit(), y: 2.5 + 8.0 * r.unit() }).collect();

    let t = Instant::now();
    let grids: Vec<GridShape> = shapes.iter().map(GridShape::new).collect();
    println!("GridShape build: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let prepared: Vec<_> = shapes.iter().map(|s| PreparedGeometry::from(s.clone())).collect();
    println!("PreparedGeometry build: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let itrees: Vec<_> = shapes.iter().map(IntervalTreeMultiPolygon::new).collect();
    // Its builder panics on some invalid polygons (the simplified fixture).
    let t = Instant::now();
    let monotone =
        std::panic::catch_unwind(|| shapes.iter().map(|s| MonotonicPolygons::from(s.clone())).collect::<Vec<_>>());
    println!("MonotonicPolygons build: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);

    let first = |test: &dyn Fn(usize, Coord<f64>) -> bool, p: Coord<f64>| {
        (0..shapes.len()).find(|&i| in_box(i, p) && test(i, p))
    };
    let plain =
        measure("geo intersects (before)", &points, runs, |p| first(&|i, p| shapes[i].intersects(&Point(p)), p));
    let report = |label: &str, answers: Vec<Option<usize>>| {
        let differ = answers.iter().zip(&plain).filter(|(a, b)| a != b).count();
        println!("{:<44} {differ} answers differ from geo intersects", "");
        let _ = label;
    };
    report("grid", measure("GridShape (after)", &points, runs, |p| first(&|i, p| grids[i].intersects(p), p)));
    report(
        "itree",
        measure("geo IntervalTreeMultiPolygon contains", &points, runs, |p| first(&|i, p| itrees[i].contains(&p), p)),
    );
    match &monotone {
        Ok(monotone) => report(
            "monotone",
            measure("geo MonotonicPolygons intersects", &points, runs, |p| {
                first(&|i, p| monotone[i].intersects(&p), p)
            }),
        ),
        Err(_) => println!("geo MonotonicPolygons: its builder panicked on these polygons"),
    }
    let few = &points[..points.len().min(2000)];
    let plain_few = &plain[..few.len()];
    let prep = measure("geo PreparedGeometry relate (2000 points)", few, 1, |p| {
        first(&|i, p| prepared[i].relate(&Point(p)).is_intersects(), p)
    });
    let differ = prep.iter().zip(plain_few).filter(|(a, b)| a != b).count();
    println!("{:<44} {differ} answers differ from geo intersects", "");

    let areas: Vec<Area> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| Area {
            pcode: format!("A{i}"),
            name: format!("Area {i}"),
            level: 1,
            parent_pcode: None,
            country: None,
            geometry: Some(geo_json(s)),
        })
        .collect();
    let index = AreaIndex::new(&areas).unwrap();
    let strict = measure("AreaIndex::locate_strict", &points, runs, |p| {
        index.locate_strict(p.x, p.y).0.map(|a| a.pcode.clone())
    });
    let inside = strict.iter().filter(|a| a.is_some()).count();
    println!("{:<44} {inside} of {n} points inside an area", "");
    measure("AreaIndex::locate (nearest fallback)", &points, runs, |p| {
        index.locate(p.x, p.y).0.map(|a| a.pcode.clone())
    });
}

/// A GeoJSON MultiPolygon geometry object.
fn geo_json(shape: &MultiPolygon<f64>) -> String {
    let ring =
        |r: &geo::LineString<f64>| serde_json::Value::from(r.0.iter().map(|c| vec![c.x, c.y]).collect::<Vec<_>>());
    let polygons: Vec<serde_json::Value> =
        shape.iter().map(|p| std::iter::once(p.exterior()).chain(p.interiors()).map(ring).collect()).collect();
    serde_json::json!({"type": "MultiPolygon", "coordinates": polygons}).to_string()
}
