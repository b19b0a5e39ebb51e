//! Reading fields: text in UTF-8 or latin-1, whole numbers written as
//! floats, coordinates, dates; each failure worded for the user.

use std::borrow::Cow;
use std::collections::HashMap;

/// A field as text, trimmed: UTF-8 when valid, else read as latin-1 (the
/// 2016 ACLED files and some HXL files are latin-1).
pub(crate) fn text(raw: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(raw) {
        Ok(s) => Cow::Borrowed(s.trim()),
        Err(_) => Cow::Owned(raw.iter().map(|&b| b as char).collect::<String>().trim().to_string()),
    }
}

/// The field as an owned string, None when blank.
pub(crate) fn opt(raw: &[u8]) -> Option<String> {
    let t = text(raw);
    (!t.is_empty()).then(|| t.into_owned())
}

/// A count such as fatalities: `3`, `3.0` (UCDP CSV writes floats). Blank is
/// None; negative, fractional or non-numeric values are errors.
pub(crate) fn whole_number(field: &str, raw: &[u8]) -> Result<Option<u64>, String> {
    let t = text(raw);
    if t.is_empty() {
        return Ok(None);
    }
    if let Ok(n) = t.parse::<u64>() {
        return Ok(Some(n));
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() && x < 0.0 => Err(format!("{field} `{t}` is negative")),
        Ok(x) if x.is_finite() && x.fract() == 0.0 && x < 1e15 => Ok(Some(x as u64)),
        _ => Err(format!("{field} `{t}` is not a whole number")),
    }
}

/// A count that must fit the event's u32.
pub(crate) fn count(field: &str, raw: &[u8]) -> Result<Option<u32>, String> {
    match whole_number(field, raw)? {
        Some(n) => u32::try_from(n).map(Some).map_err(|_| format!("{field} `{n}` is too large to be a count")),
        None => Ok(None),
    }
}

/// A latitude or longitude in decimal degrees within `-limit..=limit`.
pub(crate) fn coordinate(field: &str, raw: &[u8], limit: f64) -> Result<Option<f64>, String> {
    let t = text(raw);
    if t.is_empty() {
        return Ok(None);
    }
    let x: f64 = t.parse().map_err(|_| format!("{field} `{t}` is not a number in decimal degrees"))?;
    if !x.is_finite() || x.abs() > limit {
        return Err(format!("{field} {t} is outside -{limit}..{limit}"));
    }
    Ok(Some(x))
}

/// A date field, with the field name in the reason.
pub(crate) fn date(field: &str, raw: &[u8]) -> Result<jiff::civil::Date, String> {
    let t = text(raw);
    if t.is_empty() {
        return Err(format!("{field} is empty: every row needs a date"));
    }
    vitalcore_framework::parse_date(&t).map_err(|e| format!("{field} {e}"))
}

/// Column positions by lower-case name.
pub(crate) struct Header {
    pub names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Header {
    pub fn new(record: &csv::ByteRecord) -> Header {
        let names: Vec<String> = record.iter().map(|f| text(f).trim_start_matches('\u{feff}').to_string()).collect();
        let mut index = HashMap::new();
        for (i, n) in names.iter().enumerate() {
            if !n.is_empty() {
                index.entry(n.to_ascii_lowercase()).or_insert(i);
            }
        }
        Header { names, index }
    }

    pub fn get(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Positions of required columns, or a message naming the missing ones.
    pub fn require<const N: usize>(&self, names: [&str; N], what: &str) -> Result<[usize; N], String> {
        let missing: Vec<&str> = names.iter().copied().filter(|n| self.get(n).is_none()).collect();
        if !missing.is_empty() {
            return Err(format!("column(s) {} missing: {what} needs {}", missing.join(", "), names.join(", ")));
        }
        Ok(names.map(|n| self.get(n).unwrap_or_default()))
    }
}

/// Field `i` of a record, empty when the column is absent or the row short.
pub(crate) fn field(record: &csv::ByteRecord, i: Option<usize>) -> &[u8] {
    i.and_then(|i| record.get(i)).unwrap_or(b"")
}

/// Every field blank: a spacer row (`,,,,`), skipped without counting.
pub(crate) fn is_blank(record: &csv::ByteRecord) -> bool {
    record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace))
}

/// A row of HXL hashtags inside a CSV export (HDX adds one under the header):
/// skipped, not data.
pub(crate) fn is_hashtag_row(record: &csv::ByteRecord) -> bool {
    let mut any = false;
    for f in record.iter() {
        let t = text(f);
        if t.is_empty() {
            continue;
        }
        if !t.starts_with('#') {
            return false;
        }
        any = true;
    }
    any
}

/// The row's fields as strings, for a reject.
pub(crate) fn record_strings(record: &csv::ByteRecord) -> Vec<String> {
    record
        .iter()
        .map(|f| match std::str::from_utf8(f) {
            Ok(s) => s.to_string(),
            Err(_) => f.iter().map(|&b| b as char).collect(),
        })
        .collect()
}
