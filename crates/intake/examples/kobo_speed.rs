//! Speed bar: 100,000 KoBo rows imported (parsed, validated, mapped, contacts
//! sealed) in under 5 seconds. Synthesises a KoBo-shaped CSV export in
//! memory (group paths, GPS columns, `_uuid`, `_submission_time`, a contact
//! on every row, 1 row in 50 bad) and times `import_csv` over it.
//!
//! cargo run --release -p vitalcore-intake --example kobo_speed -- [ROWS] [RUNS]

use std::collections::HashSet;
use std::fmt::Write;
use vitalcore_intake::kobo::{KoboMapping, import_csv};
use vitalcore_intake::{CategoryMap, ContactKey, Intake};

const MAPPING: &str = r#"
form = "speed"
[questions]
text = "incident/description"
category = "incident/category"
urgency = "incident/urgency"
place = "where/village"
area = "where/pcode"
date = "incident/date"
gps = "where/gps"
contact = "reporter/phone"
"#;

fn synthesise(rows: usize) -> Vec<u8> {
    let categories =
        ["attack", "killing", "looting_extortion", "displacement", "epidemic", "cattle_crop_theft", "water"];
    let urgencies = ["low", "medium", "high", "critical"];
    let mut out = String::with_capacity(rows * 400);
    out.push_str("start,end,incident/description,incident/category,incident/urgency,incident/date,where/village,where/pcode,where/gps,_gps_latitude,_gps_longitude,_gps_altitude,_gps_precision,reporter/phone,consent,household/size,household/head_sex,_id,_uuid,_submission_time,_index\n");
    for i in 0..rows {
        let lat = 4.0 + (i % 900) as f64 * 0.005;
        let lon = 16.0 + (i % 700) as f64 * 0.007;
        let lat_text = if i % 50 == 7 { "95.0".to_string() } else { format!("{lat:.5}") };
        let text = if i % 50 == 13 {
            String::new()
        } else {
            format!("Rapport {i}: des hommes armés ont été vus près du village {}, les habitants ont peur", i % 997)
        };
        let _ = writeln!(
            out,
            "2024-05-01T08:00:00.000+01:00,2024-05-01T08:05:00.000+01:00,\"{text}\",{},{},2024-04-{:02},Village {},CF{},{lat_text} {lon:.5} 420 5,{lat_text},{lon:.5},420,5,+2367{:07},yes,{},female,{},{:08x}-1111-4c1a-9a11-{:012x},2024-05-01T{:02}:{:02}:00,{}",
            categories[i % categories.len()],
            urgencies[i % urgencies.len()],
            1 + i % 28,
            i % 997,
            11 + i % 60,
            i % 10_000_000,
            1 + i % 12,
            100_000 + i,
            i,
            i,
            i % 24,
            i % 60,
            i + 1,
        );
    }
    out.into_bytes()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let data = synthesise(rows);
    let categories = CategoryMap::built_in();
    let mapping = KoboMapping::from_toml(MAPPING, &categories).expect("mapping");
    let intake = Intake::new(ContactKey::from_bytes([7; 32]), categories);
    let now = jiff::Timestamp::now();
    eprintln!("{rows} rows, {:.1} MB of CSV", data.len() as f64 / 1e6);
    let mut times = Vec::new();
    for run in 0..runs {
        let started = std::time::Instant::now();
        let out = import_csv(&data, "synthetic.csv", &mapping, &intake, &HashSet::new(), now).expect("import");
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(out.rows, rows);
        assert_eq!(out.reports.len() + out.rejected.len(), rows, "every row is a report or a rejection");
        println!(
            "run {}: {:.3} s ({} reports, {} rejected, {:.0} rows/s)",
            run + 1,
            secs,
            out.reports.len(),
            out.rejected.len(),
            rows as f64 / secs
        );
        times.push(secs);
    }
    times.sort_by(f64::total_cmp);
    println!("median of {runs}: {:.3} s for {rows} rows", times[times.len() / 2]);
}
