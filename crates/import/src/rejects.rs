//! Rejected rows and the rejects file a user fixes and imports again.

use crate::error::ImportError;
use serde::Serialize;
use std::path::Path;
use vitalcore_framework::spreadsheet_record;

/// The columns appended to a rejects file. Importers ignore them, so the
/// fixed file imports like the original.
pub const REJECT_COLUMNS: [&str; 3] = ["vitalcore_line", "vitalcore_field", "vitalcore_reason"];

/// A row that could not be imported, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reject {
    pub file: String,
    /// 1-based physical line where the row starts.
    pub line: u64,
    /// The column at fault.
    pub field: String,
    /// What is wrong, in plain language.
    pub reason: String,
    /// The row's fields as read, in file order.
    pub record: Vec<String>,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, line {}, {}: {}", self.file, self.line, self.field, self.reason)
    }
}

/// Writes rejects as CSV: the original header and fields, then
/// `vitalcore_line,vitalcore_field,vitalcore_reason`. Rows are padded to the
/// header's width so the reason columns line up (fields past the header's
/// width, if any, are dropped). A header that already ends
/// with those columns (a rejects file imported again) is not extended twice.
/// Every cell is spreadsheet-safe (`vitalcore_framework::spreadsheet_cell`):
/// the file is opened in a spreadsheet to be fixed, and a row of a
/// downloaded file may hold `=HYPERLINK(...)`; such a cell gets a leading
/// `'` (plain numbers such as `-4.36` stay as they are).
pub fn write_rejects(path: &Path, header: &[String], rejects: &[Reject]) -> Result<(), ImportError> {
    let name = path.display().to_string();
    let io = |e: csv::Error| ImportError::io(&name, e);
    let base: Vec<&str> = strip_reject_columns(header);
    let mut w = csv::WriterBuilder::new().flexible(true).from_path(path).map_err(io)?;
    w.write_record(spreadsheet_record(base.iter().copied().chain(REJECT_COLUMNS))).map_err(io)?;
    for r in rejects {
        let mut fields: Vec<&str> = r.record.iter().map(String::as_str).take(base.len()).collect();
        fields.resize(base.len(), "");
        let line = r.line.to_string();
        let record = fields.iter().copied().chain([line.as_str(), r.field.as_str(), r.reason.as_str()]);
        w.write_record(spreadsheet_record(record)).map_err(io)?;
    }
    w.flush().map_err(|e| ImportError::io(&name, e))
}

fn strip_reject_columns(header: &[String]) -> Vec<&str> {
    let mut base: Vec<&str> = header.iter().map(String::as_str).collect();
    if base.len() >= 3 && base[base.len() - 3..] == REJECT_COLUMNS {
        base.truncate(base.len() - 3);
    }
    base
}
