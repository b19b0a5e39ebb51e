//! UCDP GED (Sundberg and Melander 2013; codebook v23.1), as CSV or as a
//! GeoJSON FeatureCollection of points. Both go through one row parser: a
//! GeoJSON feature becomes a row of its properties plus the point's
//! latitude and longitude.

use crate::error::ImportError;
use crate::eventcsv::{self, RowError, RowParser};
use crate::fields::{self, Header, field, opt};
use crate::place::Context;
use crate::source::Input;
use crate::{EventsRead, Format, Progress, Sink};
use vitalcore_framework::ImportFile;
use vitalcore_framework::{Event, Place, Source};

/// UCDP's names of its three types of organised violence.
pub(crate) fn violence_type_name(type_of_violence: u8) -> &'static str {
    match type_of_violence {
        1 => "State-based conflict",
        2 => "Non-state conflict",
        _ => "One-sided violence",
    }
}

pub(crate) fn read_csv(input: Input, ctx: &Context, progress: Progress, sink: Sink) -> Result<EventsRead, ImportError> {
    eventcsv::read_input(input, Format::UcdpCsv, Source::UcdpGed, ctx, progress, parser, sink)
}

/// Builds the row parser for a header; names the missing required columns.
fn parser(h: &Header) -> Result<RowParser<'_>, String> {
    let [id, date_start, tov, best] = h.require(["id", "date_start", "type_of_violence", "best"], "a UCDP GED file")?;
    let c = Optional {
        date_end: h.get("date_end"),
        civilians: h.get("deaths_civilians"),
        side_a: h.get("side_a"),
        side_b: h.get("side_b"),
        country: h.get("country"),
        adm_1: h.get("adm_1"),
        adm_2: h.get("adm_2"),
        location: h.get("where_coordinates"),
        latitude: h.get("latitude"),
        longitude: h.get("longitude"),
        precision: h.get("where_prec"),
        headline: h.get("source_headline"),
    };
    Ok(Box::new(move |rec, mut provenance, ctx| {
        let id = fields::whole_number("id", field(rec, Some(id)))
            .map_err(|e| RowError::new("id", e))?
            .ok_or_else(|| RowError::new("id", "id is empty: every UCDP GED row needs its event id"))?;
        provenance.source_id = id.to_string();
        let date =
            fields::date("date_start", field(rec, Some(date_start))).map_err(|e| RowError::new("date_start", e))?;
        let date_end = match fields::text(field(rec, c.date_end)).is_empty() {
            true => None,
            false => Some(fields::date("date_end", field(rec, c.date_end)).map_err(|e| RowError::new("date_end", e))?),
        };
        if let Some(end) = date_end.filter(|end| *end < date) {
            return Err(RowError::new("date_end", format!("date_end {end} is before date_start {date}")));
        }
        let type_of_violence = match fields::whole_number("type_of_violence", field(rec, Some(tov))) {
            Ok(Some(n @ 1..=3)) => n as u8,
            Ok(Some(n)) => {
                return Err(RowError::new("type_of_violence", format!("type_of_violence `{n}` is not 1, 2 or 3")));
            }
            Ok(None) => {
                return Err(RowError::new("type_of_violence", "type_of_violence is empty: write 1, 2 or 3"));
            }
            Err(e) => return Err(RowError::new("type_of_violence", e)),
        };
        let fatalities = fields::count("best", field(rec, Some(best)))
            .map_err(|e| RowError::new("best", e))?
            .ok_or_else(|| RowError::new("best", "best is empty: UCDP's best estimate of deaths is needed"))?;
        let civilian_fatalities = fields::count("deaths_civilians", field(rec, c.civilians))
            .map_err(|e| RowError::new("deaths_civilians", e))?;
        let mut place = Place {
            country: opt(field(rec, c.country)),
            admin1: opt(field(rec, c.adm_1)),
            admin2: opt(field(rec, c.adm_2)),
            location: opt(field(rec, c.location)),
            latitude: fields::coordinate("latitude", field(rec, c.latitude), 90.0)
                .map_err(|e| RowError::new("latitude", e))?,
            longitude: fields::coordinate("longitude", field(rec, c.longitude), 180.0)
                .map_err(|e| RowError::new("longitude", e))?,
            precision: fields::whole_number("where_prec", field(rec, c.precision))
                .map_err(|e| RowError::new("where_prec", e))?
                .and_then(|p| u8::try_from(p).ok()),
            ..Place::default()
        };
        ctx.resolve(&mut place);
        let tags = ctx.framework.tag_ucdp(type_of_violence, civilian_fatalities.unwrap_or(0));
        Ok(Event {
            provenance,
            date,
            date_end,
            place,
            event_type: violence_type_name(type_of_violence).to_string(),
            sub_event_type: None,
            actor1: opt(field(rec, c.side_a)),
            actor2: opt(field(rec, c.side_b)),
            fatalities,
            civilian_fatalities,
            civilian_targeting: false,
            notes: opt(field(rec, c.headline)),
            tags,
        })
    }))
}

