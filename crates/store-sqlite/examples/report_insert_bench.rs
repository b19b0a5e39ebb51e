//! How many community reports a second the SQLite store takes through
//! `ReportStore::insert_report`: one transaction per report (as the API
//! stores each submission), WAL, `synchronous=NORMAL`, a fresh database file
//! per run. Reports are validated and sealed before the clock starts; only
//! the store call is timed.
//!
//! ```sh
//! cargo run --release -p vitalcore-store-sqlite --example report_insert_bench -- [REPORTS] [RUNS] [THREADS] [PREFILL]
//! ```
//! REPORTS per run (default 20000), RUNS (default 5, the median is printed),
//! THREADS inserting at once (default 1), PREFILL reports already stored
//! before the timed inserts (default 0). The database goes to a temporary
//! folder (set TMPDIR to measure another disk).

use std::time::{Duration, Instant};

use jiff::Timestamp;
use secrecy::SecretString;
use vitalcore_intake::report::Reference;
use vitalcore_intake::{CategoryMap, Channel, ContactKey, Intake, Report, ReportDraft};
use vitalcore_store::reports::ReportStore;
use vitalcore_store_sqlite::SqliteStore;

const CATEGORIES: [&str; 5] = ["killing", "attack", "looting_extortion", "displacement", "cattle_crop_theft"];

fn arg(i: usize, default: usize) -> usize {
    match std::env::args().nth(i) {
        None => default,
        Some(a) => a.parse().unwrap_or_else(|_| panic!("argument {i} `{a}` is not a whole number")),
    }
}

/// `count` reports like API submissions: text of ~200 characters, category,
/// urgency, one of 100 areas, coordinates, a sealed contact.
fn reports(first: u32, count: usize) -> Vec<Report> {
    let intake = Intake::new(ContactKey::from_bytes([3; 32]), CategoryMap::built_in());
    let start: Timestamp = "2024-05-01T00:00:00Z".parse().unwrap();
    (0..count as u32)
        .map(|i| {
            let n = first + i;
            let draft = ReportDraft {
                text: format!(
                    "Report {n}: armed men came to the village at night, took cattle and goods from the market, \
                     several families have fled towards the river crossing and need help; the road is blocked."
                ),
                category: Some(CATEGORIES[n as usize % CATEGORIES.len()].into()),
                urgency: Some(["low", "medium", "high", "critical"][n as usize % 4].into()),
                area_pcode: Some(format!("CF{:02}", n % 100)),
                latitude: Some(6.0 + (n % 1000) as f64 / 1000.0),
                longitude: Some(19.0 + (n % 777) as f64 / 777.0),
                contact: Some(SecretString::from(format!("+23670{n:06}"))),
                ..ReportDraft::default()
            };
            let received = start + jiff::SignedDuration::from_millis(i64::from(n));
            let channel = Channel::Api { partner: "bench-partner".into() };
            intake.accept_as(&draft, channel, received, Reference::from_number(n)).expect("valid draft")
        })
        .collect()
}

struct Run {
    per_second: f64,
    latencies: Vec<Duration>,
}

fn run(batch: &[Report], prefill: &[Report], threads: usize) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("bench.db")).unwrap();
    for r in prefill {
        store.insert_report(r).unwrap();
    }
    let chunk = batch.len().div_ceil(threads.max(1));
    let started = Instant::now();
    let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                let store = &store;
                scope.spawn(move || {
                    part.iter()
                        .map(|r| {
                            let t = Instant::now();
                            store.insert_report(r).unwrap();
                            t.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    let stored = store.reports(&Default::default()).unwrap().len();
    assert_eq!(stored, prefill.len() + batch.len(), "every report is stored");
    latencies.sort_unstable();
    Run { per_second: batch.len() as f64 / elapsed.as_secs_f64(), latencies }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let (count, runs, threads, prefill) = (arg(1, 20_000), arg(2, 5), arg(3, 1), arg(4, 0));
    assert!(count > 0 && runs > 0 && threads > 0, "REPORTS, RUNS and THREADS must be at least 1");
    let prefilled = reports(0, prefill);
    let batch = reports(prefill as u32, count);
    eprintln!("{count} reports per run, {runs} runs, {threads} thread(s), {prefill} already stored");
    let mut rates = Vec::new();
    let mut p50s = Vec::new();
    let mut p99s = Vec::new();
    for i in 0..runs {
        let r = run(&batch, &prefilled, threads);
        let (p50, p99) = (percentile(&r.latencies, 0.50), percentile(&r.latencies, 0.99));
        eprintln!(
            "run {}: {:.0} reports/s, per insert p50 {:.1} µs, p99 {:.1} µs, max {:.1} ms",
            i + 1,
            r.per_second,
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
            r.latencies.last().unwrap().as_secs_f64() * 1e3
        );
        rates.push(r.per_second);
        p50s.push(p50.as_secs_f64() * 1e6);
        p99s.push(p99.as_secs_f64() * 1e6);
    }
    println!(
        "insert_report, SQLite file (WAL), one transaction each, {threads} thread(s), {prefill} prefilled: \
         median {:.0} reports/s over {runs} runs of {count}; median p50 {:.1} µs, median p99 {:.1} µs",
        median(rates),
        median(p50s),
        median(p99s)
    );
}
