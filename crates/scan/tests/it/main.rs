//! Scanner correctness against a straightforward reference built on the
//! `csv` crate, on tricky hand-written files, generated ACLED-shaped files
//! and random files (proptest), with chunks forced down to a few bytes so
//! that chunk edges fall inside quoted fields, escapes and line breaks.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use vitalcore_scan::generate::{AcledConfig, DateFormat, Shape, write_acled};
use vitalcore_scan::{BadReason, ScanOptions, ScanReport, parse_month, scan_files};

type Table = BTreeMap<(Vec<u8>, Vec<u8>, String), (u64, u64)>;

/// The rollup and the rejected rows' lines, computed the plain way: the
/// `csv` crate reads every record, columns are found by name.
fn reference(path: &Path) -> (Table, Vec<u64>) {
    let bytes = std::fs::read(path).unwrap();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes.as_slice());
    let mut records = reader.byte_records();
    let mut header = records.next().unwrap().unwrap();
    if header[0].starts_with(b"\xEF\xBB\xBF") {
        let mut fields: Vec<Vec<u8>> = header.iter().map(<[u8]>::to_vec).collect();
        fields[0].drain(..3);
        header = csv::ByteRecord::from(fields);
    }
    let find = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.contains(&String::from_utf8_lossy(h).trim().to_ascii_lowercase().as_str()))
            .unwrap()
    };
    let (c, a, d, f) = (
        find(&["country"]),
        find(&["admin1", "adm_1"]),
        find(&["event_date", "date_start"]),
        find(&["fatalities", "best"]),
    );
    let needed = c.max(a).max(d).max(f) + 1;
    let mut table = Table::new();
    let mut bad = Vec::new();
    for record in records {
        let record = record.unwrap();
        // csv reports the position before the `\n` of a `\r\n`; the row starts after it.
        let mut start = record.position().unwrap().byte() as usize;
        while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let line = 1 + bytes[..start].iter().filter(|&&b| b == b'\n').count() as u64;
        if record.len() < needed {
            bad.push(line);
            continue;
        }
        let Some(month) = parse_month(&record[d]) else {
            bad.push(line);
            continue;
        };
        let text = String::from_utf8_lossy(&record[f]).trim().to_string();
        let fatalities = match text.split_once('.') {
            Some((whole, frac)) if frac.bytes().all(|b| b == b'0') => whole.parse::<u64>().ok(),
            Some(_) => None,
            None => text.parse::<u64>().ok(),
        };
        let Some(fatalities) = fatalities.filter(|_| !text.starts_with('+')) else {
            bad.push(line);
            continue;
        };
        let e = table.entry((record[c].to_vec(), record[a].to_vec(), month.to_string())).or_default();
        e.0 += 1;
        e.1 += fatalities;
    }
    (table, bad)
}

fn as_table(report: &ScanReport) -> Table {
    report
        .rows()
        .iter()
        .map(|r| {
            (
                (r.country.as_bytes().to_vec(), r.admin1.as_bytes().to_vec(), r.month.to_string()),
                (r.totals.events, r.totals.fatalities),
            )
        })
        .collect()
}

fn scan(path: &Path, threads: usize, chunk: Option<u64>, block: usize) -> ScanReport {
    let opts = ScanOptions {
        threads,
        block_size: block,
        chunk_size: chunk,
        max_bad_rows_kept: usize::MAX,
        ..ScanOptions::default()
    };
    scan_files(&[path.to_path_buf()], &opts).unwrap()
}

/// Scans with many chunkings and checks each against the reference.
fn assert_matches_reference(path: &Path) {
    let (table, bad) = reference(path);
    let len = std::fs::metadata(path).unwrap().len();
    let mut settings =
        vec![(1, None, 1 << 16), (2, None, 1 << 16), (2, Some(len / 13 + 1), 64), (3, Some(len / 101 + 1), 200)];
    if len < 5000 {
        settings.extend([(2, Some(1), 3), (3, Some(7), 16), (2, Some(64), 5)]);
    }
    for (threads, chunk, block) in settings {
        let report = scan(path, threads, chunk, block);
        assert_eq!(as_table(&report), table, "rollup, threads {threads}, chunk {chunk:?}, block {block}");
        let lines: Vec<u64> = report.bad_rows.iter().map(|b| b.line).collect();
        assert_eq!(lines, bad, "rejected lines, threads {threads}, chunk {chunk:?}, block {block}");
        assert_eq!(report.rejected, bad.len() as u64);
    }
}

fn write_file(dir: &tempfile::TempDir, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::File::create(&path).unwrap().write_all(content).unwrap();
    path
}

