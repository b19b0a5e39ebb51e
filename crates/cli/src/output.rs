//! Tables as aligned text, CSV, or HXL-tagged CSV, and text made safe for
//! a terminal or a spreadsheet.
//!
//! Stored data (a report's text, a place name, a file's row) may hold
//! control characters: intake strips them now, but older data, imported
//! files and error messages quoting input may not. What is printed for a
//! person goes through [`terminal_safe`], so an ESC in a report shows as
//! `\u{1b}` instead of driving the terminal. CSV cells go through
//! `vitalcore_framework::spreadsheet_cell` (formula injection).

use anyhow::{Context as _, Result};
use std::borrow::Cow;
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use vitalcore_framework::spreadsheet_record;
use vitalcore_intake::text::is_stripped;

/// `s` with every character a terminal could act on shown as an escape
/// (`\u{1b}` for ESC, `\u{7}` for BEL, `\u{202e}` for a right-to-left
/// override): C0 and C1 controls, DEL, CR, and bidi embeddings, overrides
/// and isolates. Newlines and tabs are kept.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    escape_if(s, is_stripped)
}

/// A table cell for a terminal: as [`terminal_safe`], and newlines and tabs
/// shown as escapes too, so a cell stays on its row.
pub fn cell_safe(s: &str) -> Cow<'_, str> {
    escape_if(s, |c| c == '\n' || c == '\t' || is_stripped(c))
}

fn escape_if(s: &str, escape: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if escape(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Geojson,
    /// CSV with an HXL hashtag row under the header
    Hxl,
}

pub struct Table {
    headers: Vec<&'static str>,
    hashtags: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Columns as (header, HXL hashtag).
    pub fn new(columns: &[(&'static str, &'static str)]) -> Table {
        Table {
            headers: columns.iter().map(|c| c.0).collect(),
            hashtags: columns.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }

    pub fn render(&self, format: Format) -> Result<String> {
        match format {
            Format::Table => Ok(self.aligned()),
            Format::Hxl => self.csv(true),
            _ => self.csv(false),
        }
    }

    fn csv(&self, hxl: bool) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.headers)?;
        if hxl {
            w.write_record(&self.hashtags)?;
        }
        for r in &self.rows {
            w.write_record(spreadsheet_record(r.iter().map(String::as_str)))?;
        }
        Ok(String::from_utf8(w.into_inner().context("writing CSV")?)?)
    }

    fn aligned(&self) -> String {
        let rows: Vec<Vec<Cow<'_, str>>> = self.rows.iter().map(|r| r.iter().map(|c| cell_safe(c)).collect()).collect();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
            let parts: Vec<String> = cells.zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
            out.push_str(parts.join("  ").trim_end());
            out.push('\n');
        };
        line(&mut self.headers.iter().copied(), &mut out);
        for r in &rows {
            line(&mut r.iter().map(|c| c.as_ref()), &mut out);
        }
        out
    }
}

/// Writes to `out`, or to standard output; on a terminal, whatever the
/// format, through [`terminal_safe`] (a file or a pipe gets the data as is).
pub fn write_output(out: Option<&Path>, text: &str) -> Result<()> {
    match out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            let text = if stdout.is_terminal() { terminal_safe(text) } else { Cow::Borrowed(text) };
            // A closed pipe (`| head`) is not an error worth reporting.
            match stdout.write_all(text.as_bytes()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write to standard output"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent() {
        let raw = "red \u{1b}[31mtext\u{7}\u{0}\u{9b}2J\u{202e}kcab\r\nnext\tline";
        assert_eq!(terminal_safe(raw), "red \\u{1b}[31mtext\\u{7}\\u{0}\\u{9b}2J\\u{202e}kcab\\u{d}\nnext\tline");
        assert_eq!(cell_safe("a\nb\tc\u{1b}"), "a\\u{a}b\\u{9}c\\u{1b}");
        assert!(matches!(terminal_safe("Hommes armés à Bouca\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn tables_escape_cells_and_csv_neutralises_formulas() {
        let mut t = Table::new(&[("a", "#a"), ("b", "#b")]);
        t.row(vec!["=HYPERLINK(\"http://x.example\")".into(), "-5.2".into()]);
        t.row(vec!["x\u{1b}[2Jy".into(), "@SUM(1)".into()]);
        let table = t.render(Format::Table).unwrap();
        assert!(!table.contains('\u{1b}') && table.contains("x\\u{1b}[2Jy"), "{table}");
        let csv = t.render(Format::Csv).unwrap();
        assert_eq!(csv, "a,b\n\"'=HYPERLINK(\"\"http://x.example\"\")\",-5.2\nx\u{1b}[2Jy,'@SUM(1)\n");
    }
}
