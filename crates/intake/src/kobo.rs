//! KoBoToolbox / ODK exports (CSV with `,` or `;`, and XLSX) into reports.
//!
//! A mapping file (TOML) says which question holds the text, place, date,
//! category, urgency, reporter id and contact. Column names may carry group
//! paths written `group/question`, `group.question` or `group:question`; a
//! mapping may name the question alone when only one column ends with it.
//! KoBo's metadata columns are read under their own names (`_uuid`,
//! `_submission_time`, `_id`, `meta/instanceID`) and under the names R's
//! `read.csv` gives them (`X_uuid`, ...). Coordinates come from the mapped
//! GPS question (`_q_latitude`/`_q_longitude`, or the `q` column holding
//! "lat lon altitude accuracy"), else `_geolocation`, else the first
//! `_*_latitude`/`_*_longitude` pair.
//!
//! Every row is checked through [`Intake::accept`]; a bad row is rejected
//! with its line, field and reason and the good rows are kept. Re-import is
//! idempotent by submission uuid: rows whose uuid is known are reported as
//! already seen and not turned into reports.

use crate::categories::CategoryMap;
use crate::report::{Channel, Intake, Report, ReportDraft, parse_time};
use crate::xlsform::FormLabels;
use jiff::Timestamp;
use secrecy::SecretString;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum KoboError {
    #[error("mapping file: {0}")]
    MappingSyntax(String),
    #[error("mapping file, `{key}`: {reason}")]
    Mapping { key: String, reason: String },
    #[error("{file}: {reason}")]
    Export { file: String, reason: String },
}

