//! vitalcore-scan: count events and sum fatalities by any of country,
//! admin1, admin2, location and month straight from large event CSV files
//! (ACLED exports of every schema, UCDP GED CSV), without a database.
//!
//! Fast and memory-bounded: rows are read in blocks into reusable buffers,
//! split 64 bytes at a time with SIMD byte masks and a prefix-XOR quote state
//! (long quoted notes are crossed with `memchr`), only the needed columns
//! are looked at, groups are encoded once in a compact table (see [`agg`]),
//! and the file is cut into chunks parsed in parallel and merged exactly
//! (see [`scan`] for how chunk edges inside quoted fields are handled). The
//! rows of one ACLED event written one per actor count once.
//! Rows whose date or fatalities cannot be read are counted and reported with
//! their line number, never dropped silently.
//!
//! The crate also writes synthetic ACLED-shaped files for benchmarks and tests
//! ([`generate`]).

mod agg;
mod date;
pub mod generate;
mod header;
mod scan;
mod split;

use std::path::{Path, PathBuf};

pub use agg::{Aggregator, Key, Rollup, RollupRow, Row, Totals, Value};
pub use date::{Month, parse_month};
pub use header::{Projection, Schema};

/// How to scan.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Worker threads (chunks are parsed in parallel).
    pub threads: usize,
    /// Read buffer per worker, in bytes (grows for longer rows).
    pub block_size: usize,
    /// Chunk length in bytes; `None` cuts each file into a few chunks per thread.
    /// Tests force tiny chunks to exercise the chunk-edge logic.
    pub chunk_size: Option<u64>,
    /// How many rejected rows to keep with details (all are counted).
    pub max_bad_rows_kept: usize,
    /// Grouping keys, in output order.
    pub keys: Vec<Key>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            block_size: 1 << 20,
            chunk_size: None,
            max_bad_rows_kept: 1000,
            keys: vec![Key::Country, Key::Admin1, Key::Month],
        }
    }
}

/// Why a row was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadReason {
    /// The row ends before one of the needed columns.
    TooFewFields { found: usize, needed: usize },
    /// The date is not in a known format or is not a real date.
    Date,
    /// Fatalities is not a whole non-negative number.
    Fatalities,
    /// The row has the previous row's event id but another date, place or
    /// fatalities (rows of one event, one per actor, differ only in actors).
    Conflict,
}

/// A rejected row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    pub path: PathBuf,
    /// Line in the file where the row starts (1-based, every `\n` counted,
    /// also those inside quoted fields, as an editor shows it).
    pub line: u64,
    /// Byte offset of the row start.
    pub offset: u64,
    /// Header name of the offending column (empty for too few fields).
    pub column: String,
    /// The offending value (cut to 80 bytes).
    pub value: String,
    pub reason: BadReason,
}

impl std::fmt::Display for BadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = format!("{}:{}", self.path.display(), self.line);
        match self.reason {
            BadReason::TooFewFields { found, needed } => {
                write!(f, "{at}: row has {found} fields, needs at least {needed} to reach every needed column")
            }
            BadReason::Date => write!(
                f,
                "{at}: {} \"{}\" is not a date; write it as 2020-12-30, 30/12/2020, 30/12/20 or 30 December 2020",
                self.column, self.value
            ),
            BadReason::Fatalities => {
                write!(f, "{at}: {} \"{}\" is not a whole number of fatalities (0 or more)", self.column, self.value)
            }
            BadReason::Conflict => write!(
                f,
                "{at}: {} \"{}\" is the event of the row before, but with another date, place or fatalities",
                self.column, self.value
            ),
        }
    }
}

/// What was read from one file.
#[derive(Clone, Debug)]
pub struct FileSummary {
    pub path: PathBuf,
    pub schema: Schema,
    /// Data rows read (good, merged and rejected).
    pub rows: u64,
    pub rejected: u64,
    /// Rows folded into the row before: the same ACLED event, one row per actor.
    pub merged: u64,
}

