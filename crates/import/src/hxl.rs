//! HXL, the Humanitarian Exchange Language (hxlstandard.org, standard 1.1):
//! a CSV whose row of hashtags (`#adm1`, `#affected+killed`) sits between the
//! text headers and the data, anywhere in the first rows. Following the
//! reference library (libhxl-python): a row is the hashtag row when at least
//! half of its non-blank cells are valid tag specs; the other cells of that
//! row, and columns with no tag, are ignored. Hashtags and attributes are
//! case-insensitive and kept lower-case here.

use crate::error::ImportError;
use crate::fields::text;
use crate::place::Context;
use crate::rejects::{REJECT_COLUMNS, Reject};
use crate::source::{Input, sha256_hex};
use crate::{Format, ParsedObservations, Progress};
use std::fmt;
use vitalcore_framework::ImportFile;
use vitalcore_framework::{Observation, Place, Provenance, Source, Tags, parse_date};

/// How many rows from the top the hashtag row is looked for in.
pub const HASHTAG_ROW_SEARCH: usize = 25;

/// Share of non-blank cells that must be tag specs in the hashtag row
/// (libhxl-python's FUZZY_HASHTAG_PERCENTAGE).
const HASHTAG_SHARE: f64 = 0.5;

/// Delimiters tried, in order (CSV, TSV, semicolon- and pipe-separated).
const DELIMITERS: [u8; 4] = [b',', b'\t', b';', b'|'];

/// A column's tag: `#affected+infected+confirmed` is hashtag `#affected`
/// with attributes `infected`, `confirmed` (stored without the `+`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagSpec {
    pub hashtag: String,
    pub attributes: Vec<String>,
}

impl TagSpec {
    /// Parses `#tag+attr+attr` (whitespace allowed around and before each
    /// `+`). Tokens are a letter then letters, digits or `_`.
    pub fn parse(cell: &str) -> Option<TagSpec> {
        let s = cell.trim();
        let rest = s.strip_prefix('#')?;
        let (hashtag, mut rest) = token(rest)?;
        let mut attributes = Vec::new();
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            let (attr, after) = token(rest.strip_prefix('+')?)?;
            attributes.push(attr.to_ascii_lowercase());
            rest = after;
        }
        Some(TagSpec { hashtag: format!("#{}", hashtag.to_ascii_lowercase()), attributes })
    }

    pub fn has(&self, attribute: &str) -> bool {
        self.attributes.iter().any(|a| a.eq_ignore_ascii_case(attribute.trim_start_matches('+')))
    }

    /// Attributes written with their `+`, as the framework's HXL rules name them.
    pub fn plus_attributes(&self) -> Vec<String> {
        self.attributes.iter().map(|a| format!("+{a}")).collect()
    }
}

impl fmt::Display for TagSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hashtag)?;
        for a in &self.attributes {
            write!(f, "+{a}")?;
        }
        Ok(())
    }
}

