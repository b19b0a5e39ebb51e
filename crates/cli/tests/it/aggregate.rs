//! `vitalcore generate acled` and `vitalcore aggregate`, driven as a user
//! would, checked against an independent count done here with the `csv`
//! crate (every record read, columns found by name).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// (country, admin1, `YYYY-MM`) to (events, fatalities).
type Table = BTreeMap<(String, String, String), (u64, u64)>;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vitalcore"))
        .args(args)
        .env_remove("VITALCORE_DATABASE_URL")
        .output()
        .expect("the binary runs")
}

fn ok(out: Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "failed: {stderr}\n{stdout}");
    (stdout, stderr)
}

fn generate(dir: &Path, name: &str, rows: u64, seed: u64, date_format: &str) -> PathBuf {
    let path = dir.join(name);
    let (rows, seed) = (rows.to_string(), seed.to_string());
    ok(run(&[
        "generate",
        "acled",
        "--rows",
        &rows,
        "--seed",
        &seed,
        "--date-format",
        date_format,
        "--out",
        path.to_str().unwrap(),
    ]));
    path
}

/// The count done without vitalcore: ISO dates only (`YYYY-MM-DD`, the month
/// is the first seven characters), fatalities as plain integers.
fn independent_count(path: &Path) -> Table {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name} column"));
    let (country, admin1, date, fatalities) = (col("country"), col("admin1"), col("event_date"), col("fatalities"));
    let mut table = Table::new();
    for record in reader.records() {
        let record = record.unwrap();
        let d = &record[date];
        assert!(d.len() == 10 && &d[4..5] == "-" && &d[7..8] == "-", "not an ISO date: {d}");
        let key = (record[country].to_string(), record[admin1].to_string(), d[..7].to_string());
        let entry = table.entry(key).or_default();
        entry.0 += 1;
        entry.1 += record[fatalities].parse::<u64>().unwrap();
    }
    table
}

/// Reads `vitalcore aggregate` CSV output (default keys).
fn read_rollup(text: &str) -> Table {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.headers().unwrap(), vec!["country", "admin1", "month", "events", "fatalities"]);
    let mut table = Table::new();
    let mut keys = Vec::new();
    for record in reader.records() {
        let r = record.unwrap();
        let key = (r[0].to_string(), r[1].to_string(), r[2].to_string());
        keys.push(key.clone());
        let previous = table.insert(key, (r[3].parse().unwrap(), r[4].parse().unwrap()));
        assert!(previous.is_none(), "a group is printed twice");
    }
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "rows are sorted by country, admin1 and month");
    table
}

#[test]
fn generate_is_deterministic_per_seed_and_has_the_acled_shape() {
    let dir = tempfile::tempdir().unwrap();
    let a = std::fs::read(generate(dir.path(), "a.csv", 300, 7, "iso")).unwrap();
    let b = std::fs::read(generate(dir.path(), "b.csv", 300, 7, "iso")).unwrap();
    let c = std::fs::read(generate(dir.path(), "c.csv", 300, 8, "iso")).unwrap();
    assert_eq!(a, b, "same seed, same bytes");
    assert_ne!(a, c, "another seed, another file");
    let mut reader = csv::Reader::from_reader(a.as_slice());
    let header = reader.headers().unwrap().clone();
    assert_eq!(header.len(), 31);
    for name in ["event_id_cnty", "event_date", "country", "admin1", "notes", "fatalities", "disorder_type"] {
        assert!(header.iter().any(|h| h == name), "header lacks {name}");
    }
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 300);
    assert!(records.iter().all(|r| r.len() == 31));
    // The notes are the hard part of real exports: commas, quotes, line breaks.
    let notes = header.iter().position(|h| h == "notes").unwrap();
    assert!(records.iter().any(|r| r[notes].contains(',')));
    assert!(records.iter().any(|r| r[notes].contains('"')));
    assert!(records.iter().any(|r| r[notes].contains('\n')));
}

