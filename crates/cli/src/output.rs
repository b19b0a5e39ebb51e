//! Tables as aligned text, CSV, or HXL-tagged CSV.

use anyhow::{Context as _, Result};
use std::io::Write as _;
use std::path::Path;

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
            w.write_record(r)?;
        }
        Ok(String::from_utf8(w.into_inner().context("writing CSV")?)?)
    }

    fn aligned(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
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
        for r in &self.rows {
            line(&mut r.iter().map(String::as_str), &mut out);
        }
        out
    }
}

/// Writes to `out`, or to standard output.
pub fn write_output(out: Option<&Path>, text: &str) -> Result<()> {
    match out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            match stdout.write_all(text.as_bytes()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write to standard output"),
            }
        }
    }
}