/// Splits a token (letter, then letters, digits, `_`) off the front.
fn token(s: &str) -> Option<(&str, &str)> {
    let first = s.chars().next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

/// One data row: the values of the tagged columns, in tag order.
#[derive(Debug, Clone, PartialEq)]
pub struct HxlRow {
    /// 1-based physical line where the row starts.
    pub line: u64,
    pub values: Vec<String>,
    /// Every cell of the row as written (tagged or not).
    pub raw: Vec<String>,
}

/// An HXL table: its tagged columns and data rows.
#[derive(Debug, Clone, PartialEq)]
pub struct HxlTable {
    /// Text header of each tagged column (the row above the hashtags; empty if none).
    pub headers: Vec<String>,
    pub tags: Vec<TagSpec>,
    /// Position of each tagged column in the file.
    pub columns: Vec<usize>,
    /// The hashtag row as written, one cell per file column.
    pub hashtag_row: Vec<String>,
    pub hashtag_line: u64,
    pub delimiter: u8,
    pub rows: Vec<HxlRow>,
}

impl HxlTable {
    /// Reads an HXL table from a CSV (or TSV, semicolon-separated) file.
    pub fn read(path: &std::path::Path) -> Result<HxlTable, ImportError> {
        let input = Input::open(path)?;
        let name = input.name.clone();
        HxlTable::from_bytes(&name, &input.into_bytes()?)
    }

    /// Parses an HXL table from bytes (UTF-8, or latin-1 when not UTF-8).
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<HxlTable, ImportError> {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let Some((delimiter, tag_row)) = find_hashtag_row(body) else {
            return Err(ImportError::NotHxl { file: name.to_string(), problem: explain_missing_hashtags(body) });
        };
        let mut rdr = reader(body, delimiter);
        let mut record = csv::ByteRecord::new();
        let mut previous: Vec<String> = Vec::new();
        let mut table = HxlTable {
            headers: Vec::new(),
            tags: Vec::new(),
            columns: Vec::new(),
            hashtag_row: Vec::new(),
            hashtag_line: 0,
            delimiter,
            rows: Vec::new(),
        };
        let mut index = 0;
        while read_record(&mut rdr, &mut record, name)? {
            let cells: Vec<String> = record.iter().map(|f| text(f).into_owned()).collect();
            let line = record.position().map_or(0, |p| p.line());
            if index < tag_row {
                previous = cells;
            } else if index == tag_row {
                table.hashtag_line = line;
                for (i, cell) in cells.iter().enumerate() {
                    if let Some(tag) = TagSpec::parse(cell) {
                        table.tags.push(tag);
                        table.columns.push(i);
                        table.headers.push(previous.get(i).cloned().unwrap_or_default());
                    }
                }
                table.hashtag_row = cells;
            } else if cells.iter().any(|c| !c.is_empty()) {
                let values = table.columns.iter().map(|&i| cells.get(i).cloned().unwrap_or_default()).collect();
                table.rows.push(HxlRow { line, values, raw: cells });
            }
            index += 1;
        }
        Ok(table)
    }

    /// Position (among the tags) of the first column with this hashtag and
    /// all these attributes.
    pub fn find(&self, hashtag: &str, attributes: &[&str]) -> Option<usize> {
        self.tags.iter().position(|t| t.hashtag == hashtag && attributes.iter().all(|a| t.has(a)))
    }
}

fn reader(body: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(body)
}

fn read_record(rdr: &mut csv::Reader<&[u8]>, record: &mut csv::ByteRecord, name: &str) -> Result<bool, ImportError> {
    rdr.read_byte_record(record).map_err(|e| ImportError::Malformed {
        file: name.to_string(),
        line: e.position().map_or(0, |p| p.line()),
        problem: e.to_string(),
    })
}

/// The delimiter and 0-based row index of the hashtag row, if any.
pub(crate) fn find_hashtag_row(body: &[u8]) -> Option<(u8, usize)> {
    DELIMITERS.iter().find_map(|&d| {
        let mut rdr = reader(body, d);
        let mut record = csv::ByteRecord::new();
        for index in 0..HASHTAG_ROW_SEARCH {
            match rdr.read_byte_record(&mut record) {
                Ok(true) if is_hashtag_row(&record) => return Some((d, index)),
                Ok(true) => continue,
                _ => return None,
            }
        }
        None
    })
}

/// At least one tag spec, and tag specs in at least half of the non-blank
/// cells. The columns a rejects file adds do not count.
fn is_hashtag_row(record: &csv::ByteRecord) -> bool {
    let (mut cells, mut tags) = (0usize, 0usize);
    for f in record.iter() {
        let t = text(f);
        if t.is_empty() || REJECT_COLUMNS.contains(&t.as_ref()) {
            continue;
        }
        cells += 1;
        if TagSpec::parse(&t).is_some() {
            tags += 1;
        }
    }
    tags > 0 && tags as f64 >= HASHTAG_SHARE * cells as f64
}

/// A hint for a file with no hashtag row: tags written without `#` are the
/// common mistake (libhxl's input-invalid.csv).
pub(crate) fn explain_missing_hashtags(body: &[u8]) -> String {
    let mut rdr = reader(body, b',');
    let mut record = csv::ByteRecord::new();
    for index in 0..HASHTAG_ROW_SEARCH {
        let Ok(true) = rdr.read_byte_record(&mut record) else {
            break;
        };
        let cells: Vec<String> = record.iter().map(|f| text(f).into_owned()).filter(|c| !c.is_empty()).collect();
        let bare = cells
            .iter()
            .filter(|c| TagSpec::parse(&format!("#{c}")).is_some_and(|t| !t.attributes.is_empty() || c.len() <= 12))
            .count();
        if !cells.is_empty() && bare * 2 >= cells.len() && cells.iter().any(|c| c.contains('+')) {
            return format!(
                "no row of HXL hashtags in the first {HASHTAG_ROW_SEARCH} rows; row {} (`{}`) looks like tags written without `#`: write #{}",
                index + 1,
                cells.join(","),
                cells[0]
            );
        }
    }
    format!(
        "no row of HXL hashtags in the first {HASHTAG_ROW_SEARCH} rows: HXL puts one row of hashtags such as #adm1,#affected+killed,#date between the column names and the data"
    )
}

/// Reads an HXL table into observations.
pub(crate) fn read_observations(
    input: Input,
    ctx: &Context,
    progress: Progress,
) -> Result<ParsedObservations, ImportError> {
    let (name, path) = (input.name.clone(), input.path.clone());
    let (bytes, sha256) = input.read_all()?;
    let table = HxlTable::from_bytes(&name, &bytes)?;
    let roles = Roles::of(&table);
    let mut observations = Vec::with_capacity(table.rows.len());
    let mut rejects = Vec::new();
    for row in &table.rows {
        match observation(&table, &roles, row, &name, ctx) {
            Ok(o) => observations.push(o),
            Err((column, reason)) => rejects.push(Reject {
                file: name.clone(),
                line: row.line,
                field: table.tags[column].to_string(),
                reason,
                record: row.raw.clone(),
            }),
        }
    }
    progress(bytes.len() as u64);
    let rows_read = table.rows.len() as u64;
    Ok(ParsedObservations {
        observations,
        file: ImportFile {
            path,
            sha256,
            format: Format::Hxl.as_str().to_string(),
            rows_read,
            rows_rejected: rejects.len() as u64,
        },
        rejects,
        rows_read,
        format: Format::Hxl,
        header: table.hashtag_row.clone(),
    })
}

/// Which tagged columns give the date and the place.
struct Roles {
    dates: Vec<usize>,
    country_name: Vec<usize>,
    country_code: Vec<usize>,
    adm1_name: Vec<usize>,
    adm1_code: Vec<usize>,
    adm2_name: Vec<usize>,
    adm2_code: Vec<usize>,
    location: Vec<usize>,
    lat: Option<usize>,
    lon: Option<usize>,
}

impl Roles {
    fn of(table: &HxlTable) -> Roles {
        let pick = |hashtags: &[&str], code: bool| -> Vec<usize> {
            (0..table.tags.len())
                .filter(|&i| hashtags.contains(&table.tags[i].hashtag.as_str()) && table.tags[i].has("code") == code)
                .collect()
        };
        Roles {
            dates: pick(&["#date"], false),
            country_name: pick(&["#country", "#adm0"], false),
            country_code: pick(&["#country", "#adm0"], true),
            adm1_name: pick(&["#adm1"], false),
            adm1_code: pick(&["#adm1"], true),
            adm2_name: pick(&["#adm2"], false),
            adm2_code: pick(&["#adm2"], true),
            location: pick(&["#loc"], false),
            lat: table.find("#geo", &["lat"]),
            lon: table.find("#geo", &["lon"]),
        }
    }
}

fn first(row: &HxlRow, columns: &[usize]) -> Option<String> {
    columns.iter().map(|&i| row.values[i].trim()).find(|v| !v.is_empty()).map(str::to_string)
}

/// One row as an observation; a bad coordinate rejects it (column, reason).
fn observation(
    table: &HxlTable,
    roles: &Roles,
    row: &HxlRow,
    file: &str,
    ctx: &Context,
) -> Result<Observation, (usize, String)> {
    let coordinate = |col: Option<usize>, what: &str, limit: f64| -> Result<Option<f64>, (usize, String)> {
        let Some(c) = col else { return Ok(None) };
        crate::fields::coordinate(what, row.values[c].as_bytes(), limit).map_err(|e| (c, e))
    };
    let code = first(row, &roles.country_code);
    let mut place = Place {
        country: first(row, &roles.country_name),
        iso3: code
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(|c| c.to_ascii_uppercase()),
        admin1: first(row, &roles.adm1_name),
        admin2: first(row, &roles.adm2_name),
        location: first(row, &roles.location),
        latitude: coordinate(roles.lat, "#geo+lat", 90.0)?,
        longitude: coordinate(roles.lon, "#geo+lon", 180.0)?,
        admin1_pcode: first(row, &roles.adm1_code),
        admin2_pcode: first(row, &roles.adm2_code),
        ..Place::default()
    };
    ctx.resolve(&mut place);
    let date = roles.dates.iter().find_map(|&i| hxl_date(&row.values[i]));
    let mut values = Vec::new();
    let mut tags = Tags::default();
    for (i, value) in row.values.iter().enumerate() {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let spec = &table.tags[i];
        values.push((spec.to_string(), value.to_string()));
        if is_nonzero_number(value) {
            let attributes = spec.plus_attributes();
            let attributes: Vec<&str> = attributes.iter().map(String::as_str).collect();
            if let Some(t) = ctx.framework.tag_hxl(&spec.hashtag, &attributes) {
                merge(&mut tags, t);
            }
        }
    }
    let source_id = content_id(&values);
    Ok(Observation {
        provenance: Provenance { source: Source::Hxl, source_id, file: file.to_string(), line: row.line },
        date,
        place,
        values,
        tags,
    })
}

/// A `#date` value: every spelling `parse_date` reads, plus `March 31, 2015`.
/// A value that is no date leaves the observation undated (HXL declares no
/// types; the value itself is kept).
fn hxl_date(value: &str) -> Option<jiff::civil::Date> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    parse_date(value).ok().or_else(|| {
        let (month, rest) = value.split_once(' ')?;
        let (day, year) = rest.split_once(',')?;
        parse_date(&format!("{} {} {}", day.trim(), month, year.trim())).ok()
    })
}