#[test]
fn tricky_quoting_line_breaks_crlf_and_bom() {
    let dir = tempfile::tempdir().unwrap();
    let content = "\u{feff}event_id_cnty,event_date,country,admin1,notes,fatalities\r\n\
        A1,2020-12-09,Valdoria,\"North, East\",\"He said \"\"go\"\",\r\nthen left\",3\r\n\
        A2,09/12/2020,Valdoria,\"North, East\",\"\"\"\",1\r\n\
        \r\n\
        A3,09 December 2020,Valdoria,Sud,plain,0\n\
        A4,30/11/20,\"Val\"\"doria\",Sud,\"a\nb\nc\",\"2\"\n\
        A5,2020-11-01,Valdoria,Sud\"x,note\"\"quoted\"\"late,5";
    let path = write_file(&dir, "tricky.csv", content.as_bytes());
    assert_matches_reference(&path);
    let report = scan(&path, 2, Some(3), 4);
    let owned = report.rows();
    let rows: Vec<_> = owned
        .iter()
        .map(|r| (&*r.country, &*r.admin1, r.month.to_string(), r.totals.events, r.totals.fatalities))
        .collect();
    // By hand: A1 + A2 share a key (3 + 1 fatalities); `Val"doria` sorts
    // before `Valdoria` (0x22 < 'd'); A5's quote after `Sud` is literal.
    let expect = [
        ("Val\"doria", "Sud", "2020-11", 1, 2),
        ("Valdoria", "North, East", "2020-12", 2, 4),
        ("Valdoria", "Sud", "2020-12", 1, 0),
        ("Valdoria", "Sud\"x", "2020-11", 1, 5),
    ];
    assert_eq!(rows, expect.map(|(c, a, m, e, f)| (c, a, m.to_string(), e, f)));
    assert_eq!(report.rejected, 0);
}

#[test]
fn rejected_rows_carry_file_line_column_and_value() {
    let dir = tempfile::tempdir().unwrap();
    // Line 1 header; line 2 good; lines 3-4 one row with a quoted line break
    // and a bad date; line 5 bad fatalities; line 6 too short; line 7 good.
    let content = "event_date,country,admin1,notes,fatalities\n\
        2020-01-05,A,x,ok,1\n\
        2020-02-30,A,x,\"two\nlines\",1\n\
        2020-03-01,A,x,ok,many\n\
        2020-03-01,A\n\
        2020-03-02,A,x,ok,2.0\n";
    let path = write_file(&dir, "bad.csv", content.as_bytes());
    assert_matches_reference(&path);
    let report = scan(&path, 2, Some(5), 8);
    let got: Vec<_> = report.bad_rows.iter().map(|b| (b.line, b.column.as_str(), b.value.as_str(), b.reason)).collect();
    assert_eq!(
        got,
        [
            (3, "event_date", "2020-02-30", BadReason::Date),
            (5, "fatalities", "many", BadReason::Fatalities),
            (6, "", "", BadReason::TooFewFields { found: 2, needed: 5 }),
        ]
    );
    assert!(
        report.bad_rows[0]
            .to_string()
            .starts_with(&format!("{}:3: event_date \"2020-02-30\" is not a date", path.display()))
    );
    let total: (u64, u64) =
        report.rows().iter().fold((0, 0), |acc, r| (acc.0 + r.totals.events, acc.1 + r.totals.fatalities));
    assert_eq!(total, (2, 3));
    assert_eq!(report.files[0].rows, 5);
}

#[test]
fn every_header_schema_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let old = write_file(
        &dir,
        "old.csv",
        b"GWNO,EVENT_ID_CNTY,EVENT_DATE,YEAR,COUNTRY,ADMIN1,NOTES,FATALITIES,,,\n\
        1,X1,29/12/2015,2015,Valdoria,Hill,\"a, b\",2,,,\n\
        1,X2,06 July 2015,2015,Valdoria,Hill,c,1,,,\n",
    );
    let ucdp = write_file(
        &dir,
        "ucdp.csv",
        b"id,country,adm_1,date_start,date_end,best\n\
        1.0,Valdoria,Hill province,2015-07-03 00:00:00.000,2015-07-04,3.0\n\
        2.0,Valdoria,Hill province,2015-07-09,2015-07-09,0.0\n",
    );
    let report = scan_files(&[old, ucdp], &ScanOptions::default()).unwrap();
    let schemas: Vec<String> = report.files.iter().map(|f| f.schema.to_string()).collect();
    assert_eq!(schemas, ["ACLED (upper-case headers, 2016 and before)", "UCDP GED"]);
    let owned = report.rows();
    let rows: Vec<_> =
        owned.iter().map(|r| (&*r.admin1, r.month.to_string(), r.totals.events, r.totals.fatalities)).collect();
    assert_eq!(
        rows,
        [("Hill", "2015-07".into(), 1, 1), ("Hill", "2015-12".into(), 1, 2), ("Hill province", "2015-07".into(), 2, 3)]
    );

    let wrong = write_file(&dir, "wrong.csv", b"date,place,deaths\n2020-01-01,x,1\n");
    let err = scan_files(&[wrong], &ScanOptions::default()).unwrap_err().to_string();
    assert!(err.contains("no column for country (country), admin1 (admin1 or adm_1)"), "{err}");
}

