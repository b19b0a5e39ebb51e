//! `vitalcore aggregate`: events and fatalities by country, admin1 and month,
//! straight from event files (ACLED exports, UCDP GED CSV), no database.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use vitalcore_framework::cells::FORMULA_STARTS;
use vitalcore_framework::spreadsheet_cell;
use vitalcore_scan::{BadReason, RollupRow, ScanOptions, ScanReport, scan_files};

#[derive(clap::Args)]
pub struct Args {
    /// Event files (CSV with a header row)
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Keys to group by, any of country, admin1, month, comma-separated
    #[arg(long, default_value = "country,admin1,month", value_delimiter = ',')]
    by: Vec<Key>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Write the rollup to this file instead of standard output
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write every rejected row (file, line, column, value, reason) to this CSV file
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Worker threads (default: all cores)
    #[arg(long)]
    threads: Option<usize>,
    /// Print nothing on standard error but rejected-row warnings
    /// Set from the global `--quiet`.
    #[arg(skip)]
    quiet: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
enum Key {
    Country,
    Admin1,
    Month,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Csv,
    Json,
    Table,
}

/// One output line: the chosen keys (in `--by` order) and the totals.
struct Line {
    keys: Vec<String>,
    events: u64,
    fatalities: u64,
}

pub fn run(mut args: Args, global: &crate::context::Global) -> anyhow::Result<()> {
    args.quiet = global.quiet;
    let mut by = args.by.clone();
    by.dedup();
    if by.is_empty() {
        bail!("--by needs at least one of country, admin1, month");
    }
    let mut opts = ScanOptions::default();
    if let Some(t) = args.threads {
        opts.threads = t.max(1);
    }
    let started = Instant::now();
    let report = scan_files(&args.files, &opts)?;
    let text = if by == FULL_KEYS && matches!(args.format, Format::Csv) {
        csv_full(&report.rows)
    } else {
        render(&group(&report.rows, &by), &by, args.format)?
    };
    match &args.out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?,
        None => match std::io::stdout().lock().write_all(text.as_bytes()) {
            // A reader that stops early (`| head`) is not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.context("writing to standard output")?,
        },
    }
    if let Some(path) = &args.rejects {
        write_rejects(path, &report)?;
    }
    report_to_stderr(&report, started, args.quiet);
    Ok(())
}

fn key_name(k: Key) -> &'static str {
    match k {
        Key::Country => "country",
        Key::Admin1 => "admin1",
        Key::Month => "month",
    }
}

const FULL_KEYS: [Key; 3] = [Key::Country, Key::Admin1, Key::Month];

/// The full table as CSV, written straight from the rollup rows (the
/// common case: no regrouping, no per-row key copies).
fn csv_full(rows: &[RollupRow]) -> String {
    let mut s = String::with_capacity(64 + rows.len() * 40);
    s.push_str("country,admin1,month,events,fatalities\n");
    for r in rows {
        push_csv_field(&mut s, &r.country);
        s.push(',');
        push_csv_field(&mut s, &r.admin1);
        s.push(',');
        push_padded(&mut s, u64::from(r.month.year()), 4);
        s.push('-');
        push_padded(&mut s, u64::from(r.month.month()), 2);
        s.push(',');
        push_padded(&mut s, r.totals.events, 1);
        s.push(',');
        push_padded(&mut s, r.totals.fatalities, 1);
        s.push('\n');
    }
    s
}

/// Appends `n` in decimal, zero-padded to at least `width` digits (the
/// formatting machinery is a visible cost over 200,000 rows).
fn push_padded(s: &mut String, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut i = digits.len();
    while n > 0 || digits.len() - i < width {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    s.extend(digits[i..].iter().map(|&d| char::from(d)));
}

fn push_csv_field(s: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) || field.starts_with(FORMULA_STARTS) {
        s.push_str(&csv_field(field));
    } else {
        s.push_str(field);
    }
}

/// Rolls the full (country, admin1, month) table up to the chosen keys.
fn group(rows: &[RollupRow], by: &[Key]) -> Vec<Line> {
    if by == FULL_KEYS {
        return rows
            .iter()
            .map(|r| Line {
                keys: vec![r.country.to_string(), r.admin1.to_string(), r.month.to_string()],
                events: r.totals.events,
                fatalities: r.totals.fatalities,
            })
            .collect();
    }
    let mut grouped: BTreeMap<Vec<String>, (u64, u64)> = BTreeMap::new();
    for r in rows {
        let keys = by
            .iter()
            .map(|k| match k {
                Key::Country => r.country.to_string(),
                Key::Admin1 => r.admin1.to_string(),
                Key::Month => r.month.to_string(),
            })
            .collect();
        let e = grouped.entry(keys).or_default();
        e.0 += r.totals.events;
        e.1 += r.totals.fatalities;
    }
    grouped.into_iter().map(|(keys, (events, fatalities))| Line { keys, events, fatalities }).collect()
}

