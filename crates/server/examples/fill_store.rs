//! Fills a store for the server benchmark (bench/server/run.sh): N
//! synthetic ACLED-shaped events (`vitalcore_store::testing::synthetic`: 4
//! countries, 64 admin-1 areas with P-codes, 2013-2020) imported in one
//! batch, and a boundary for every country and admin-1 area (a polygon of
//! `--vertices` points, about the size of a real prefecture outline) so that
//! the map endpoint reads and sends geometry as it does in the field.
//!
//! cargo run --release -p vitalcore-server --example fill_store -- \
//!     --rows 1000000 (--sqlite FILE | --postgres URL) [--vertices 1000] [--seed 1]
//!
//! `--table-only` stores nothing: it prints what the server's snapshot of
//! these events costs (rows, heap bytes, time to build).

use std::time::Instant;
use vitalcore_store::testing::synthetic;
use vitalcore_store::{Area, Store};
use vitalcore_store_postgres::PostgresStore;
use vitalcore_store_sqlite::SqliteStore;

const COUNTRIES: &[(&str, &str)] = &[
    ("Central African Republic", "CF"),
    ("Democratic Republic of Congo", "CD"),
    ("South Sudan", "SS"),
    ("Mali", "ML"),
];

fn main() {
    let mut rows = 1_000_000usize;
    let mut vertices = 1000usize;
    let mut seed = 1u64;
    let mut store: Option<Box<dyn Store>> = None;
    let mut table_only = false;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--rows" => rows = value().parse().expect("--rows takes a number"),
            "--vertices" => vertices = value().parse().expect("--vertices takes a number"),
            "--seed" => seed = value().parse().expect("--seed takes a number"),
            "--table-only" => table_only = true,
            "--sqlite" => store = Some(Box::new(SqliteStore::open(value()).expect("open the SQLite file"))),
            "--postgres" => store = Some(Box::new(PostgresStore::connect(&value()).expect("connect to PostgreSQL"))),
            other => panic!("unknown argument {other}; see the header of fill_store.rs"),
        }
    }
    if table_only {
        let events = synthetic::events(rows, seed);
        let started = Instant::now();
        let table = vitalcore_assess::EventTable::new(&events);
        let built = started.elapsed().as_secs_f64();
        println!(
            "{} events: table {:.1} MB on the heap, built in {built:.2} s",
            table.len(),
            table.heap_bytes() as f64 / 1e6
        );
        return;
    }
    let store = store.expect("--sqlite FILE or --postgres URL");
    let started = Instant::now();
    let events = synthetic::events(rows, seed);
    let counts = store.import_events(&synthetic::file("synthetic-acled.csv", rows), &events).expect("import");
    drop(events);
    store.save_areas(&areas(vertices)).expect("save areas");
    eprintln!("{counts:?}, {} areas, {:.1} s", COUNTRIES.len() * 17, started.elapsed().as_secs_f64());
}

/// A country and its 16 admin-1 areas (`CF01`..`CF16`, as the synthetic
/// events' P-codes), each a ring of `vertices` points.
fn areas(vertices: usize) -> Vec<Area> {
    let mut out = Vec::new();
    for (c, (country, prefix)) in COUNTRIES.iter().enumerate() {
        let (lon0, lat0) = (10.0 + c as f64 * 6.0, -5.0 + c as f64 * 5.0);
        out.push(area(prefix, country, 0, None, country, ring(lon0 + 2.0, lat0 + 2.0, 2.5, vertices)));
        for a in 1..=16 {
            let (col, row) = ((a - 1) % 4, (a - 1) / 4);
            let (lon, lat) = (lon0 + col as f64, lat0 + row as f64);
            let pcode = format!("{prefix}{a:02}");
            out.push(area(
                &pcode,
                &format!("Province {a}"),
                1,
                Some(prefix),
                country,
                ring(lon + 0.5, lat + 0.5, 0.45, vertices),
            ));
        }
    }
    out
}

fn area(pcode: &str, name: &str, level: u8, parent: Option<&str>, country: &str, geometry: String) -> Area {
    Area {
        pcode: pcode.to_string(),
        name: name.to_string(),
        level,
        parent_pcode: parent.map(str::to_string),
        country: Some(country.to_string()),
        geometry: Some(geometry),
    }
}

/// A GeoJSON polygon: `n` points on a wobbly circle (closed ring).
fn ring(lon: f64, lat: f64, radius: f64, n: usize) -> String {
    let points: Vec<String> = (0..=n)
        .map(|i| {
            let t = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
            let r = radius * (1.0 + 0.08 * (7.0 * t).sin());
            format!("[{:.5},{:.5}]", lon + r * t.cos(), lat + r * t.sin())
        })
        .collect();
    format!(r#"{{"type":"Polygon","coordinates":[[{}]]}}"#, points.join(","))
}