fn generated(rows: u64, seed: u64, format: DateFormat) -> Vec<u8> {
    let mut out = Vec::new();
    write_acled(&AcledConfig { rows, seed, date_format: format, shape: Shape::Standard }, &mut out).unwrap();
    out
}

#[test]
fn generator_is_deterministic_and_well_formed() {
    let a = generated(3000, 7, DateFormat::Iso);
    assert_eq!(a, generated(3000, 7, DateFormat::Iso));
    assert_ne!(a, generated(3000, 8, DateFormat::Iso));
    let mut reader = csv::Reader::from_reader(a.as_slice());
    assert_eq!(reader.headers().unwrap().len(), 31);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 3000);
    assert!(records.iter().all(|r| r.len() == 31));
    let notes = |pred: &dyn Fn(&str) -> bool| records.iter().filter(|r| pred(&r[27])).count();
    assert!(notes(&|n| n.contains('\n')) > 0, "some notes span lines");
    assert!(notes(&|n| n.contains('"')) > 0, "some notes hold quotes");
    assert!(notes(&|n| n.contains(',')) > 2000, "most notes hold commas");
    let zero = records.iter().filter(|r| &r[28] == "0").count();
    assert!(zero > 1500 && zero < 2900, "fatalities are zero-heavy but not all zero: {zero}");
    let countries: std::collections::BTreeSet<&str> = records.iter().map(|r| &r[17]).collect();
    assert!(countries.len() > 20, "many countries: {}", countries.len());
}

#[test]
fn generated_files_match_the_reference_in_every_date_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut tables = Vec::new();
    for (i, format) in
        [DateFormat::Iso, DateFormat::Dmy, DateFormat::DmyShort, DateFormat::Long].into_iter().enumerate()
    {
        let path = write_file(&dir, &format!("g{i}.csv"), &generated(400, 3, format));
        assert_matches_reference(&path);
        tables.push(as_table(&scan(&path, 2, None, 1 << 12)));
    }
    assert!(tables.iter().all(|t| *t == tables[0]), "the date format does not change the rollup");
    assert_eq!(tables[0].values().map(|v| v.0).sum::<u64>(), 400);
}

/// Pieces random fields are made of: delimiters, quotes, line breaks of
/// every kind, multi-byte text.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["a", "Zé", " ", ",", "\"", "\"\"", "\n", "\r\n", "\r", "x y", "2020-01-02", "7"])
}

fn raw_field() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(piece(), 0..4).prop_map(|p| p.concat()),
        prop::collection::vec(piece(), 0..4).prop_map(|p| format!("\"{}\"", p.concat().replace('"', "\"\""))),
        prop::sample::select(vec!["Valdoria", "Nosvera", "\"Hill, North\"", "Sud"]).prop_map(str::to_string),
    ]
}

fn date_field() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "2020-12-30",
        "30/12/2020",
        "30/12/20",
        "06 July 2018",
        "\"06 July 2018\"",
        "2021-02-29",
        "",
        "x",
        "1/2/2019",
    ])
    .prop_map(str::to_string)
}

fn fatalities_field() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["0", "1", "12", "3.0", "\"4\"", "", "-1", "x", " 2 "]).prop_map(str::to_string)
}

/// A row: the four needed columns in header order, random others between,
/// sometimes cut short.
fn row() -> impl Strategy<Value = String> {
    (
        date_field(),
        raw_field(),
        raw_field(),
        fatalities_field(),
        raw_field(),
        prop::sample::select(vec!["\n", "\r\n", "\n\n"]),
        0..8usize,
    )
        .prop_map(|(d, c, a, f, note, end, cut)| {
            let fields = [d, c, a, note, f];
            let keep = if cut == 0 { 3 } else { fields.len() };
            fields[..keep].join(",") + end
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn random_files_match_the_csv_crate(rows in prop::collection::vec(row(), 0..40), bom in any::<bool>(), chunk in 1u64..40, block in 1usize..32, threads in 1usize..4) {
        let dir = tempfile::tempdir().unwrap();
        let mut content = if bom { "\u{feff}".to_string() } else { String::new() };
        content.push_str("event_date,country,admin1,notes,fatalities\n");
        content.push_str(&rows.concat());
        let path = write_file(&dir, "random.csv", content.as_bytes());
        let (table, bad) = reference(&path);
        let report = scan(&path, threads, Some(chunk), block);
        prop_assert_eq!(as_table(&report), table);
        let lines: Vec<u64> = report.bad_rows.iter().map(|b| b.line).collect();
        prop_assert_eq!(lines, bad);
    }
}