/// The mapping file: which question holds what.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KoboMapping {
    /// Name of the form (a stable id): uuids are remembered per form.
    pub form: String,
    /// XLSX sheet to read (default: the first).
    #[serde(default)]
    pub sheet: Option<String>,
    pub questions: Questions,
    /// Answer codes (as exported) to category ids, e.g. `gbv = "sexual_violence"`.
    #[serde(default)]
    pub category_values: BTreeMap<String, String>,
    /// Answer codes to urgency (low, medium, high, critical).
    #[serde(default)]
    pub urgency_values: BTreeMap<String, String>,
    #[serde(default)]
    pub defaults: Defaults,
    /// Language (`en`, `ar`, ...) in which select answers in the text are
    /// written out, using the form's choice labels (see [`KoboMapping::with_xlsform`]).
    /// Without it (or without the form) answer codes are kept as exported.
    #[serde(default)]
    pub labels: Option<String>,
    #[serde(skip)]
    pub xlsform: Option<FormLabels>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Questions {
    /// One question, or several whose non-empty answers are joined with " | ".
    pub text: OneOrMany,
    #[serde(default)]
    pub place: Option<String>,
    /// A question holding the area P-code.
    #[serde(default)]
    pub area: Option<String>,
    /// Event date or date-time.
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub urgency: Option<String>,
    #[serde(default)]
    pub reporter_id: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub gps: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl Default for OneOrMany {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl OneOrMany {
    fn names(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub category: Option<String>,
    pub urgency: Option<String>,
    pub language: Option<String>,
}

impl KoboMapping {
    /// Reads a mapping file and checks the category and urgency values it maps to.
    pub fn from_toml(text: &str, categories: &CategoryMap) -> Result<KoboMapping, KoboError> {
        let m: KoboMapping = toml::from_str(text).map_err(|e| KoboError::MappingSyntax(e.to_string()))?;
        let invalid = |key: String, reason: String| KoboError::Mapping { key, reason };
        if m.form.trim().is_empty() {
            return Err(invalid("form".into(), "give the form a name (uuids are remembered per form)".into()));
        }
        if m.questions.text.names().iter().all(|n| n.trim().is_empty()) {
            return Err(invalid(
                "questions.text".into(),
                "name at least one question that holds the report text".into(),
            ));
        }
        let known = || categories.ids().collect::<Vec<_>>().join(", ");
        for (code, id) in &m.category_values {
            if categories.find(id).is_none() {
                return Err(invalid(
                    format!("category_values.{code}"),
                    format!("`{id}` is not a category; use one of {}", known()),
                ));
            }
        }
        if let Some(id) = &m.defaults.category
            && categories.find(id).is_none()
        {
            return Err(invalid(
                "defaults.category".into(),
                format!("`{id}` is not a category; use one of {}", known()),
            ));
        }
        for (key, value) in m
            .urgency_values
            .iter()
            .map(|(k, v)| (format!("urgency_values.{k}"), v))
            .chain(m.defaults.urgency.iter().map(|v| ("defaults.urgency".to_string(), v)))
        {
            value.parse::<crate::report::Urgency>().map_err(|reason| invalid(key, reason))?;
        }
        Ok(m)
    }

    /// Attaches the XLSForm the data was collected with, checking that every
    /// mapped question is one of its questions.
    pub fn with_xlsform(mut self, form: FormLabels) -> Result<KoboMapping, KoboError> {
        let q = &self.questions;
        let named: Vec<(&str, String)> = q
            .text
            .names()
            .into_iter()
            .map(|n| ("questions.text", n))
            .chain(
                [
                    ("questions.place", &q.place),
                    ("questions.area", &q.area),
                    ("questions.date", &q.date),
                    ("questions.category", &q.category),
                    ("questions.urgency", &q.urgency),
                    ("questions.reporter_id", &q.reporter_id),
                    ("questions.contact", &q.contact),
                    ("questions.language", &q.language),
                    ("questions.gps", &q.gps),
                ]
                .into_iter()
                .filter_map(|(k, v)| v.clone().map(|v| (k, v))),
            )
            .collect();
        for (key, name) in named {
            if !form.has_question(last_segment(&name)) {
                return Err(KoboError::Mapping {
                    key: key.to_string(),
                    reason: format!("`{name}` is not a question of the XLSForm"),
                });
            }
        }
        self.xlsform = Some(form);
        Ok(self)
    }
}

/// One rejected row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    /// 1-based line in the CSV file (or row in the XLSX sheet) where the row starts.
    pub line: u64,
    pub uuid: Option<String>,
    /// The export's column name, or the report field when no column is involved.
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, {}: {}", self.line, self.field, self.reason)
    }
}

/// What an import did.
#[derive(Debug, Default)]
pub struct KoboImport {
    /// Data rows read.
    pub rows: usize,
    /// New reports, in file order.
    pub reports: Vec<Report>,
    /// Uuids of the new reports (same order), to record in the store.
    pub new_uuids: Vec<String>,
    /// Uuids already known (or repeated within the file): nothing done.
    pub already_seen: Vec<String>,
    pub rejected: Vec<RowError>,
}

/// Column positions of every mapped question, resolved once per file.
#[derive(Debug)]
struct Columns {
    headers: Vec<String>,
    text: Vec<usize>,
    place: Option<usize>,
    area: Option<usize>,
    date: Option<usize>,
    category: Option<usize>,
    urgency: Option<usize>,
    reporter_id: Option<usize>,
    contact: Option<usize>,
    language: Option<usize>,
    uuid: usize,
    submission_time: Option<usize>,
    gps: Gps,
}

#[derive(Debug)]
enum Gps {
    None,
    Pair(usize, usize),
    /// "lat lon alt acc" (ODK geopoint) or "[lat, lon]" (`_geolocation`).
    Combined(usize),
}

/// The header as KoBo wrote it: BOM and R's `X.U.FEFF.` removed, R's `X_`
/// prefix on metadata columns turned back into `_`.
fn clean_header(raw: &str) -> String {
    let h = raw.trim().trim_start_matches('\u{feff}');
    let h = h.strip_prefix("X.U.FEFF.").unwrap_or(h);
    const META: [&str; 11] = [
        "uuid",
        "id",
        "submission_time",
        "index",
        "notes",
        "status",
        "submitted_by",
        "geolocation",
        "validation_status",
        "tags",
        "version",
    ];
    if let Some(rest) = h.strip_prefix("X_")
        && META.contains(&rest)
    {
        return format!("_{rest}");
    }
    h.to_string()
}

/// Group separators `/`, `.` and `:` are the same.
fn canonical(path: &str) -> String {
    path.trim().replace(['.', ':'], "/")
}

fn last_segment(path: &str) -> &str {
    path.rsplit(['/', '.', ':']).next().unwrap_or(path)
}

impl Columns {
    fn resolve(raw_headers: &[String], m: &KoboMapping, file: &str) -> Result<Columns, KoboError> {
        let headers: Vec<String> = raw_headers.iter().map(|h| clean_header(h)).collect();
        let find = |key: &str, name: &str| find_column(&headers, key, name);
        let optional = |key: &str, name: &Option<String>| -> Result<Option<usize>, KoboError> {
            name.as_deref().filter(|n| !n.trim().is_empty()).map(|n| find(key, n)).transpose()
        };
        let q = &m.questions;
        let text = q
            .text
            .names()
            .iter()
            .filter(|n| !n.trim().is_empty())
            .map(|n| find("questions.text", n))
            .collect::<Result<Vec<_>, _>>()?;
        let uuid = ["_uuid", "meta/instanceID", "instanceID", "meta:instanceID"]
            .iter()
            .find_map(|n| headers.iter().position(|h| canonical(h) == canonical(n)))
            .or_else(|| headers.iter().position(|h| h == "_id"))
            .ok_or_else(|| KoboError::Export {
                file: file.to_string(),
                reason: "no `_uuid`, `meta/instanceID` or `_id` column: export with the submission uuid so that re-import can skip known rows".into(),
            })?;
        let submission_time = headers.iter().position(|h| h == "_submission_time");
        let gps = resolve_gps(&headers, q.gps.as_deref())?;
        Ok(Columns {
            text,
            place: optional("questions.place", &q.place)?,
            area: optional("questions.area", &q.area)?,
            date: optional("questions.date", &q.date)?,
            category: optional("questions.category", &q.category)?,
            urgency: optional("questions.urgency", &q.urgency)?,
            reporter_id: optional("questions.reporter_id", &q.reporter_id)?,
            contact: optional("questions.contact", &q.contact)?,
            language: optional("questions.language", &q.language)?,
            uuid,
            submission_time,
            gps,
            headers,
        })
    }
}

/// The column for a mapped question: same full path (any separator), else
/// the only column whose last segment is the question's name.
fn find_column(headers: &[String], key: &str, name: &str) -> Result<usize, KoboError> {
    let wanted = canonical(name);
    if let Some(i) = headers.iter().position(|h| canonical(h) == wanted) {
        return Ok(i);
    }
    let matches: Vec<usize> = (0..headers.len()).filter(|&i| last_segment(&headers[i]) == last_segment(name)).collect();
    match matches.as_slice() {
        [i] => Ok(*i),
        [] => Err(KoboError::Mapping {
            key: key.to_string(),
            reason: format!("no column `{name}` in the export{}", similar_columns(headers, name)),
        }),
        many => Err(KoboError::Mapping {
            key: key.to_string(),
            reason: format!(
                "`{name}` matches several columns ({}); write the full group path",
                many.iter().map(|&i| headers[i].as_str()).collect::<Vec<_>>().join(", ")
            ),
        }),
    }
}

fn similar_columns(headers: &[String], name: &str) -> String {
    let stem: String = last_segment(name).chars().take(4).collect::<String>().to_lowercase();
    let similar: Vec<&str> =
        headers.iter().filter(|h| h.to_lowercase().contains(&stem)).take(5).map(String::as_str).collect();
    if similar.is_empty() { String::new() } else { format!(" (similar: {})", similar.join(", ")) }
}

fn resolve_gps(headers: &[String], mapped: Option<&str>) -> Result<Gps, KoboError> {
    let pos = |name: &str| headers.iter().position(|h| canonical(h) == canonical(name));
    if let Some(q) = mapped.filter(|q| !q.trim().is_empty()) {
        let last = last_segment(q);
        let pair_of = |prefix: &str| {
            headers
                .iter()
                .position(|h| last_segment(h) == format!("_{prefix}_latitude"))
                .zip(headers.iter().position(|h| last_segment(h) == format!("_{prefix}_longitude")))
        };
        if let Some((lat, lon)) = pair_of(last) {
            return Ok(Gps::Pair(lat, lon));
        }
        return find_column(headers, "questions.gps", q).map(Gps::Combined);
    }
    if let Some(i) = pos("_geolocation") {
        return Ok(Gps::Combined(i));
    }
    for (i, h) in headers.iter().enumerate() {
        let seg = last_segment(h);
        if let Some(prefix) = seg.strip_suffix("_latitude").filter(|p| p.starts_with('_')) {
            let lon = format!("{prefix}_longitude");
            if let Some(j) = headers.iter().position(|h2| last_segment(h2) == lon) {
                return Ok(Gps::Pair(i, j));
            }
        }
    }
    Ok(Gps::None)
}

/// A cell as text: R's and pandas' missing markers read as empty.
fn cell<'r>(row: &'r [&'r str], i: usize) -> Option<&'r str> {
    let v = row.get(i)?.trim();
    (!v.is_empty() && !matches!(v, "NA" | "N/A" | "n/a" | "NaN" | "nan" | "null")).then_some(v)
}

/// Reads "lat lon [alt acc]", "lat,lon" or "[lat, lon]".
fn parse_point(raw: &str) -> Result<(f64, f64), String> {
    let inner = raw.trim().trim_start_matches('[').trim_end_matches(']');
    let mut parts = inner.split([' ', ',', ';']).filter(|p| !p.is_empty());
    let bad = || format!("`{raw}` is not a GPS point: expected \"latitude longitude altitude accuracy\"");
    let lat: f64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let lon: f64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    Ok((lat, lon))
}

struct RowContext<'a> {
    mapping: &'a KoboMapping,
    intake: &'a Intake,
    columns: &'a Columns,
    now: Timestamp,
}

enum RowOutcome {
    Report(Box<Report>),
    Rejected(RowError),
}

impl RowContext<'_> {
    fn row(&self, line: u64, uuid: &str, row: &[&str]) -> RowOutcome {
        match self.draft(line, uuid, row) {
            Err(e) => RowOutcome::Rejected(e),
            Ok(draft) => {
                let channel = Channel::Kobo { form: self.mapping.form.clone() };
                match self.intake.accept(&draft, channel, self.now) {
                    Ok(report) => RowOutcome::Report(Box::new(report)),
                    Err(invalid) => {
                        let first = &invalid.errors[0];
                        let all: Vec<String> = invalid.errors.iter().map(|e| e.to_string()).collect();
                        RowOutcome::Rejected(RowError {
                            line,
                            uuid: Some(uuid.to_string()),
                            field: self.column_for(first.field),
                            reason: all.join("; "),
                        })
                    }
                }
            }
        }
    }

    /// The export column behind a report field, for error messages.
    fn column_for(&self, field: &str) -> String {
        let c = self.columns;
        let idx = match field {
            "text" => c.text.first().copied(),
            "place_name" => c.place,
            "area_pcode" => c.area,
            "event_time" => c.date,
            "category" => c.category,
            "urgency" => c.urgency,
            "reporter_id" => c.reporter_id,
            "contact" => c.contact,
            "language" => c.language,
            "latitude" | "longitude" => match c.gps {
                Gps::Pair(a, _) | Gps::Combined(a) => Some(a),
                Gps::None => None,
            },
            _ => None,
        };
        idx.map(|i| c.headers[i].clone()).unwrap_or_else(|| field.to_string())
    }

    fn draft(&self, line: u64, uuid: &str, row: &[&str]) -> Result<ReportDraft, RowError> {
        let c = self.columns;
        let m = self.mapping;
        let err = |i: usize, reason: String| RowError {
            line,
            uuid: Some(uuid.to_string()),
            field: c.headers[i].clone(),
            reason,
        };
        let text: Vec<String> = c
            .text
            .iter()
            .filter_map(|&i| cell(row, i).map(|v| (i, v)))
            .map(|(i, v)| match (&m.xlsform, &m.labels) {
                (Some(form), Some(lang)) => form.answer_text(last_segment(&c.headers[i]), v, lang),
                _ => v.to_string(),
            })
            .collect();
        let (latitude, longitude) = match c.gps {
            Gps::None => (None, None),
            Gps::Pair(a, b) => match (cell(row, a), cell(row, b)) {
                (Some(x), Some(y)) => {
                    let lat = x.parse::<f64>().map_err(|_| err(a, format!("`{x}` is not a latitude")))?;
                    let lon = y.parse::<f64>().map_err(|_| err(b, format!("`{y}` is not a longitude")))?;
                    (Some(lat), Some(lon))
                }
                _ => (None, None),
            },
            Gps::Combined(i) => match cell(row, i) {
                Some(v) => {
                    let (lat, lon) = parse_point(v).map_err(|reason| err(i, reason))?;
                    (Some(lat), Some(lon))
                }
                None => (None, None),
            },
        };
        let received_at = match c.submission_time.and_then(|i| cell(row, i).map(|v| (i, v))) {
            Some((i, v)) => Some(parse_time(v).map_err(|reason| err(i, reason))?),
            None => None,
        };
        let get = |i: Option<usize>| i.and_then(|i| cell(row, i)).map(str::to_string);
        let category =
            get(c.category).map(|raw| map_code(&raw, &m.category_values)).or_else(|| m.defaults.category.clone());
        let urgency =
            get(c.urgency).map(|raw| map_code(&raw, &m.urgency_values)).or_else(|| m.defaults.urgency.clone());
        Ok(ReportDraft {
            text: text.join(" | "),
            language: get(c.language).or_else(|| m.defaults.language.clone()),
            category,
            urgency,
            place_name: get(c.place),
            latitude,
            longitude,
            area_pcode: get(c.area),
            event_time: get(c.date),
            received_at,
            reporter_id: get(c.reporter_id),
            contact: get(c.contact).map(SecretString::from),
            source_id: Some(uuid.to_string()),
        })
    }
}

