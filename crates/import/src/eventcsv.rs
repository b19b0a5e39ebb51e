//! The row loop shared by the event readers: one reused `ByteRecord`, the
//! physical line where each record starts (quoted newlines in notes make it
//! differ from the record number), blank and hashtag rows skipped, each bad
//! row turned into a reject while good rows land.

use crate::error::ImportError;
use crate::fields::{Header, is_blank, is_hashtag_row, record_strings};
use crate::monadic::MonadicMerger;
use crate::place::Context;
use crate::rejects::Reject;
use crate::source::Input;
use crate::{EventsRead, Format, Progress, Sink};
use csv::ByteRecord;
use std::io::Read;
use vitalcore_framework::ImportFile;
use vitalcore_framework::{Event, Provenance, Source};

/// Why one row was rejected: the column at fault and what is wrong.
pub(crate) struct RowError {
    pub field: String,
    pub reason: String,
}

impl RowError {
    pub fn new(field: &str, reason: impl Into<String>) -> RowError {
        RowError { field: field.to_string(), reason: reason.into() }
    }
}

/// Turns one record into an event (provenance already filled but for the id).
pub(crate) type RowParser<'h> = Box<dyn Fn(&ByteRecord, Provenance, &Context) -> Result<Event, RowError> + 'h>;

/// How often (in rows) progress is reported.
const PROGRESS_EVERY: u64 = 8192;

/// Reads events from any CSV-shaped stream whose first row is the header,
/// handing each to `sink` as it is read (ACLED rows of one event folded into
/// one, see [`crate::monadic`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn read<R, B>(
    name: &str,
    reader: R,
    format: Format,
    source: Source,
    ctx: &Context,
    progress: Progress,
    build: B,
    sink: Sink,
) -> Result<(EventsRead, R), ImportError>
where
    R: Read + BytesRead + LineOf,
    B: for<'h> FnOnce(&'h Header) -> Result<RowParser<'h>, String>,
{
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(reader);
    let mut record = ByteRecord::new();
    let malformed = |e: csv::Error| ImportError::Malformed {
        file: name.to_string(),
        line: e.position().map_or(0, |p| p.line()),
        problem: e.to_string(),
    };
    if !rdr.read_byte_record(&mut record).map_err(malformed)? {
        return Err(ImportError::MissingColumns { file: name.to_string(), problem: "the file is empty".into() });
    }
    let header = Header::new(&record);
    let parse = build(&header).map_err(|problem| ImportError::MissingColumns { file: name.to_string(), problem })?;
    let (mut rejects, mut rows_read, mut index) = (Vec::new(), 0u64, 0u64);
    // Only ACLED has exports with one row per actor.
    let mut merger = (source == Source::Acled).then(MonadicMerger::default);
    while rdr.read_byte_record(&mut record).map_err(malformed)? {
        let start = record.position().map_or(0, |p| p.byte());
        let line = rdr.get_mut().line_of(start, index);
        index += 1;
        if is_blank(&record) || is_hashtag_row(&record) {
            continue;
        }
        rows_read += 1;
        let provenance = Provenance { source, source_id: String::new(), file: name.to_string(), line };
        // A row that stops before the header's last column is what a file
        // cut short (or a quote left open) leaves; its missing fields would
        // otherwise read as empty, e.g. fatalities as none.
        let parsed = match short_row(&header, &record) {
            Some(e) => Err(e),
            None => parse(&record, provenance, ctx),
        };
        match parsed {
            Ok(event) => match &mut merger {
                Some(m) => {
                    if let Some(done) = m.push(event) {
                        sink(done)?;
                    }
                }
                None => sink(event)?,
            },
            Err(e) => rejects.push(Reject {
                file: name.to_string(),
                line,
                field: e.field,
                reason: e.reason,
                record: record_strings(&record),
            }),
        }
        if rows_read % PROGRESS_EVERY == 0 {
            progress(rdr.get_ref().bytes_read());
        }
    }
    let mut merged_rows = 0;
    if let Some(m) = &mut merger {
        if let Some(last) = m.finish() {
            sink(last)?;
        }
        merged_rows = m.merged_rows;
    }
    let names = header.names.clone();
    drop(parse);
    let reader = rdr.into_inner();
    progress(reader.bytes_read());
    let file = ImportFile {
        path: String::new(),
        sha256: String::new(),
        format: format.as_str().to_string(),
        rows_read,
        rows_rejected: rejects.len() as u64,
    };
    Ok((EventsRead { rejects, rows_read, merged_rows, file, format, header: names }, reader))
}

/// The 1-based line in the user's file of the data record that starts at
/// byte `start` of the stream and is the `index`-th record after the header.
pub(crate) trait LineOf {
    fn line_of(&mut self, start: u64, index: u64) -> u64;
}

impl LineOf for crate::source::Tracked {
    fn line_of(&mut self, start: u64, _index: u64) -> u64 {
        self.line_at(start)
    }
}

/// Byte count of a reader, for progress.
pub(crate) trait BytesRead {
    fn bytes_read(&self) -> u64;
}

impl BytesRead for crate::source::Tracked {
    fn bytes_read(&self) -> u64 {
        self.bytes
    }
}

/// Reads a CSV event file from an [`Input`], hashing it on the way.
pub(crate) fn read_input<B>(
    input: Input,
    format: Format,
    source: Source,
    ctx: &Context,
    progress: Progress,
    build: B,
    sink: Sink,
) -> Result<EventsRead, ImportError>
where
    B: for<'h> FnOnce(&'h Header) -> Result<RowParser<'h>, String>,
{
    let (name, path) = (input.name.clone(), input.path.clone());
    let (mut parsed, tracked) = read(&name, input.stream()?, format, source, ctx, progress, build, sink)?;
    parsed.file.path = path;
    parsed.file.sha256 = tracked.finish().map_err(|e| ImportError::io(&name, e))?;
    Ok(parsed)
}

/// The error for a row with fewer fields than the header, naming the first
/// column it lacks; None for a full row.
fn short_row(header: &Header, record: &ByteRecord) -> Option<RowError> {
    let missing = header.names.get(record.len())?;
    Some(RowError::new(
        missing,
        format!(
            "the row ends after {} of the header's {} columns: the file may be cut short, or a quote left open",
            record.len(),
            header.names.len()
        ),
    ))
}
