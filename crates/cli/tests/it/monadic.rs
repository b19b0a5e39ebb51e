//! ACLED exports with one row per actor ("monadic"): `import`, `aggregate`
//! and `forecast --events` fold each event's rows into one event, count its
//! fatalities once, say how many rows were merged, and still refuse two
//! rows of one id that differ in more than their actors. Synthetic fixtures
//! only (`acled_monadic_synthetic.csv`: 5 events on 10 rows, 14 deaths;
//! `acled_dyadic_synthetic.csv`: the same events, one row each).

use super::{fixture, ok, summary_line, vitalcore};
use std::path::{Path, PathBuf};
use std::process::Command;

const MONADIC: &str = "acled_monadic_synthetic.csv";
const DYADIC: &str = "acled_dyadic_synthetic.csv";

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vitalcore"))
        .args(args)
        .env_remove("VITALCORE_DATABASE_URL")
        .output()
        .expect("the binary runs")
}

/// The monadic fixture with the second row of SYNM-1 given other fatalities: a true conflict.
fn conflicting(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(fixture(MONADIC)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(lines[2].starts_with("SYNM-1,") && lines[2].contains(",4,,1644886950"));
    lines[2] = lines[2].replace(",4,,1644886950", ",5,,1644886950");
    let path = dir.join("acled_conflict.csv");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn numbers(line: &str) -> Vec<u64> {
    line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect()
}

#[test]
fn import_merges_the_rows_of_each_event_and_matches_the_dyadic_export() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let monadic = fixture(MONADIC);
    let (stdout, _) = ok(vitalcore(&db, &["import", monadic.to_str().unwrap()]));
    let line = summary_line(&stdout, MONADIC);
    assert!(line.contains("10 rows read = 5 imported + 0 updated + 0 unchanged + 0 rejected + 5 merged"), "{line}");
    // The same events written one row each: four are the very same events
    // (actors included); SYNM-2 has three actors, of which the dyadic row
    // names two, so it is a revision.
    let (stdout, _) = ok(vitalcore(&db, &["import", fixture(DYADIC).to_str().unwrap()]));
    let line = summary_line(&stdout, DYADIC);
    assert!(line.contains("5 rows read = 0 imported + 1 updated + 4 unchanged + 0 rejected"), "{line}");
}

#[test]
fn import_still_refuses_two_rows_of_one_event_with_different_fatalities() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let bad = conflicting(dir.path());
    let out = vitalcore(&db, &["import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SYNM-1") && stderr.contains("appears twice with different content"), "{stderr}");
    assert!(stderr.contains("nothing from this file was stored"), "{stderr}");
    // Nothing landed: the good file then imports all five events as new.
    let (stdout, _) = ok(vitalcore(&db, &["import", fixture(MONADIC).to_str().unwrap()]));
    assert!(summary_line(&stdout, MONADIC).contains("= 5 imported + 0 updated"), "{stdout}");
}

#[test]
fn aggregate_counts_each_event_and_its_deaths_once() {
    let by = ["country,admin1,month", "country", "admin2,location"];
    for keys in by {
        let m = ok(run(&["aggregate", fixture(MONADIC).to_str().unwrap(), "--by", keys]));
        let d = ok(run(&["aggregate", fixture(DYADIC).to_str().unwrap(), "--by", keys]));
        assert_eq!(m.0, d.0, "--by {keys}: the monadic and dyadic exports give the same table");
        assert!(m.1.contains("10 rows (ACLED), 0 rejected, 5 merged"), "{}", m.1);
    }
    let (country, _) = ok(run(&["aggregate", fixture(MONADIC).to_str().unwrap(), "--by", "country"]));
    assert_eq!(country, "country,events,fatalities\nCentral African Republic,5,14\n");

    let dir = tempfile::tempdir().unwrap();
    let bad = conflicting(dir.path());
    let out = run(&["aggregate", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3") && stderr.contains("SYNM-1"), "{stderr}");
}

#[test]
fn forecast_reads_one_event_per_id() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.json");
    let args = |file: &Path| {
        let mut a: Vec<String> =
            ["forecast", "run", "--unit", "country", "--target", "events", "--out"].map(String::from).to_vec();
        a.push(out.to_str().unwrap().into());
        a.extend(["--events".into(), file.to_str().unwrap().into()]);
        a
    };
    let monadic = args(&fixture(MONADIC));
    let (_, stderr) = ok(run(&monadic.iter().map(String::as_str).collect::<Vec<_>>()));
    let line = stderr.lines().find(|l| l.contains(MONADIC)).unwrap();
    assert_eq!(numbers(line.rsplit('/').next().unwrap()), [5, 0, 5], "5 events, 0 rejected, 5 merged: {line}");

    let bad = args(&conflicting(dir.path()));
    let res = run(&bad.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!res.status.success());
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(stderr.contains("SYNM-1") && stderr.contains("appears twice"), "{stderr}");
}