/// The rollup of one or more files.
#[derive(Debug)]
pub struct ScanReport {
    pub files: Vec<FileSummary>,
    /// The groups, sorted by the keys in order.
    pub rollup: Rollup,
    /// Rejected rows with details, in file and line order (at most
    /// `max_bad_rows_kept` per file).
    pub bad_rows: Vec<BadRow>,
    pub rejected: u64,
}

impl ScanReport {
    /// The rollup as owned rows (tests and small outputs).
    pub fn rows(&self) -> Vec<RollupRow> {
        self.rollup.rows().map(|r| r.to_owned_row()).collect()
    }
}

/// Errors that stop a file from being read at all.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{path}: cannot read the file: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: the file is empty; expected a header row")]
    Empty { path: PathBuf },
    #[error(
        "{path}: the header row has no column for {}; found columns: {found}. \
         Expected an ACLED export (event_date, country, admin1, fatalities) or UCDP GED CSV (date_start, country, adm_1, best)",
        missing.join(", ")
    )]
    MissingColumns { path: PathBuf, missing: Vec<String>, found: String },
    #[error(
        "{path}, line {line}: {column} `{id}` is the event of the row before but with another date, place or \
         fatalities; rows of one event (one per actor) may differ only in their actors. Keep one of the two rows"
    )]
    Conflict { path: PathBuf, line: u64, column: String, id: String },
}

/// Rolls up every file into one table.
pub fn scan_files(paths: &[PathBuf], opts: &ScanOptions) -> Result<ScanReport, ScanError> {
    let mut agg = Aggregator::new(&opts.keys);
    let mut files = Vec::new();
    let mut bad_rows = Vec::new();
    let mut rejected = 0;
    for path in paths {
        let (summary, bad) = scan_file(path, opts, &mut agg)?;
        rejected += summary.rejected;
        files.push(summary);
        bad_rows.extend(bad);
    }
    Ok(ScanReport { files, rollup: agg.into_rollup(), bad_rows, rejected })
}

/// Rolls up one file into `agg`; returns its summary and rejected rows.
pub fn scan_file(
    path: &Path,
    opts: &ScanOptions,
    agg: &mut Aggregator,
) -> Result<(FileSummary, Vec<BadRow>), ScanError> {
    let io = |source| ScanError::Io { path: path.to_path_buf(), source };
    let header = scan::read_header(path, opts.block_size)
        .map_err(io)?
        .ok_or_else(|| ScanError::Empty { path: path.to_path_buf() })?;
    let projection = Projection::from_header(&header.fields, agg.keys()).map_err(|missing| {
        ScanError::MissingColumns { path: path.to_path_buf(), missing, found: header.fields.join(", ") }
    })?;
    let mut totals = scan::scan_rows(path, &projection, header.data_start, opts, agg).map_err(io)?;
    if let Some(c) = totals.first_conflict {
        let line = scan::line_numbers(path, &[c.offset], opts.block_size).map_err(io)?[0];
        return Err(ScanError::Conflict {
            path: path.to_path_buf(),
            line,
            column: projection.names[header::EVENT_ID].clone(),
            id: c.value,
        });
    }
    totals.bad.sort_by_key(|b| b.offset);
    let offsets: Vec<u64> = totals.bad.iter().map(|b| b.offset).collect();
    let lines = scan::line_numbers(path, &offsets, opts.block_size).map_err(io)?;
    let bad = totals
        .bad
        .into_iter()
        .zip(lines)
        .map(|(b, line)| BadRow {
            path: path.to_path_buf(),
            line,
            offset: b.offset,
            column: b.slot.map(|s| projection.names[s].clone()).unwrap_or_default(),
            value: b.value,
            reason: b.reason,
        })
        .collect();
    let summary = FileSummary {
        path: path.to_path_buf(),
        schema: projection.schema,
        rows: totals.rows,
        rejected: totals.bad_count,
        merged: totals.merged,
    };
    Ok((summary, bad))
}