struct Optional {
    date_end: Option<usize>,
    civilians: Option<usize>,
    side_a: Option<usize>,
    side_b: Option<usize>,
    country: Option<usize>,
    adm_1: Option<usize>,
    adm_2: Option<usize>,
    location: Option<usize>,
    latitude: Option<usize>,
    longitude: Option<usize>,
    precision: Option<usize>,
    headline: Option<usize>,
}

/// Reads a GeoJSON FeatureCollection of UCDP GED points. Each feature is
/// flattened to a CSV row (properties, then latitude and longitude from the
/// geometry) so that the same row parser, rejects and rejects file apply;
/// the line of each row is the line where its feature starts in the file.
pub(crate) fn read_geojson(
    input: Input,
    ctx: &Context,
    progress: Progress,
    sink: Sink,
) -> Result<EventsRead, ImportError> {
    let (name, path) = (input.name.clone(), input.path.clone());
    let (bytes, sha256) = input.read_all()?;
    let value: serde_json::Value = serde_json::from_slice(strip_bom(&bytes)).map_err(|e| ImportError::Malformed {
        file: name.clone(),
        line: e.line() as u64,
        problem: format!("not valid JSON: {e}"),
    })?;
    let features = value.get("features").and_then(|f| f.as_array()).ok_or_else(|| ImportError::MissingColumns {
        file: name.clone(),
        problem: "no `features` list: a UCDP GED GeoJSON is a FeatureCollection".into(),
    })?;
    let lines = crate::geojson_lines::feature_lines(&bytes);
    let (csv_bytes, line_of_row) = flatten(features, &lines);
    let reader = FeatureRows { csv: std::io::Cursor::new(csv_bytes), line_of_row };
    let (mut parsed, _) =
        eventcsv::read(&name, reader, Format::UcdpGeojson, Source::UcdpGed, ctx, progress, parser, sink)?;
    progress(bytes.len() as u64);
    parsed.file = ImportFile { path, sha256, ..parsed.file };
    Ok(parsed)
}

/// The flattened features as a CSV stream whose row `i` reports the line
/// where feature `i` starts in the GeoJSON file.
struct FeatureRows {
    csv: std::io::Cursor<Vec<u8>>,
    line_of_row: Vec<u64>,
}

impl std::io::Read for FeatureRows {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.csv.read(buf)
    }
}

impl eventcsv::LineOf for FeatureRows {
    fn line_of(&mut self, _start: u64, index: u64) -> u64 {
        self.line_of_row.get(index as usize).copied().unwrap_or(0)
    }
}

impl eventcsv::BytesRead for FeatureRows {
    fn bytes_read(&self) -> u64 {
        self.csv.position()
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Features as CSV: header = property names in first-seen order + latitude,
/// longitude; returns the CSV and, per row, the feature's line in the file.
fn flatten(features: &[serde_json::Value], lines: &[u64]) -> (Vec<u8>, Vec<u64>) {
    let mut keys: Vec<String> = Vec::new();
    for f in features {
        if let Some(props) = f.get("properties").and_then(|p| p.as_object()) {
            for k in props.keys() {
                if !keys.iter().any(|have| have == k) && k != "latitude" && k != "longitude" {
                    keys.push(k.clone());
                }
            }
        }
    }
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    let header = keys.iter().map(String::as_str).chain(["latitude", "longitude"]);
    let _ = w.write_record(header);
    let mut line_of_row = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let props = f.get("properties").and_then(|p| p.as_object());
        let mut row: Vec<String> =
            keys.iter().map(|k| props.and_then(|p| p.get(k)).map(json_text).unwrap_or_default()).collect();
        let (lon, lat) = point_of(f);
        row.push(lat);
        row.push(lon);
        // A feature with no properties at all still becomes a row, so it is
        // rejected (missing id) rather than silently dropped.
        if row.iter().all(String::is_empty) {
            row[0] = " ".into();
        }
        let _ = w.write_record(&row);
        line_of_row.push(lines.get(i).copied().unwrap_or(0));
    }
    (w.into_inner().unwrap_or_default(), line_of_row)
}

/// (lon, lat) as text from a Point geometry, or the `latitude`/`longitude`
/// properties when the geometry is missing.
fn point_of(feature: &serde_json::Value) -> (String, String) {
    let coords = feature.get("geometry").and_then(|g| g.get("coordinates")).and_then(|c| c.as_array());
    if let Some(c) = coords.filter(|c| c.len() >= 2) {
        return (json_text(&c[0]), json_text(&c[1]));
    }
    let props = feature.get("properties");
    let get = |k: &str| props.and_then(|p| p.get(k)).map(json_text).unwrap_or_default();
    (get("longitude"), get("latitude"))
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
