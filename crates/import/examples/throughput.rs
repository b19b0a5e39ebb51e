//! Parse throughput of the ACLED reader on a synthetic ACLED-shaped file
//! (current schema; notes with commas, quotes and newlines), written to a
//! temporary folder by a deterministic generator. Prints the median of
//! several runs, without and with point-in-polygon placement, in wall time
//! and in CPU time of the (single) reading thread (Linux
//! `/proc/thread-self/schedstat`; less sensitive to a busy machine).
//! BOUNDARIES defaults to the committed simplified CAR admin-1 boundaries;
//! pass e.g. `../shared/datasets/boundaries-caf-adm1/caf_adm1_ocha_cod.geojson`
//! for the full-resolution OCHA ones. Usage:
//!
//!     cargo run -p vitalcore-import --release --example throughput -- [ROWS] [RUNS] [BOUNDARIES]

use std::io::Write;
use std::path::Path;
use std::time::Instant;
use vitalcore_framework::Framework;
use vitalcore_import::{read_boundaries, read_events};
use vitalcore_spatial::AreaIndex;

const HEADER: &str = "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,tags,timestamp";

const TYPES: [(&str, &str, &str); 4] = [
    ("Political violence", "Battles", "Armed clash"),
    ("Political violence", "Violence against civilians", "Attack"),
    ("Demonstrations", "Protests", "Peaceful protest"),
    ("Political violence", "Explosions/Remote violence", "Remote explosive/landmine/IED"),
];
const PREFECTURES: [&str; 6] = ["Ouaka", "Haute-Kotto", "Ouham", "Nana-Gribizi", "Vakaga", "Bangui"];

/// A small deterministic generator (64-bit LCG, Knuth's MMIX constants).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn generate(path: &Path, rows: u64) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "{HEADER}").unwrap();
    let mut r = Lcg(42);
    for i in 0..rows {
        let (disorder, event, sub) = TYPES[r.below(4) as usize];
        let adm1 = PREFECTURES[r.below(6) as usize];
        let (day, month, year) = (1 + r.below(28), 1 + r.below(12), 2015 + r.below(8));
        let lat = 2.5 + r.below(8000) as f64 / 1000.0;
        let lon = 15.0 + r.below(12000) as f64 / 1000.0;
        let deaths = r.below(5);
        let targeting = if event == "Violence against civilians" { "Civilian targeting" } else { "" };
        let notes = match r.below(3) {
            0 => format!(
                "\"On {day} {month} {year}, armed men attacked a village near {adm1}, looting shops and houses; {deaths} people were killed, others fled.\""
            ),
            1 => format!(
                "\"Militia members, \"\"reportedly\"\" from the north, clashed with the army.\nCasualties: {deaths}.\nSource notes continue on a third line.\""
            ),
            _ => format!("Protesters gathered in {adm1} over market fees and insecurity on the roads to the mines"),
        };
        writeln!(
            w,
            "SYN{i},{day:02}/{month:02}/{yy:02},{year},1,{disorder},{event},{sub},Militia (Synthetic),,3,Civilians (Central African Republic),,7,37,{targeting},140,Middle Africa,Central African Republic,{adm1},Town {t},,Village {v},{lat:.4},{lon:.4},1,Synthetic Radio,National,{notes},{deaths},,1644886950",
            yy = year % 100,
            t = r.below(50),
            v = r.below(500),
        )
        .unwrap();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// CPU time of this thread in seconds, where the kernel tells it.
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e9)
}

fn main() {
    let rows: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(500_000);
    let runs: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acled_synthetic.csv");
    generate(&path, rows);
    let size = std::fs::metadata(&path).unwrap().len() as f64;
    let fw = Framework::built_in();
    let boundaries = std::env::args().nth(3).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/caf_adm1_simplified.geojson"),
        Into::into,
    );
    let areas = read_boundaries(&boundaries).unwrap();
    let t = Instant::now();
    let index = AreaIndex::new(&areas).unwrap();
    println!(
        "boundaries {}: {} areas, index built in {:.3} s",
        boundaries.display(),
        areas.len(),
        t.elapsed().as_secs_f64()
    );
    for (label, idx) in [("no placement", None), ("with CAR admin-1 point-in-polygon", Some(&index))] {
        let mut secs = Vec::new();
        let mut cpu = Vec::new();
        let mut placed = 0;
        for _ in 0..runs {
            let (t, c) = (Instant::now(), thread_cpu_seconds());
            let p = read_events(&path, &fw, idx, &|_| {}).unwrap();
            secs.push(t.elapsed().as_secs_f64());
            if let (Some(c0), Some(c1)) = (c, thread_cpu_seconds()) {
                cpu.push(c1 - c0);
            }
            assert_eq!((p.events.len() as u64, p.rejects.len()), (rows, 0));
            placed = p.events.iter().filter(|e| e.place.admin1_pcode.is_some()).count();
        }
        let m = median(secs.clone());
        let cpu_rate = if cpu.is_empty() {
            "CPU time unavailable".to_string()
        } else {
            let c = median(cpu);
            format!("CPU {c:.3} s = {:.0} rows/s", rows as f64 / c)
        };
        println!(
            "{label}: {rows} rows, {:.1} MB, median of {runs}: wall {:.3} s = {:.0} rows/s, {:.0} MB/s; {cpu_rate} (wall runs: {:?}); placed {placed}",
            size / 1e6,
            m,
            rows as f64 / m,
            size / 1e6 / m,
            secs.iter().map(|s| (s * 1000.0).round() / 1000.0).collect::<Vec<_>>()
        );
    }
}
