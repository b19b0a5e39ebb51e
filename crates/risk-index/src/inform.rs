//! INFORM Risk reproduced from the JRC workbook: raw "Indicator Data" in,
//! the four published scores (and every published component) compared.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use serde::Serialize;

use crate::engine::Inputs;
use crate::error::Error;
use crate::tree::Tree;

/// The sheet with raw indicators (one row per country, "IndicatorId" header row).
pub const INDICATOR_SHEET: &str = "Indicator Data";
/// The sheet with published scores, one row per country.
pub const SCORES_SHEET: &str = "INFORM Risk 2023 (a-z)";

/// The four headline scores: tree node id, JSON key, published column.
pub const HEADLINE: [(&str, &str, &str); 4] = [
    ("INFORM", "risk", "INFORM RISK"),
    ("HE", "hazard_exposure", "HAZARD & EXPOSURE"),
    ("VU", "vulnerability", "VULNERABILITY"),
    ("CC", "coping", "LACK OF COPING CAPACITY"),
];

/// One country's raw indicators and published values (by published column).
#[derive(Debug, Clone)]
pub struct Country {
    pub iso3: String,
    pub name: String,
    pub inputs: Inputs,
    pub published: HashMap<String, Option<f64>>,
}

#[derive(Debug, Clone)]
pub struct InformData {
    pub countries: Vec<Country>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CountryResult {
    pub iso3: String,
    pub name: String,
    pub computed: BTreeMap<String, Option<f64>>,
    pub published: BTreeMap<String, Option<f64>>,
}

/// Largest difference found for one published column.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentDiff {
    pub node: String,
    pub column: String,
    pub max_abs_diff: f64,
    pub worst_country: String,
    /// Countries where one side has a value and the other has none.
    pub presence_mismatches: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reproduction {
    pub n_countries: usize,
    pub max_abs_diff: f64,
    pub max_abs_diff_risk: f64,
    pub max_abs_diff_hazard_exposure: f64,
    pub max_abs_diff_vulnerability: f64,
    pub max_abs_diff_coping: f64,
    /// Every tree node whose label names a published column, worst first.
    pub components: Vec<ComponentDiff>,
    /// Per country (ISO3): computed and published headline scores.
    pub countries: Vec<CountryResult>,
}

impl InformData {
    /// Reads the INFORM Risk workbook (.xlsx) as the JRC publishes it.
    pub fn from_workbook(path: &Path) -> Result<InformData, Error> {
        let mut wb: Xlsx<_> = open_workbook(path)
            .map_err(|e: calamine::XlsxError| Error::Workbook { path: path.to_path_buf(), message: e.to_string() })?;
        let sheet = |wb: &mut Xlsx<_>, name: &str| -> Result<Vec<Vec<Cell>>, Error> {
            let range = wb.worksheet_range(name).map_err(|e| Error::Sheet {
                path: path.to_path_buf(),
                sheet: name.to_string(),
                message: format!("{e} (is this the INFORM Risk workbook?)"),
            })?;
            Ok(range.rows().map(|r| r.iter().map(Cell::from_data).collect()).collect())
        };
        let indicators = sheet(&mut wb, INDICATOR_SHEET)?;
        let scores = sheet(&mut wb, SCORES_SHEET)?;
        let sheet_err =
            |sheet: &str, message: String| Error::Sheet { path: path.to_path_buf(), sheet: sheet.to_string(), message };
        let inputs = read_indicator_rows(&indicators).map_err(|m| sheet_err(INDICATOR_SHEET, m))?;
        let published = read_score_rows(&scores).map_err(|m| sheet_err(SCORES_SHEET, m))?;
        Ok(join(inputs, published))
    }

    /// Reads an excerpt saved as two CSV files in the workbook's layout:
    /// indicators (`COUNTRY,ISO3,<IndicatorId>...`, "No data" for missing)
    /// and published scores (`COUNTRY,ISO3,<published column>...`).
    pub fn from_csv_excerpt(indicators: &Path, scores: &Path) -> Result<InformData, Error> {
        let read = |path: &Path| -> Result<Vec<Vec<Cell>>, Error> {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_path(path)
                .map_err(|e| Error::Table { path: path.display().to_string(), line: 0, message: e.to_string() })?;
            let mut rows = Vec::new();
            for (i, rec) in reader.records().enumerate() {
                let rec = rec.map_err(|e| Error::Table {
                    path: path.display().to_string(),
                    line: i as u64 + 1,
                    message: e.to_string(),
                })?;
                rows.push(rec.iter().map(Cell::from_text).collect());
            }
            Ok(rows)
        };
        let table_err =
            |path: &Path, message: String| Error::Table { path: path.display().to_string(), line: 0, message };
        let inputs = read_indicator_rows(&read(indicators)?).map_err(|m| table_err(indicators, m))?;
        let published = read_score_rows(&read(scores)?).map_err(|m| table_err(scores, m))?;
        Ok(join(inputs, published))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Number(f64),
    Text(String),
    Empty,
}

impl Cell {
    fn from_data(d: &Data) -> Cell {
        match d {
            Data::Float(x) => Cell::Number(*x),
            Data::Int(x) => Cell::Number(*x as f64),
            Data::String(s) => Cell::from_text(s),
            Data::Bool(b) => Cell::Number(if *b { 1.0 } else { 0.0 }),
            Data::Empty => Cell::Empty,
            other => Cell::Text(other.to_string()),
        }
    }

