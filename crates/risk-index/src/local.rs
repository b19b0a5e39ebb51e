//! A subnational (admin-area) risk index, INFORM-style: the caller supplies a
//! hazard score per area (vitalcore's threat profile), an indicator table
//! supplies vulnerability and coping capacity.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde::Serialize;

use crate::engine::Inputs;
use crate::error::Error;
use crate::tree::Tree;

/// The input id under which [`local_risk`] passes each area's hazard score.
pub const HAZARD_INPUT: &str = "hazard_score";

/// One area's scores: the root (`risk`), each output component, and the
/// inputs that were missing for it.
#[derive(Debug, Clone, Serialize)]
pub struct AreaScore {
    pub area: String,
    pub risk: Option<f64>,
    pub components: BTreeMap<String, Option<f64>>,
    pub missing_inputs: Vec<String>,
}

/// Scores every area that has indicators or a hazard score. The hazard score
/// (0-10) enters the tree as the input [`HAZARD_INPUT`].
pub fn local_risk(
    tree: &Tree,
    indicators_by_area: &BTreeMap<String, Inputs>,
    hazard_by_area: &BTreeMap<String, f64>,
) -> Vec<AreaScore> {
    let areas: BTreeSet<&String> = indicators_by_area.keys().chain(hazard_by_area.keys()).collect();
    areas
        .into_iter()
        .map(|area| {
            let mut inputs = indicators_by_area.get(area).cloned().unwrap_or_default();
            if let Some(&h) = hazard_by_area.get(area) {
                inputs.insert(HAZARD_INPUT.to_string(), h);
            }
            let eval = tree.evaluate(inputs);
            let components = tree.outputs.iter().map(|o| (o.clone(), eval.value(o))).collect();
            AreaScore {
                area: area.clone(),
                risk: eval.root(),
                components,
                missing_inputs: eval.missing_inputs(&tree.root),
            }
        })
        .collect()
}

/// An indicator table read from CSV: values per area P-code, and the cells
/// that could not be read (each with its line and column; the rest of the row is kept).
#[derive(Debug, Clone, Default)]
pub struct AreaTable {
    pub areas: BTreeMap<String, Inputs>,
    pub warnings: Vec<String>,
}

/// Reads a CSV with a P-code column and indicator columns. A column is used
/// when its header equals an input id of `tree`, or when an HXL tag row (a row
/// of `#tags` right under the header) gives it the input's `hxl` tag. The
/// P-code column is found by a header containing "pcode" (e.g. `admin1Pcode`,
/// `ADM2_PCODE`) or an HXL tag `#adm1+code` / `#adm2+code` / ...
pub fn read_area_table<R: Read>(reader: R, source_name: &str, tree: &Tree) -> Result<AreaTable, Error> {
    let wanted: Vec<(String, Option<String>)> = tree.inputs.iter().map(|i| (i.id.clone(), i.hxl.clone())).collect();
    read_table(reader, source_name, &wanted)
}

/// Reads a CSV of hazard scores per area: a P-code column and a `hazard`
/// (or `hazard_score`, or HXL `#severity`) column.
pub fn read_hazard_table<R: Read>(reader: R, source_name: &str) -> Result<BTreeMap<String, f64>, Error> {
    let wanted = vec![("hazard".to_string(), Some("#severity".to_string())), (HAZARD_INPUT.to_string(), None)];
    let table = read_table(reader, source_name, &wanted)?;
    if let Some(w) = table.warnings.first() {
        return Err(Error::Table { path: source_name.to_string(), line: 0, message: w.clone() });
    }
    Ok(table.areas.into_iter().filter_map(|(a, v)| v.get("hazard").or(v.get(HAZARD_INPUT)).map(|&h| (a, h))).collect())
}

fn normalise_tag(tag: &str) -> String {
    let mut parts: Vec<String> = tag.trim().to_lowercase().split('+').map(|s| s.trim().to_string()).collect();
    if parts.len() > 1 {
        parts[1..].sort();
    }
    parts.join("+")
}

fn is_pcode_header(h: &str) -> bool {
    h.to_lowercase().replace(['_', ' '], "").contains("pcode")
}

fn is_pcode_tag(t: &str) -> bool {
    let t = normalise_tag(t);
    t.starts_with("#adm") && t.split('+').any(|a| a == "code")
}

fn read_table<R: Read>(reader: R, source_name: &str, wanted: &[(String, Option<String>)]) -> Result<AreaTable, Error> {
    let err = |line: u64, message: String| Error::Table { path: source_name.to_string(), line, message };
    let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(reader);
    let mut records = csv.records();
    let header: Vec<String> = match records.next() {
        Some(r) => r.map_err(|e| err(1, e.to_string()))?.iter().map(|s| s.trim().to_string()).collect(),
        None => return Err(err(1, "the file is empty; expected a header row".into())),
    };
    let mut rows: Vec<(u64, csv::StringRecord)> = Vec::new();
    for (i, r) in records.enumerate() {
        rows.push((i as u64 + 2, r.map_err(|e| err(i as u64 + 2, e.to_string()))?));
    }
    let tags: Option<Vec<String>> = rows
        .first()
        .filter(|(_, r)| r.iter().any(|c| c.trim().starts_with('#')))
        .map(|(_, r)| r.iter().map(|c| c.trim().to_string()).collect());
    if tags.is_some() {
        rows.remove(0);
    }
    let tag_at = |i: usize| tags.as_ref().and_then(|t| t.get(i)).map(String::as_str).unwrap_or("");
    let pcode_col =
        (0..header.len()).find(|&i| is_pcode_header(&header[i]) || is_pcode_tag(tag_at(i))).ok_or_else(|| {
            err(
                1,
                format!(
                    "no P-code column: name one column e.g. \"admin1Pcode\" or tag it #adm1+code (columns: {})",
                    header.join(", ")
                ),
            )
        })?;
    let mut columns: Vec<(usize, String)> = Vec::new();
    for (id, hxl) in wanted {
        let found = (0..header.len()).find(|&i| {
            header[i] == *id
                || hxl.as_ref().is_some_and(|h| !tag_at(i).is_empty() && normalise_tag(tag_at(i)) == normalise_tag(h))
        });
        if let Some(i) = found {
            columns.push((i, id.clone()));
        }
    }
    let mut table = AreaTable::default();
    for (line, row) in rows {
        let pcode = row.get(pcode_col).unwrap_or("").trim();
        if pcode.is_empty() {
            table.warnings.push(format!("{source_name}, line {line}: no P-code; row skipped"));
            continue;
        }
        let entry = table.areas.entry(pcode.to_string()).or_default();
        for (i, id) in &columns {
            let cell = row.get(*i).unwrap_or("").trim();
            if cell.is_empty() {
                continue;
            }
            match cell.replace(',', "").parse::<f64>() {
                Ok(x) if x.is_finite() => {
                    entry.insert(id.clone(), x);
                }
                _ => table.warnings.push(format!(
                    "{source_name}, line {line}, column \"{}\": \"{cell}\" is not a number; treated as missing",
                    header[*i]
                )),
            }
        }
    }
    Ok(table)
}
