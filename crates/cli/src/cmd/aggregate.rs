//! `vitalcore aggregate`: events and fatalities by any of country, admin1,
//! admin2, location and month, straight from event files (ACLED exports,
//! UCDP GED CSV), no database. Rows of one ACLED event (one per actor) count
//! once. Memory grows with the number of groups (a few dozen bytes each),
//! not with the file; the output is streamed.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use vitalcore_framework::cells::FORMULA_STARTS;
use vitalcore_framework::spreadsheet_cell;
use vitalcore_scan::{BadReason, Key, Rollup, ScanOptions, ScanReport, Value, scan_files};

#[derive(clap::Args)]
pub struct Args {
    /// Event files (CSV with a header row)
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Keys to group by, any of country, admin1, admin2, location, month, comma-separated
    #[arg(long, default_value = "country,admin1,month", value_delimiter = ',')]
    by: Vec<KeyArg>,
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

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum KeyArg {
    Country,
    Admin1,
    Admin2,
    Location,
    Month,
}

impl KeyArg {
    fn key(self) -> Key {
        match self {
            KeyArg::Country => Key::Country,
            KeyArg::Admin1 => Key::Admin1,
            KeyArg::Admin2 => Key::Admin2,
            KeyArg::Location => Key::Location,
            KeyArg::Month => Key::Month,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Csv,
    Json,
    Table,
}

pub fn run(mut args: Args, global: &crate::context::Global) -> anyhow::Result<()> {
    args.quiet = global.quiet;
    let mut by: Vec<Key> = Vec::new();
    for k in &args.by {
        if !by.contains(&k.key()) {
            by.push(k.key());
        }
    }
    if by.is_empty() {
        bail!("--by needs at least one of country, admin1, admin2, location, month");
    }
    let mut opts = ScanOptions { keys: by, ..ScanOptions::default() };
    if let Some(t) = args.threads {
        opts.threads = t.max(1);
    }
    let started = Instant::now();
    let report = scan_files(&args.files, &opts)?;
    let written = match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            render(&report.rollup, args.format, &mut BufWriter::with_capacity(1 << 16, file))
                .and_then(|w| w.flush())
                .with_context(|| format!("cannot write {}", path.display()))
        }
        None => render(&report.rollup, args.format, &mut BufWriter::with_capacity(1 << 16, std::io::stdout().lock()))
            .and_then(|w| w.flush())
            .context("writing to standard output"),
    };
    match written {
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) => {}
        other => other?,
    }
    if let Some(path) = &args.rejects {
        write_rejects(path, &report)?;
    }
    report_to_stderr(&report, started, args.quiet);
    Ok(())
}

/// Writes the rollup; returns the writer to flush.
fn render<'w, W: Write>(rollup: &Rollup, format: Format, out: &'w mut W) -> std::io::Result<&'w mut W> {
    let mut header: Vec<&str> = rollup.keys().iter().map(|k| k.name()).collect();
    header.extend(["events", "fatalities"]);
    match format {
        Format::Csv => {
            out.write_all(header.join(",").as_bytes())?;
            out.write_all(b"\n")?;
            let mut line = String::with_capacity(256);
            for row in rollup.rows() {
                line.clear();
                for v in row.values() {
                    match v {
                        Value::Name(b) => push_csv_field(&mut line, &String::from_utf8_lossy(b)),
                        Value::Month(m) => {
                            push_padded(&mut line, u64::from(m.year()), 4);
                            line.push('-');
                            push_padded(&mut line, u64::from(m.month()), 2);
                        }
                    }
                    line.push(',');
                }
                let t = row.totals();
                push_padded(&mut line, t.events, 1);
                line.push(',');
                push_padded(&mut line, t.fatalities, 1);
                line.push('\n');
                out.write_all(line.as_bytes())?;
            }
        }
        Format::Json => {
            out.write_all(b"[")?;
            for (i, row) in rollup.rows().enumerate() {
                let mut m = serde_json::Map::new();
                for (k, v) in rollup.keys().iter().zip(row.values()) {
                    m.insert(k.name().into(), v.to_string().into());
                }
                let t = row.totals();
                m.insert("events".into(), t.events.into());
                m.insert("fatalities".into(), t.fatalities.into());
                out.write_all(if i == 0 { b"\n  " } else { b",\n  " })?;
                serde_json::to_writer(&mut *out, &m)?;
            }
            out.write_all(b"\n]\n")?;
        }
        Format::Table => {
            let lines: Vec<Vec<String>> = rollup
                .rows()
                .map(|row| {
                    let t = row.totals();
                    row.values()
                        .map(|v| crate::output::cell_safe(&v.to_string()).into_owned())
                        .chain([t.events.to_string(), t.fatalities.to_string()])
                        .collect()
                })
                .collect();
            out.write_all(table(&header, &lines).as_bytes())?;
        }
    }
    Ok(out)
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

/// A CSV field, quoted when needed, a formula start neutralised
/// (`vitalcore_framework::spreadsheet_cell`).
fn csv_field(s: &str) -> String {
    let s = spreadsheet_cell(s);
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.into_owned() }
}

fn table(header: &[&str], cells: &[Vec<String>]) -> String {
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
    for row in cells {
        s.push_str(&fmt_row(row));
    }
    s
}

fn reason_text(reason: BadReason) -> String {
    match reason {
        BadReason::TooFewFields { found, needed } => format!("row has {found} fields, needs {needed}"),
        BadReason::Date => "not a date".into(),
        BadReason::Fatalities => "not a whole number of fatalities".into(),
        BadReason::Conflict => "the event of the row before, with another date, place or fatalities".into(),
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
            let merged = match f.merged {
                0 => String::new(),
                n => format!(", {n} merged into the row before (one event, one row per actor: counted once)"),
            };
            eprintln!("{}: {} rows ({}), {} rejected{merged}", f.path.display(), f.rows, f.schema, f.rejected);
        }
        eprintln!("{} groups in {:.2} s", report.rollup.len(), started.elapsed().as_secs_f64());
    }
    for b in report.bad_rows.iter().take(SHOWN_REJECTS) {
        eprintln!("rejected: {}", crate::output::terminal_safe(&b.to_string()));
    }
    let shown = report.bad_rows.len().min(SHOWN_REJECTS) as u64;
    if report.rejected > shown {
        eprintln!("rejected: {} more rows (use --rejects FILE to list them)", report.rejected - shown);
    }
}
