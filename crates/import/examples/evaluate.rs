//! Reads the real public files the import bars name and prints, for each,
//! the format detected, rows read, records and rejects (with the first few
//! reasons). Usage, from the repository root:
//!
//!     cargo run -p vitalcore-import --release --example evaluate -- [DATASETS]
//!
//! DATASETS defaults to ../shared/datasets. Files that are absent are skipped.

use std::path::{Path, PathBuf};
use std::time::Instant;
use vitalcore_framework::Framework;
use vitalcore_import::{FormatKind, detect_format, read_boundaries, read_events, read_observations};
use vitalcore_spatial::AreaIndex;

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "../shared/datasets".into()));
    let fw = Framework::built_in();
    let boundaries = root.join("boundaries-caf-adm1/caf_adm1_ocha_cod.geojson");
    let areas = boundaries.exists().then(|| read_boundaries(&boundaries).expect("CAR boundaries"));
    if let Some(a) = &areas {
        println!("{:<70} boundaries-geojson areas={}", boundaries.display(), a.len());
    }
    let index = areas.as_ref().map(|a| AreaIndex::new(a).expect("index"));
    let mut files: Vec<PathBuf> = [
        "ucdp-ged-car-v23_1/GEDEvent_v23_1_CAF.geojson",
        "ucdp-ged-sample-global/ucdpged_sample_1000.csv",
        "acled-all-africa-2016/ACLED-All-Africa-File_20160101-to-20160528_csv.zip",
        "acled-drc-2018-ebola/2018-08-01-2018-11-26-Democratic_Republic_of_Congo.csv",
        "acled-burundi-battles-2007-2020/acled-battles-burundi-2007-2020.csv",
        "acled-drc-2018-ebola/ebola_north_kivu_2018_moh_by_health_zone.csv",
    ]
    .iter()
    .map(|f| root.join(f))
    .collect();
    let hxl = root.join("hxl-libhxl-tests/tests/files");
    files.extend(hxl_files(&hxl));
    for path in files.iter().filter(|p| p.exists()) {
        report(path, &fw, index.as_ref());
    }
}

fn hxl_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in ["mock", "test_converters", "test_io", "test_scripts"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            let mut v: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            v.sort();
            out.extend(v.into_iter().filter(|p| {
                matches!(p.extension().and_then(|e| e.to_str()), Some("csv" | "tsv" | "ssv" | "hxl" | "zip"))
            }));
        }
    }
    out
}

fn report(path: &Path, fw: &Framework, index: Option<&AreaIndex>) {
    let shown = path.display().to_string();
    let start = Instant::now();
    let format = match detect_format(path) {
        Ok(f) => f,
        Err(e) => return println!("{shown:<70} NOT IMPORTED: {e}"),
    };
    let (records, rejects, rows, placed, first) = match format.kind() {
        FormatKind::Events => match read_events(path, fw, index, &|_| {}) {
            Ok(p) => {
                let placed = p.events.iter().filter(|e| e.place.admin1_pcode.is_some()).count();
                (p.events.len(), p.rejects.len(), p.rows_read, placed, p.rejects.first().map(|r| r.to_string()))
            }
            Err(e) => return println!("{shown:<70} {format} ERROR: {e}"),
        },
        FormatKind::Observations => match read_observations(path, fw, index, &|_| {}) {
            Ok(p) => (p.observations.len(), p.rejects.len(), p.rows_read, 0, p.rejects.first().map(|r| r.to_string())),
            Err(e) => return println!("{shown:<70} {format} ERROR: {e}"),
        },
        FormatKind::Boundaries => match read_boundaries(path) {
            Ok(a) => (a.len(), 0, a.len() as u64, 0, None),
            Err(e) => return println!("{shown:<70} {format} ERROR: {e}"),
        },
    };
    println!(
        "{shown:<70} {format} rows={rows} records={records} rejects={rejects} placed_admin1={placed} ({:.0} ms)",
        start.elapsed().as_secs_f64() * 1000.0
    );
    if let Some(r) = first {
        println!("    first reject: {r}");
    }
}