/// The mapped value of an answer code; for a select_multiple answer
/// ("a b c"), the first code that is mapped; else the answer as written.
fn map_code(raw: &str, values: &BTreeMap<String, String>) -> String {
    if let Some(v) = values.get(raw) {
        return v.clone();
    }
    raw.split_whitespace().find_map(|code| values.get(code)).cloned().unwrap_or_else(|| raw.to_string())
}

/// Strips `uuid:` as ODK writes it in `meta/instanceID`.
fn clean_uuid(raw: &str) -> &str {
    raw.trim().strip_prefix("uuid:").unwrap_or(raw.trim())
}

struct Importer<'a> {
    ctx: RowContext<'a>,
    known: &'a HashSet<String>,
    seen_in_file: HashSet<String>,
    out: KoboImport,
}

impl Importer<'_> {
    fn take(&mut self, line: u64, row: &[&str]) {
        self.out.rows += 1;
        let uuid = match cell(row, self.ctx.columns.uuid) {
            Some(u) => clean_uuid(u).to_string(),
            None => {
                self.out.rejected.push(RowError {
                    line,
                    uuid: None,
                    field: self.ctx.columns.headers[self.ctx.columns.uuid].clone(),
                    reason: "the submission uuid is empty".into(),
                });
                return;
            }
        };
        if self.known.contains(&uuid) || !self.seen_in_file.insert(uuid.clone()) {
            self.out.already_seen.push(uuid);
            return;
        }
        match self.ctx.row(line, &uuid, row) {
            RowOutcome::Report(r) => {
                self.out.reports.push(*r);
                self.out.new_uuids.push(uuid);
            }
            RowOutcome::Rejected(e) => {
                self.seen_in_file.remove(&uuid);
                self.out.rejected.push(e);
            }
        }
    }
}

