//! Store import benchmark: N synthetic ACLED-shaped events (generated in
//! memory, not timed) imported into a fresh SQLite file and a fresh
//! PostgreSQL schema, then imported again (every event unchanged), then once
//! more with 10% of the events revised. Prints medians of several runs.
//!
//! cargo run --release -p vitalcore-store-postgres --example store_bench -- \
//!     [--rows 1000000] [--runs 3] [--backend both|sqlite|postgres] [--dir /tmp] [--import-only]
//! PostgreSQL: VITALCORE_PG_URL, default `host=127.0.0.1 user=postgres dbname=test`.

use std::time::Instant;

use vitalcore_framework::Event;
use vitalcore_store::testing::synthetic;
use vitalcore_store::{ImportCounts, Store};
use vitalcore_store_postgres::PostgresStore;
use vitalcore_store_sqlite::SqliteStore;

struct Args {
    rows: usize,
    runs: usize,
    sqlite: bool,
    postgres: bool,
    dir: std::path::PathBuf,
    /// Only the first phase (import of new events): for quick comparisons.
    import_only: bool,
}

fn parse_args() -> Args {
    let mut args =
        Args { rows: 1_000_000, runs: 3, sqlite: true, postgres: true, dir: std::env::temp_dir(), import_only: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--rows" => args.rows = value().parse().expect("--rows takes a number"),
            "--runs" => args.runs = value().parse().expect("--runs takes a number"),
            "--dir" => args.dir = value().into(),
            "--import-only" => args.import_only = true,
            "--backend" => match value().as_str() {
                "both" => (args.sqlite, args.postgres) = (true, true),
                "sqlite" => (args.sqlite, args.postgres) = (true, false),
                "postgres" => (args.sqlite, args.postgres) = (false, true),
                other => panic!("--backend is both, sqlite or postgres, not {other}"),
            },
            other => panic!("unknown argument {other}; see the header of store_bench.rs"),
        }
    }
    args
}

/// Wall-clock and CPU seconds of each phase of one run.
#[derive(Default, Clone, Copy)]
struct Run {
    import: Secs,
    reimport: Secs,
    revise: Secs,
}

#[derive(Default, Clone, Copy)]
struct Secs {
    wall: f64,
    /// CPU time of this process (user + system): on a shared machine this is
    /// what the store itself costs; wall time adds waiting for the CPU, the
    /// disk and, for PostgreSQL, the server (whose CPU is not counted here).
    cpu: f64,
    /// Wall-clock seconds from the end of the import until SQLite's WAL
    /// checkpoint, which runs on a background thread, has finished (not
    /// included in `wall`); 0 for PostgreSQL.
    checkpoint: f64,
}

/// User + system CPU seconds of this process, from /proc (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat(5) (utime, stime), in clock ticks of 1/100 s.
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Times one import, then (untimed in `wall`) waits with `settle` for work
/// the store left running in the background.
fn timed(store: &dyn Store, settle: &dyn Fn(), path: &str, events: &[Event]) -> (Secs, ImportCounts) {
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let counts = store.import_events(&synthetic::file(path, events.len()), events).expect("import");
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let settling = Instant::now();
    settle();
    (Secs { wall, cpu, checkpoint: settling.elapsed().as_secs_f64() }, counts)
}

fn run_once(store: &dyn Store, settle: &dyn Fn(), events: &[Event], revised: &[Event], import_only: bool) -> Run {
    let n = events.len() as u64;
    let (import, c) = timed(store, settle, "bench.csv", events);
    assert_eq!(c, ImportCounts { imported: n, updated: 0, unchanged: 0 });
    if import_only {
        return Run { import, ..Run::default() };
    }
    let (reimport, c) = timed(store, settle, "bench.csv", events);
    assert_eq!(c, ImportCounts { imported: 0, updated: 0, unchanged: n });
    let (revise, c) = timed(store, settle, "bench-revised.csv", revised);
    assert_eq!(c.updated, n.div_ceil(10));
    Run { import, reimport, revise }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn report(backend: &str, n: usize, runs: &[Run], import_only: bool) {
    type Phase = (&'static str, fn(&Run) -> Secs);
    let phases: [Phase; 3] = [
        ("import (all new)", |r| r.import),
        ("re-import (all unchanged)", |r| r.reimport),
        ("import with 10% revised", |r| r.revise),
    ];
    let phases = if import_only { &phases[..1] } else { &phases[..] };
    for &(name, get) in phases {
        let secs: Vec<Secs> = runs.iter().map(get).collect();
        let wall = median(secs.iter().map(|s| s.wall).collect());
        let cpu = median(secs.iter().map(|s| s.cpu).collect());
        let with_checkpoint = median(secs.iter().map(|s| s.wall + s.checkpoint).collect());
        let all: Vec<String> = secs.iter().map(|s| format!("{:.2}", s.wall)).collect();
        println!(
            "| {backend} | {name} | {n} | {wall:.2} s | {:.0} | {cpu:.2} s | {:.0} | {with_checkpoint:.2} s | {} |",
            n as f64 / wall,
            n as f64 / cpu.max(0.01),
            all.join(", ")
        );
    }
}

fn main() {
    let args = parse_args();
    eprintln!("generating {} events...", args.rows);
    let events = synthetic::events(args.rows, 42);
    let mut revised = events.clone();
    for e in revised.iter_mut().step_by(10) {
        e.fatalities += 1;
    }
    println!(
        "| backend | phase | rows | median wall | rows/s (wall) | median CPU | rows/s (CPU) | median wall + checkpoint | wall of each run (s) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    if args.sqlite {
        let mut runs = Vec::new();
        for i in 0..args.runs {
            let dir = tempfile::tempdir_in(&args.dir).expect("temporary folder");
            let store = SqliteStore::open(dir.path().join("bench.db")).expect("open SQLite");
            runs.push(run_once(&store, &|| store.wait_for_checkpoint(), &events, &revised, args.import_only));
            eprintln!("sqlite run {} done", i + 1);
        }
        report("SQLite", args.rows, &runs, args.import_only);
    }
    if args.postgres {
        let url = std::env::var("VITALCORE_PG_URL")
            .unwrap_or_else(|_| "host=127.0.0.1 user=postgres dbname=test".to_string());
        let mut runs = Vec::new();
        for i in 0..args.runs {
            let schema = format!("vc_bench_{}_{i}", std::process::id());
            let store = PostgresStore::connect_with_schema(&url, &schema).expect("connect to PostgreSQL");
            runs.push(run_once(&store, &|| (), &events, &revised, args.import_only));
            drop(store);
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).expect("drop the bench schema");
            eprintln!("postgres run {} done", i + 1);
        }
        report("PostgreSQL", args.rows, &runs, args.import_only);
    }
}
