//! Telling formats apart by their header, not their extension.

use crate::error::ImportError;
use crate::fields::{Header, text};
use crate::hxl;
use std::path::Path;

/// The ACLED export schemas ACLED has published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AcledSchema {
    /// 2016 and before: upper-case `GWNO`, `EVENT_ID_CNTY`, `ALLY_ACTOR_1`,
    /// types like `Riots/Protests`, dates `29/12/2015`.
    Upper2016,
    /// 2017-2018: lower-case, `data_id`, `assoc_actor_1`, types like
    /// `Battle-No change of territory`, dates `24 November 2018`.
    Lower2018,
    /// Current: `disorder_type`, `sub_event_type`, `civilian_targeting`,
    /// dates `2020-12-30` or `09/12/20`.
    Current,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    UcdpCsv,
    UcdpGeojson,
    Acled(AcledSchema),
    Hxl,
    Boundaries,
}

/// Which reader a format goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatKind {
    /// [`crate::read_events`]
    Events,
    /// [`crate::read_observations`]
    Observations,
    /// [`crate::read_boundaries`]
    Boundaries,
}

impl Format {
    /// The name stored in `ImportFile::format`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::UcdpCsv => "ucdp-ged-csv",
            Format::UcdpGeojson => "ucdp-ged-geojson",
            Format::Acled(AcledSchema::Upper2016) => "acled-2016",
            Format::Acled(AcledSchema::Lower2018) => "acled-2017-2018",
            Format::Acled(AcledSchema::Current) => "acled-current",
            Format::Hxl => "hxl",
            Format::Boundaries => "boundaries-geojson",
        }
    }

    pub fn kind(self) -> FormatKind {
        match self {
            Format::UcdpCsv | Format::UcdpGeojson | Format::Acled(_) => FormatKind::Events,
            Format::Hxl => FormatKind::Observations,
            Format::Boundaries => FormatKind::Boundaries,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const EXPECTED: &str = "a UCDP GED CSV (columns id, type_of_violence, date_start, best ...), \
a UCDP GED GeoJSON, an ACLED export (event_id_cnty, event_date, event_type ...), \
an HXL table (a row of hashtags such as #adm1,#affected+killed in its first 25 rows) \
or admin boundaries as GeoJSON with P-codes (admin1Pcode / ADM1_PCODE ...), or a .zip holding one of them";

/// Detects the format of a file from its first megabyte.
pub fn detect_format(path: &Path) -> Result<Format, ImportError> {
    let input = crate::source::Input::open(path)?;
    detect_format_from_bytes(&input.name, input.head())
}

/// Detects the format from the first bytes of a file (a megabyte is plenty).
pub fn detect_format_from_bytes(name: &str, head: &[u8]) -> Result<Format, ImportError> {
    let unrecognised =
        |found: String| ImportError::Unrecognised { file: name.to_string(), found, expected: EXPECTED.to_string() };
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    match first {
        None => return Err(unrecognised("It is empty".into())),
        Some(b'{') => {
            return detect_json(body).ok_or_else(|| {
                unrecognised(
                    "It is JSON, but neither UCDP GED features (type_of_violence, best) nor boundaries with P-codes"
                        .into(),
                )
            });
        }
        Some(b'<') => return Err(unrecognised("It looks like HTML or XML".into())),
        _ => {}
    }
    if looks_binary(body) {
        return Err(unrecognised("It is a binary file (a spreadsheet? save it as CSV)".into()));
    }
    if let Some(format) = detect_csv_header(body) {
        return Ok(format);
    }
    if hxl::find_hashtag_row(body).is_some() {
        return Ok(Format::Hxl);
    }
    Err(unrecognised(format!("{}; {}", describe_first_line(body), hxl::explain_missing_hashtags(body))))
}

fn looks_binary(body: &[u8]) -> bool {
    body.iter().take(4096).any(|&b| b == 0)
}

fn describe_first_line(body: &[u8]) -> String {
    let line = body.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = text(line);
    let shown: String = line.chars().take(120).collect();
    format!("Its first line is `{shown}`, which names no UCDP or ACLED columns")
}

/// UCDP or ACLED from the first row's column names.
fn detect_csv_header(body: &[u8]) -> Option<Format> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(body);
    let mut record = csv::ByteRecord::new();
    reader.read_byte_record(&mut record).ok()?;
    let header = Header::new(&record);
    let has = |n: &str| header.get(n).is_some();
    if has("type_of_violence") && has("best") && has("date_start") && has("id") {
        return Some(Format::UcdpCsv);
    }
    if has("event_id_cnty") && has("event_date") && has("event_type") {
        let schema = if has("disorder_type") || has("civilian_targeting") || has("sub_event_type") {
            AcledSchema::Current
        } else if has("gwno") || has("ally_actor_1") {
            AcledSchema::Upper2016
        } else {
            AcledSchema::Lower2018
        };
        return Some(Format::Acled(schema));
    }
    None
}

/// UCDP GeoJSON or boundaries from the property names of the first features.
fn detect_json(body: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(body);
    if text.contains("\"type_of_violence\"") && text.contains("\"best\"") {
        return Some(Format::UcdpGeojson);
    }
    if crate::boundaries::mentions_pcode_property(&text) {
        return Some(Format::Boundaries);
    }
    None
}