fn render(lines: &[Line], by: &[Key], format: Format) -> anyhow::Result<String> {
    let mut header: Vec<&str> = by.iter().map(|&k| key_name(k)).collect();
    header.extend(["events", "fatalities"]);
    Ok(match format {
        Format::Csv => {
            let mut s = header.join(",") + "\n";
            for l in lines {
                let keys: Vec<String> = l.keys.iter().map(|k| csv_field(k)).collect();
                s.push_str(&format!("{},{},{}\n", keys.join(","), l.events, l.fatalities));
            }
            s
        }
        Format::Json => {
            let items: Vec<serde_json::Value> = lines
                .iter()
                .map(|l| {
                    let mut m = serde_json::Map::new();
                    for (k, v) in by.iter().zip(&l.keys) {
                        m.insert(key_name(*k).into(), v.clone().into());
                    }
                    m.insert("events".into(), l.events.into());
                    m.insert("fatalities".into(), l.fatalities.into());
                    serde_json::Value::Object(m)
                })
                .collect();
            serde_json::to_string_pretty(&items)? + "\n"
        }
        Format::Table => table(&header, lines),
    })
}

/// A CSV field, quoted when needed, a formula start neutralised
/// (`vitalcore_framework::spreadsheet_cell`).
fn csv_field(s: &str) -> String {
    let s = spreadsheet_cell(s);
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.into_owned() }
}

fn table(header: &[&str], lines: &[Line]) -> String {
    let cells: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            l.keys
                .iter()
                .map(|k| crate::output::cell_safe(k).into_owned())
                .chain([l.events.to_string(), l.fatalities.to_string()])
                .collect()
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| cells.iter().map(|r| r[i].chars().count()).chain([header[i].len()]).max().unwrap_or(0))
        .collect();
    let numeric_from = header.len() - 2;
    let fmt_row = |row: &[String]| -> String {
        let parts: Vec<String> =
            row.iter()
                .enumerate()
                .map(|(i, c)| {
                    if i >= numeric_from {
                        format!("{c:>w$}", w = widths[i])
                    } else {
                        format!("{c:<w$}", w = widths[i])
                    }
                })
                .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let head: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut s = fmt_row(&head);
    s.push_str(&(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  ") + "\n"));
    for row in &cells {
        s.push_str(&fmt_row(row));
    }
    s
}

fn reason_text(reason: BadReason) -> String {
    match reason {
        BadReason::TooFewFields { found, needed } => format!("row has {found} fields, needs {needed}"),
        BadReason::Date => "not a date".into(),
        BadReason::Fatalities => "not a whole number of fatalities".into(),
    }
}

fn write_rejects(path: &PathBuf, report: &ScanReport) -> anyhow::Result<()> {
    let mut s = String::from("file,line,column,value,reason\n");
    for b in &report.bad_rows {
        s.push_str(&format!(
            "{},{},{},{},{}\n",
            csv_field(&b.path.display().to_string()),
            b.line,
            csv_field(&b.column),
            csv_field(&b.value),
            csv_field(&reason_text(b.reason))
        ));
    }
    std::fs::write(path, s).with_context(|| format!("cannot write {}", path.display()))
}

const SHOWN_REJECTS: usize = 20;

fn report_to_stderr(report: &ScanReport, started: Instant, quiet: bool) {
    if !quiet {
        for f in &report.files {
            eprintln!("{}: {} rows ({}), {} rejected", f.path.display(), f.rows, f.schema, f.rejected);
        }
        eprintln!("{} groups in {:.2} s", report.rows.len(), started.elapsed().as_secs_f64());
    }
    for b in report.bad_rows.iter().take(SHOWN_REJECTS) {
        eprintln!("rejected: {}", crate::output::terminal_safe(&b.to_string()));
    }
    let shown = report.bad_rows.len().min(SHOWN_REJECTS) as u64;
    if report.rejected > shown {
        eprintln!("rejected: {} more rows (use --rejects FILE to list them)", report.rejected - shown);
    }
}
