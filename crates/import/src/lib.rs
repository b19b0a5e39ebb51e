//! vitalcore-import: reads the files an analyst already has into domain
//! records, keeping the provenance (source, source id, file, line) of each.
//!
//! Formats (detected from the content, not the extension): UCDP GED CSV and
//! GeoJSON, ACLED exports in the three published schemas, HXL-tagged CSV and
//! administrative boundaries as GeoJSON with P-codes. A `.zip` holding one such
//! file is read directly. Bad rows become [`Reject`]s with a plain reason;
//! good rows still land. See README.md for the field mapping.

mod acled;
mod boundaries;
mod detect;
mod error;
mod eventcsv;
mod fields;
mod geojson_lines;
pub mod hxl;
pub mod monadic;
mod place;
mod rejects;
mod source;
mod ucdp;

use std::path::Path;
use vitalcore_framework::{Area, ImportFile};
use vitalcore_framework::{Event, Framework, Observation};
use vitalcore_spatial::AreaIndex;

pub use detect::{AcledSchema, Format, FormatKind, detect_format, detect_format_from_bytes};
pub use error::ImportError;
pub use hxl::{HxlRow, HxlTable, TagSpec};
pub use rejects::{REJECT_COLUMNS, Reject, write_rejects};

/// Called now and then with the number of bytes read so far.
pub type Progress<'a> = &'a dyn Fn(u64);

/// Takes each event as it is read; an error stops the reading and is
/// returned as [`ImportError::Stopped`].
pub type Sink<'a> = &'a mut dyn FnMut(Event) -> Result<(), ImportError>;

/// What reading an event file produced.
#[derive(Debug, Clone)]
pub struct ParsedEvents {
    pub events: Vec<Event>,
    pub rejects: Vec<Reject>,
    /// Data rows read (events + merged rows + rejects); skipped blank rows do not count.
    pub rows_read: u64,
    /// Rows folded into an earlier row of the same event (ACLED exports with
    /// one row per actor, see [`monadic`]).
    pub merged_rows: u64,
    pub file: ImportFile,
    pub format: Format,
    /// The file's column names, for [`write_rejects`]. For GeoJSON: the
    /// property names, then `latitude` and `longitude` from the geometry.
    pub header: Vec<String>,
}

/// What reading an event file produced when its events went to a [`Sink`]:
/// [`ParsedEvents`] without the events.
#[derive(Debug, Clone)]
pub struct EventsRead {
    pub rejects: Vec<Reject>,
    /// Data rows read (events + merged rows + rejects).
    pub rows_read: u64,
    /// Rows folded into an earlier row of the same event.
    pub merged_rows: u64,
    pub file: ImportFile,
    pub format: Format,
    /// The file's column names, for [`write_rejects`].
    pub header: Vec<String>,
}

impl EventsRead {
    fn with_events(self, events: Vec<Event>) -> ParsedEvents {
        let EventsRead { rejects, rows_read, merged_rows, file, format, header } = self;
        ParsedEvents { events, rejects, rows_read, merged_rows, file, format, header }
    }
}

/// What reading an HXL table produced.
#[derive(Debug, Clone)]
pub struct ParsedObservations {
    pub observations: Vec<Observation>,
    pub rejects: Vec<Reject>,
    pub rows_read: u64,
    pub file: ImportFile,
    pub format: Format,
    /// The row of hashtags as written, one cell per column.
    pub header: Vec<String>,
}

/// Reads an event file (UCDP GED CSV/GeoJSON, ACLED CSV of any schema).
/// Admin P-codes are set by point-in-polygon when `areas` is given, else by
/// name where the names match loaded areas.
pub fn read_events(
    path: &Path,
    framework: &Framework,
    areas: Option<&AreaIndex>,
    progress: Progress,
) -> Result<ParsedEvents, ImportError> {
    let input = source::Input::open(path)?;
    read_events_input(input, framework, areas, progress)
}

/// [`read_events`] handing each event to `sink` as it is read instead of
/// collecting them: memory stays bounded whatever the file's size (but for
/// the rejects, kept for the rejects file).
pub fn read_events_each(
    path: &Path,
    framework: &Framework,
    areas: Option<&AreaIndex>,
    progress: Progress,
    sink: Sink,
) -> Result<EventsRead, ImportError> {
    let input = source::Input::open(path)?;
    read_events_to(input, framework, areas, progress, sink)
}

/// [`read_events`] on bytes already in memory; `name` stands for the file name
/// in provenance and messages. The entry point of the fuzz targets.
pub fn read_events_from_bytes(
    name: &str,
    bytes: &[u8],
    framework: &Framework,
    areas: Option<&AreaIndex>,
    progress: Progress,
) -> Result<ParsedEvents, ImportError> {
    let input = source::Input::from_bytes(name, bytes.to_vec())?;
    read_events_input(input, framework, areas, progress)
}

fn read_events_input(
    input: source::Input,
    framework: &Framework,
    areas: Option<&AreaIndex>,
    progress: Progress,
) -> Result<ParsedEvents, ImportError> {
    let mut events = Vec::new();
    let read = read_events_to(input, framework, areas, progress, &mut |e| {
        events.push(e);
        Ok(())
    })?;
    Ok(read.with_events(events))
}

fn read_events_to(
    input: source::Input,
    framework: &Framework,
    areas: Option<&AreaIndex>,
    progress: Progress,
    sink: Sink,
) -> Result<EventsRead, ImportError> {
    let format = detect_format_from_bytes(&input.name, input.head())?;
    let ctx = place::Context::new(framework, areas);
    match format {
        Format::UcdpCsv => ucdp::read_csv(input, &ctx, progress, sink),
        Format::UcdpGeojson => ucdp::read_geojson(input, &ctx, progress, sink),
        Format::Acled(schema) => acled::read(input, schema, &ctx, progress, sink),
        other => Err(ImportError::WrongKind {
            file: input.name,
            found: other.as_str().to_string(),
            wanted: "event data (UCDP GED or ACLED)".into(),
        }),
    }
}

/// Reads an HXL-tagged table into observations (one per data row).
pub fn read_observations(
    path: &Path,
    framework: &Framework,
    areas: Option<&AreaIndex>,
    progress: Progress,
) -> Result<ParsedObservations, ImportError> {
    let input = source::Input::open(path)?;
    hxl::read_observations(input, &place::Context::new(framework, areas), progress)
}

/// [`read_observations`] on bytes in memory.
pub fn read_observations_from_bytes(
    name: &str,
    bytes: &[u8],
    framework: &Framework,
    areas: Option<&AreaIndex>,
    progress: Progress,
) -> Result<ParsedObservations, ImportError> {
    let input = source::Input::from_bytes(name, bytes.to_vec())?;
    hxl::read_observations(input, &place::Context::new(framework, areas), progress)
}

/// Reads administrative areas from a GeoJSON FeatureCollection with P-codes.
pub fn read_boundaries(path: &Path) -> Result<Vec<Area>, ImportError> {
    let input = source::Input::open(path)?;
    let name = input.name.clone();
    boundaries::read(&name, &input.into_bytes()?)
}

/// [`read_boundaries`] on bytes in memory.
pub fn read_boundaries_from_bytes(name: &str, bytes: &[u8]) -> Result<Vec<Area>, ImportError> {
    let input = source::Input::from_bytes(name, bytes.to_vec())?;
    let name = input.name.clone();
    boundaries::read(&name, &input.into_bytes()?)
}