    fn from_text(s: &str) -> Cell {
        let t = s.trim();
        if t.is_empty() {
            Cell::Empty
        } else if let Ok(x) = t.parse::<f64>() {
            Cell::Number(x)
        } else {
            Cell::Text(t.to_string())
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Cell::Number(x) => Some(*x),
            _ => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Cell::Number(x) => x.to_string(),
            Cell::Text(s) => s.clone(),
            Cell::Empty => String::new(),
        }
    }
}

fn is_iso3(cell: Option<&Cell>) -> bool {
    matches!(cell, Some(Cell::Text(s)) if s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase()))
}

type CountryRows<T> = Vec<(String, String, T)>;

/// Finds the row naming indicator ids (first cell "IndicatorId", or "ISO3" in
/// a CSV excerpt) and reads every country row below it.
fn read_indicator_rows(rows: &[Vec<Cell>]) -> Result<CountryRows<Inputs>, String> {
    let header = rows
        .iter()
        .position(|r| matches!(r.first(), Some(Cell::Text(s)) if s == "IndicatorId") || matches!(r.get(1), Some(Cell::Text(s)) if s == "ISO3"))
        .ok_or("no row starting with \"IndicatorId\" (workbook) or with COUNTRY,ISO3 (excerpt); the indicator ids must name the columns")?;
    let ids: Vec<String> = rows[header].iter().map(Cell::text).collect();
    let mut out = Vec::new();
    for row in &rows[header + 1..] {
        if !is_iso3(row.get(1)) {
            continue;
        }
        let inputs = ids
            .iter()
            .zip(row)
            .skip(2)
            .filter(|(id, _)| !id.is_empty())
            .filter_map(|(id, c)| c.number().map(|x| (id.clone(), x)))
            .collect();
        out.push((row[1].text(), row[0].text(), inputs));
    }
    if out.is_empty() {
        return Err("no country rows (an ISO3 code in the second column) under the indicator id row".into());
    }
    Ok(out)
}

fn read_score_rows(rows: &[Vec<Cell>]) -> Result<CountryRows<HashMap<String, Option<f64>>>, String> {
    let header = rows
        .iter()
        .position(|r| r.iter().any(|c| matches!(c, Cell::Text(s) if s == "INFORM RISK")))
        .ok_or("no header row with an \"INFORM RISK\" column")?;
    let names: Vec<String> = rows[header].iter().map(Cell::text).collect();
    let mut out = Vec::new();
    for row in &rows[header + 1..] {
        if !is_iso3(row.get(1)) {
            continue;
        }
        let values = names
            .iter()
            .zip(row)
            .skip(2)
            .filter(|(n, _)| !n.is_empty())
            .map(|(n, c)| (n.clone(), c.number()))
            .collect();
        out.push((row[1].text(), row[0].text(), values));
    }
    Ok(out)
}

fn join(inputs: CountryRows<Inputs>, published: CountryRows<HashMap<String, Option<f64>>>) -> InformData {
    let mut by_iso: HashMap<String, HashMap<String, Option<f64>>> =
        published.into_iter().map(|(iso, _, p)| (iso, p)).collect();
    let countries = inputs
        .into_iter()
        .map(|(iso3, name, inputs)| {
            let published = by_iso.remove(&iso3).unwrap_or_default();
            Country { iso3, name, inputs, published }
        })
        .collect();
    InformData { countries }
}

/// Recomputes every country with `tree` and compares with the published values.
/// A country whose computed or published headline score is missing counts as
/// an infinite difference, so it cannot pass unnoticed.
pub fn reproduce(tree: &Tree, data: &InformData) -> Reproduction {
    let mut results = Vec::new();
    let mut headline_max = [0.0f64; 4];
    let labelled: Vec<(&str, &str)> =
        tree.nodes.iter().filter(|n| !n.label.is_empty()).map(|n| (n.id.as_str(), n.label.as_str())).collect();
    let mut comp: BTreeMap<&str, ComponentDiff> = BTreeMap::new();
    for country in &data.countries {
        let eval = tree.evaluate(country.inputs.clone());
        let mut computed = BTreeMap::new();
        let mut published = BTreeMap::new();
        for (k, (node, key, column)) in HEADLINE.iter().enumerate() {
            let c = eval.value(node);
            let p = country.published.get(*column).copied().flatten();
            let d = match (c, p) {
                (Some(c), Some(p)) => (c - p).abs(),
                _ => f64::INFINITY,
            };
            headline_max[k] = headline_max[k].max(d);
            computed.insert(key.to_string(), c);
            published.insert(key.to_string(), p);
        }
        for &(node, label) in &labelled {
            let Some(p) = country.published.get(label) else { continue };
            let entry = comp.entry(node).or_insert_with(|| ComponentDiff {
                node: node.to_string(),
                column: label.to_string(),
                max_abs_diff: 0.0,
                worst_country: String::new(),
                presence_mismatches: 0,
            });
            match (eval.value(node), p) {
                (Some(c), Some(p)) => {
                    let d = (c - p).abs();
                    if d > entry.max_abs_diff {
                        entry.max_abs_diff = d;
                        entry.worst_country = country.iso3.clone();
                    }
                }
                (None, None) => {}
                _ => entry.presence_mismatches += 1,
            }
        }
        results.push(CountryResult { iso3: country.iso3.clone(), name: country.name.clone(), computed, published });
    }
    let mut components: Vec<ComponentDiff> = comp.into_values().collect();
    components.sort_by(|a, b| {
        b.max_abs_diff.total_cmp(&a.max_abs_diff).then(b.presence_mismatches.cmp(&a.presence_mismatches))
    });
    Reproduction {
        n_countries: results.len(),
        max_abs_diff: headline_max.iter().copied().fold(0.0, f64::max),
        max_abs_diff_risk: headline_max[0],
        max_abs_diff_hazard_exposure: headline_max[1],
        max_abs_diff_vulnerability: headline_max[2],
        max_abs_diff_coping: headline_max[3],
        components,
        countries: results,
    }
}
