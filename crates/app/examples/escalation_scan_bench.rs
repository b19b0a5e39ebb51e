//! What the notification worker's escalation scan costs with many alerts
//! stored: the minute-by-minute scan reading every alert of the last 7 days
//! (what each scan did before, and the first scan of a process still does)
//! against the incremental scan that reads only the alerts whose escalation
//! level can have risen since the previous one.
//!
//! ```sh
//! cargo run --release -p vitalcore-app --example escalation_scan_bench -- [ALERTS] [RUNS]
//! ```
//! ALERTS stored (default 100000), received evenly over the 7 days before
//! the scans, a quarter of each urgency, every tenth acknowledged; RUNS of
//! each scan (default 3; the median is printed). SQLite in a temporary
//! folder (set TMPDIR to measure another disk); with VITALCORE_PG_URL set,
//! the same on a PostgreSQL schema of its own too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use vitalcore_app::notify::{Channels, Notifier, NotifyConfig};
use vitalcore_intake::report::Reference;
use vitalcore_intake::workflow::{Step, StepChannel, StepRecord};
use vitalcore_intake::{CategoryMap, Channel, ContactKey, Intake, Report, ReportDraft};
use vitalcore_store::reports::ReportStore;

fn arg(i: usize, default: usize) -> usize {
    match std::env::args().nth(i) {
        None => default,
        Some(a) => a.parse().unwrap_or_else(|_| panic!("argument {i} `{a}` is not a whole number")),
    }
}

fn alerts(count: usize, now: Timestamp) -> Vec<Report> {
    let intake = Intake::new(ContactKey::from_bytes([3; 32]), CategoryMap::built_in());
    let span = SignedDuration::from_hours(7 * 24).as_millis() as i64;
    (0..count as u32)
        .map(|n| {
            let draft = ReportDraft {
                text: format!("Report {n}: armed men came to the village at night"),
                category: Some("attack".into()),
                urgency: Some(["low", "medium", "high", "critical"][n as usize % 4].into()),
                area_pcode: Some(format!("CF{:02}", n % 100)),
                ..ReportDraft::default()
            };
            let back = span - (i64::from(n) * span / count as i64);
            let received = now - SignedDuration::from_millis(back);
            intake.accept_as(&draft, Channel::WebForm, received, Reference::from_number(n)).expect("valid draft")
        })
        .collect()
}

fn store_alerts(store: &dyn ReportStore, reports: &[Report]) {
    for chunk in reports.chunks(5_000) {
        store.insert_reports(chunk).unwrap();
    }
    for r in reports.iter().step_by(10) {
        let ack = StepRecord {
            alert: r.reference.clone(),
            seq: 0,
            step: Step::Acknowledge,
            user_id: "u-bench".into(),
            at: r.received_at + SignedDuration::from_mins(5),
            channel: StepChannel::Web,
        };
        store.append_step(&ack).unwrap();
    }
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort_unstable();
    runs[runs.len() / 2]
}

fn notifier(store: Arc<dyn ReportStore>) -> Notifier {
    let text = "[notify]\nescalations = true\nwarnings = false\n\
        [[notify.webhook]]\nname = \"ops\"\nurl = \"http://127.0.0.1:9/hook\"\nsecret = \"0123456789abcdef0123\"\n";
    let cfg = Arc::new(NotifyConfig::from_toml(text, &|_| None, None).unwrap().unwrap());
    Notifier::new(store, cfg.clone(), Channels::new(cfg).unwrap())
}

fn measure(name: &str, store: Arc<dyn ReportStore>, count: usize, runs: usize) {
    let now: Timestamp = "2026-12-08T12:00:00Z".parse().unwrap();
    let reports = alerts(count, now);
    let t = Instant::now();
    store_alerts(&*store, &reports);
    eprintln!("{name}: {count} alerts stored in {:.1} s", t.elapsed().as_secs_f64());

    let worker = notifier(store.clone());
    let t = Instant::now();
    let queued = worker.scan(now).unwrap();
    println!(
        "{name}: first scan (every alert of 7 days, escalations queued): {:.3} s, {queued} queued",
        t.elapsed().as_secs_f64()
    );

    // Before: each minute's scan read every alert of the last 7 days (a
    // worker with no previous scan still does, so a fresh one measures it).
    let mut full = Vec::new();
    for i in 1..=runs {
        let at = now + SignedDuration::from_mins(i as i64);
        let fresh = notifier(store.clone());
        let t = Instant::now();
        fresh.scan(at).unwrap();
        full.push(t.elapsed());
    }
    // After: the next minute's scan reads the alerts whose level can have risen since.
    let mut incremental = Vec::new();
    let mut read = Vec::new();
    let mut last = now;
    for i in 1..=runs {
        let at = now + SignedDuration::from_mins(i as i64);
        read.push(worker.escalation_candidates(Some(last), at).unwrap().len());
        let t = Instant::now();
        worker.scan(at).unwrap();
        incremental.push(t.elapsed());
        last = at;
    }
    println!(
        "{name}: minute scan reading 7 days (before): median {:.3} s of {runs} ({:?})",
        median(full.clone()).as_secs_f64(),
        full.iter().map(|d| format!("{:.3}", d.as_secs_f64())).collect::<Vec<_>>()
    );
    println!(
        "{name}: minute scan reading what can have escalated (after): median {:.4} s of {runs} ({:?}), alerts read {:?}",
        median(incremental.clone()).as_secs_f64(),
        incremental.iter().map(|d| format!("{:.4}", d.as_secs_f64())).collect::<Vec<_>>(),
        read
    );
}

fn main() {
    let count = arg(1, 100_000);
    let runs = arg(2, 3).max(1);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(vitalcore_store_sqlite::SqliteStore::open(dir.path().join("bench.db")).unwrap());
    measure("sqlite", sqlite, count, runs);
    if std::env::var("VITALCORE_PG_URL").is_ok() {
        let url = vitalcore_test_postgres::database_url_or_skip().unwrap();
        let schema = format!("vc_scan_bench_{}", std::process::id());
        let pg = Arc::new(vitalcore_store_postgres::PostgresStore::connect_with_schema(&url, &schema).unwrap());
        measure("postgres", pg, count, runs);
        vitalcore_test_postgres::drop_schema(&schema);
    }
}