/// The delimiter of a CSV export: whichever of `,`, `;` and tab occurs most
/// in the header line outside quotes.
pub fn sniff_delimiter(data: &[u8]) -> u8 {
    let line_end = memchr::memchr(b'\n', data).unwrap_or(data.len());
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in &data[..line_end] {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// Imports a CSV export (`,`, `;` or tab separated, UTF-8, BOM allowed).
/// `known` holds the uuids already imported for this form.
pub fn import_csv(
    data: &[u8],
    file: &str,
    mapping: &KoboMapping,
    intake: &Intake,
    known: &HashSet<String>,
    now: Timestamp,
) -> Result<KoboImport, KoboError> {
    let data = data.strip_prefix("\u{feff}".as_bytes()).unwrap_or(data);
    let mut reader =
        csv::ReaderBuilder::new().delimiter(sniff_delimiter(data)).flexible(true).has_headers(true).from_reader(data);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| KoboError::Export {
            file: file.to_string(),
            reason: format!("the header line is unreadable: {e}"),
        })?
        .iter()
        .map(str::to_string)
        .collect();
    let columns = Columns::resolve(&headers, mapping, file)?;
    let mut importer = Importer {
        ctx: RowContext { mapping, intake, columns: &columns, now },
        known,
        seen_in_file: HashSet::new(),
        out: KoboImport::default(),
    };
    let mut record = csv::ByteRecord::new();
    let mut lines = LineCounter::default();
    loop {
        let line = lines.line_at(data, reader.position().byte());
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                importer.out.rows += 1;
                importer.out.rejected.push(RowError { line, uuid: None, field: "(row)".into(), reason: e.to_string() });
                continue;
            }
        }
        let line = record.position().map(|p| lines.line_at(data, p.byte())).unwrap_or(line);
        let mut fields: Vec<&str> = Vec::with_capacity(headers.len());
        let mut bad_utf8 = None;
        for (i, f) in record.iter().enumerate() {
            match std::str::from_utf8(f) {
                Ok(s) => fields.push(s),
                Err(_) => {
                    bad_utf8.get_or_insert(i);
                    fields.push("");
                }
            }
        }
        if let Some(i) = bad_utf8 {
            importer.out.rows += 1;
            let field = columns.headers.get(i).cloned().unwrap_or_else(|| format!("column {}", i + 1));
            importer.out.rejected.push(RowError {
                line,
                uuid: None,
                field,
                reason: "not valid UTF-8: export the data as UTF-8".into(),
            });
            continue;
        }
        importer.take(line, &fields);
    }
    Ok(importer.out)
}