#[test]
fn aggregate_matches_an_independent_count_with_one_or_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "events.csv", 3000, 11, "iso");
    let expected = independent_count(&file);
    assert!(expected.len() > 50, "the sample should spread over many groups");
    for threads in ["1", "2"] {
        let (stdout, stderr) = ok(run(&["aggregate", file.to_str().unwrap(), "--threads", threads]));
        assert_eq!(read_rollup(&stdout), expected, "threads {threads}");
        assert!(stderr.contains("3000 rows") && stderr.contains("0 rejected"), "{stderr}");
    }
    // --out writes the same table to a file; --quiet keeps standard error empty.
    let out = dir.path().join("rollup.csv");
    let (stdout, stderr) = ok(run(&["aggregate", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]));
    assert!(stdout.is_empty() && stderr.is_empty(), "{stdout}{stderr}");
    assert_eq!(read_rollup(&std::fs::read_to_string(&out).unwrap()), expected);
}

#[test]
fn every_date_format_gives_the_same_rollup() {
    let dir = tempfile::tempdir().unwrap();
    let iso = generate(dir.path(), "iso.csv", 800, 5, "iso");
    let expected = independent_count(&iso);
    for format in ["dmy", "dmy-short", "long"] {
        let file = generate(dir.path(), &format!("{format}.csv"), 800, 5, format);
        let (stdout, _) = ok(run(&["aggregate", file.to_str().unwrap(), "--quiet"]));
        assert_eq!(read_rollup(&stdout), expected, "{format}");
    }
}

#[test]
fn regrouping_by_country_sums_the_full_table() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "events.csv", 1500, 3, "iso");
    let mut expected: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for ((country, _, _), (events, fatalities)) in independent_count(&file) {
        let e = expected.entry(country).or_default();
        e.0 += events;
        e.1 += fatalities;
    }
    let (stdout, _) = ok(run(&["aggregate", file.to_str().unwrap(), "--by", "country", "--format", "json", "--quiet"]));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let got: BTreeMap<String, (u64, u64)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["country"].as_str().unwrap().to_string(),
                (o["events"].as_u64().unwrap(), o["fatalities"].as_u64().unwrap()),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn rejected_rows_are_reported_with_line_column_and_value_and_good_rows_still_count() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mixed.csv");
    // Line 3 has a multi-line quoted note, so the bad date is on line 5 and
    // the bad fatalities on line 6 (editor lines, every line break counted).
    let text = "event_date,country,admin1,notes,fatalities\n\
                2020-01-05,Valdoria,North,plain,2\n\
                2020-01-20,Valdoria,North,\"two\nlines, \"\"quoted\"\"\",3\n\
                2020-13-01,Valdoria,North,bad month,1\n\
                2020-02-01,Valdoria,North,bad number,many\n\
                2020-02-02,Nosvera,\"Hill, East\",ok,0\n";
    std::fs::write(&file, text).unwrap();
    let rejects = dir.path().join("rejects.csv");
    let (stdout, stderr) = ok(run(&["aggregate", file.to_str().unwrap(), "--rejects", rejects.to_str().unwrap()]));
    let expected: Table = [
        (("Nosvera".to_string(), "Hill, East".to_string(), "2020-02".to_string()), (1, 0)),
        (("Valdoria".to_string(), "North".to_string(), "2020-01".to_string()), (2, 5)),
    ]
    .into_iter()
    .collect();
    assert_eq!(read_rollup(&stdout), expected);
    assert!(stderr.contains("mixed.csv:5") && stderr.contains("2020-13-01"), "{stderr}");
    assert!(stderr.contains("mixed.csv:6") && stderr.contains("many"), "{stderr}");
    assert!(stderr.contains("2 rejected"), "{stderr}");
    let mut reader = csv::Reader::from_path(&rejects).unwrap();
    let rows: Vec<(String, String, String)> =
        reader.records().map(|r| r.unwrap()).map(|r| (r[1].to_string(), r[2].to_string(), r[3].to_string())).collect();
    assert_eq!(
        rows,
        [
            ("5".to_string(), "event_date".to_string(), "2020-13-01".to_string()),
            ("6".to_string(), "fatalities".to_string(), "many".to_string())
        ]
    );
}

#[test]
fn a_file_without_the_needed_columns_is_refused_with_their_names() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrong.csv");
    std::fs::write(&file, "date,place,deaths\n2020-01-01,X,1\n").unwrap();
    let out = run(&["aggregate", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wrong.csv") && stderr.contains("country") && stderr.contains("admin1"), "{stderr}");
}