/// A number other than zero (`1,234` and ` 100` count).
fn is_nonzero_number(value: &str) -> bool {
    let cleaned: String = value.chars().filter(|c| *c != ',' && !c.is_whitespace()).collect();
    cleaned.parse::<f64>().is_ok_and(|x| x.is_finite() && x != 0.0)
}

/// Union of dimensions and themes, the higher severity, rules joined.
fn merge(into: &mut Tags, extra: Tags) {
    for d in extra.dimensions {
        if !into.dimensions.contains(&d) {
            into.dimensions.push(d);
        }
    }
    for t in extra.themes {
        if !into.themes.contains(&t) {
            into.themes.push(t);
        }
    }
    into.severity = into.severity.max(extra.severity);
    if !into.rule.split(" + ").any(|r| r == extra.rule) {
        if !into.rule.is_empty() {
            into.rule.push_str(" + ");
        }
        into.rule.push_str(&extra.rule);
    }
}

/// A stable id for a row without one: SHA-256 of its (tag, value) pairs, so
/// that importing the same table twice finds the same rows.
fn content_id(values: &[(String, String)]) -> String {
    let mut text = String::new();
    for (tag, value) in values {
        text.push_str(tag);
        text.push('\u{1f}');
        text.push_str(value);
        text.push('\u{1e}');
    }
    let hex = sha256_hex(text.as_bytes());
    format!("hxl:{}", &hex[..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_specs_follow_the_standard() {
        let t = TagSpec::parse(" #Affected +Infected+confirmed ").unwrap();
        assert_eq!(t.hashtag, "#affected");
        assert_eq!(t.attributes, ["infected", "confirmed"]);
        assert_eq!(t.to_string(), "#affected+infected+confirmed");
        assert!(TagSpec::parse("#valid_tag").is_some());
        for bad in ["sector+es", "#", "#1abc", "#org+", "#org+ es", "#org es", "# org"] {
            assert!(TagSpec::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn dates_in_hxl_tables() {
        assert_eq!(hxl_date("March 31, 2015").unwrap().to_string(), "2015-03-31");
        assert_eq!(hxl_date("1 March 2015").unwrap().to_string(), "2015-03-01");
        assert!(hxl_date("soon").is_none());
    }
}