/// Physical line of a byte offset, counted with memchr as the reader
/// advances (the csv crate's own line numbers are one short on CRLF files).
#[derive(Default)]
struct LineCounter {
    offset: usize,
    newlines: u64,
}

impl LineCounter {
    fn line_at(&mut self, data: &[u8], byte: u64) -> u64 {
        let mut byte = (byte as usize).min(data.len());
        // On CRLF files a record's position can point at the `\n` ending the previous line.
        if data.get(byte) == Some(&b'\n') {
            byte += 1;
        }
        if byte >= self.offset {
            self.newlines += memchr::memchr_iter(b'\n', &data[self.offset..byte]).count() as u64;
            self.offset = byte;
        }
        self.newlines + 1
    }
}

/// Imports an XLSX export (the mapping's sheet, or the first one).
pub fn import_xlsx(
    data: &[u8],
    file: &str,
    mapping: &KoboMapping,
    intake: &Intake,
    known: &HashSet<String>,
    now: Timestamp,
) -> Result<KoboImport, KoboError> {
    use calamine::Reader;
    let export_err = |reason: String| KoboError::Export { file: file.to_string(), reason };
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(data))
        .map_err(|e| export_err(format!("not a readable XLSX workbook: {e}")))?;
    let range = match &mapping.sheet {
        Some(name) => book
            .worksheet_range(name)
            .map_err(|e| export_err(format!("sheet `{name}` (sheets: {}): {e}", book.sheet_names().join(", "))))?,
        None => book
            .worksheet_range_at(0)
            .ok_or_else(|| export_err("the workbook has no sheet".into()))?
            .map_err(|e| export_err(e.to_string()))?,
    };
    let first_row = range.start().map(|(r, _)| r as u64).unwrap_or(0);
    let mut rows = range.rows();
    let headers: Vec<String> =
        rows.next().ok_or_else(|| export_err("the sheet is empty".into()))?.iter().map(cell_text).collect();
    let columns = Columns::resolve(&headers, mapping, file)?;
    let mut importer = Importer {
        ctx: RowContext { mapping, intake, columns: &columns, now },
        known,
        seen_in_file: HashSet::new(),
        out: KoboImport::default(),
    };
    for (i, row) in rows.enumerate() {
        let texts: Vec<String> = row.iter().map(cell_text).collect();
        if texts.iter().all(|t| t.is_empty()) {
            continue;
        }
        let fields: Vec<&str> = texts.iter().map(String::as_str).collect();
        // Sheet rows are 1-based and the header is the first.
        importer.take(first_row + i as u64 + 2, &fields);
    }
    Ok(importer.out)
}

