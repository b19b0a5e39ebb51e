//! Development driver without the full CLI (which builds every crate):
//! `scan generate ROWS SEED OUT` and `scan aggregate FILE [THREADS [OUT.csv]]`
//! (read block size from `SCAN_BLOCK`, in bytes, for experiments).

use std::path::PathBuf;
use std::time::Instant;

use vitalcore_scan::generate::{AcledConfig, DateFormat, Shape, write_acled};
use vitalcore_scan::{ScanOptions, scan_files};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("generate") => {
            let config = AcledConfig {
                rows: args[1].parse().unwrap(),
                seed: args[2].parse().unwrap(),
                date_format: DateFormat::Iso,
                shape: Shape::Standard,
            };
            write_acled(&config, std::fs::File::create(&args[3]).unwrap()).unwrap();
        }
        Some("aggregate") => {
            let mut opts = ScanOptions::default();
            if let Some(t) = args.get(2) {
                opts.threads = t.parse().unwrap();
            }
            if let Ok(block) = std::env::var("SCAN_BLOCK") {
                opts.block_size = block.parse().unwrap();
            }
            let t = Instant::now();
            let report = scan_files(&[PathBuf::from(&args[1])], &opts).unwrap();
            let events = report.rollup.events();
            if let Some(out) = args.get(3) {
                let mut s = String::from("country,admin1,month,events,fatalities\n");
                for r in &report.rows() {
                    s.push_str(&format!(
                        "{},{},{},{},{}\n",
                        r.country, r.admin1, r.month, r.totals.events, r.totals.fatalities
                    ));
                }
                std::fs::write(out, s).unwrap();
            }
            eprintln!(
                "{} groups, {} events, {} rejected, {:.3} s",
                report.rollup.len(),
                events,
                report.rejected,
                t.elapsed().as_secs_f64()
            );
        }
        _ => eprintln!("usage: scan generate ROWS SEED OUT | scan aggregate FILE [THREADS]"),
    }
}