/// A cell as the text a CSV export would hold.
fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data;
    match c {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => excel_serial_to_iso(d.as_f64()),
        Data::Error(e) => format!("#ERROR {e:?}"),
    }
}

/// Excel's 1900 date system: day 0 is 1899-12-30 (Excel's leap-year bug
/// makes that the origin for every date after February 1900).
fn excel_serial_to_iso(serial: f64) -> String {
    let origin = jiff::civil::date(1899, 12, 30).at(0, 0, 0, 0);
    let secs = (serial * 86_400.0).round() as i64;
    match origin.checked_add(jiff::SignedDuration::from_secs(secs)) {
        Ok(dt) if serial.fract() == 0.0 => dt.date().to_string(),
        Ok(dt) => dt.to_string(),
        Err(_) => serial.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_from_r_and_groups() {
        assert_eq!(clean_header("X.U.FEFF.start"), "start");
        assert_eq!(clean_header("X_uuid"), "_uuid");
        assert_eq!(clean_header("X_submission_time"), "_submission_time");
        assert_eq!(clean_header("X_other"), "X_other");
        assert_eq!(canonical("grp.q"), canonical("grp/q"));
        assert_eq!(canonical("grp:q"), "grp/q");
    }

    #[test]
    fn delimiters() {
        assert_eq!(sniff_delimiter(b"a;b;c\n1;2;3"), b';');
        assert_eq!(sniff_delimiter(b"a,b,\"x;y;z\"\n"), b',');
        assert_eq!(sniff_delimiter(b"a\tb\n"), b'\t');
    }

    #[test]
    fn gps_spellings() {
        assert_eq!(parse_point("4.36 18.58 350 5").unwrap(), (4.36, 18.58));
        assert_eq!(parse_point("[4.36, 18.58]").unwrap(), (4.36, 18.58));
        assert!(parse_point("somewhere").is_err());
    }

    #[test]
    fn excel_serials() {
        // 45292 = 2024-01-01 in the 1900 system; .5 = noon.
        assert_eq!(excel_serial_to_iso(45292.0), "2024-01-01");
        assert_eq!(excel_serial_to_iso(45292.5), "2024-01-01T12:00:00");
    }
}
