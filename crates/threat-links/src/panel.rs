//! The panel of counts per (unit, month, dimension).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

/// Counts per unit (area), month and dimension, dense: every unit has every
/// month of the panel (a unit-month without events counts 0).
#[derive(Debug, Clone, PartialEq)]
pub struct DimensionPanel {
    pub units: Vec<String>,
    /// Months in time order (e.g. "2023-01"); consecutive entries are one month apart.
    pub months: Vec<String>,
    pub dimensions: Vec<String>,
    counts: Vec<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum PanelError {
    #[error("{source_name}, line {line}: {message}")]
    Row { source_name: String, line: u64, message: String },
    #[error("{source_name}: {message}")]
    File { source_name: String, message: String },
}

impl DimensionPanel {
    /// A panel of zeros.
    pub fn zeros(units: Vec<String>, months: Vec<String>, dimensions: Vec<String>) -> Self {
        let n = units.len() * months.len() * dimensions.len();
        DimensionPanel { units, months, dimensions, counts: vec![0.0; n] }
    }

    fn index(&self, unit: usize, month: usize, dim: usize) -> usize {
        (unit * self.months.len() + month) * self.dimensions.len() + dim
    }

    pub fn get(&self, unit: usize, month: usize, dim: usize) -> f64 {
        self.counts[self.index(unit, month, dim)]
    }

    pub fn set(&mut self, unit: usize, month: usize, dim: usize, count: f64) {
        let i = self.index(unit, month, dim);
        self.counts[i] = count;
    }

    /// One unit's monthly series of one dimension.
    pub fn series(&self, unit: usize, dim: usize) -> Vec<f64> {
        (0..self.months.len()).map(|m| self.get(unit, m, dim)).collect()
    }

    /// The panel restricted to one unit.
    pub fn single_unit(&self, unit: usize) -> DimensionPanel {
        let mut p = DimensionPanel::zeros(vec![self.units[unit].clone()], self.months.clone(), self.dimensions.clone());
        for m in 0..self.months.len() {
            for d in 0..self.dimensions.len() {
                p.set(0, m, d, self.get(unit, m, d));
            }
        }
        p
    }

    /// Reads long CSV rows `unit,month,dimension,count` (header required, in
    /// any column order). Months "YYYY-MM" are completed to a gap-free range;
    /// absent unit-month-dimension cells count 0; repeated rows add up.
    pub fn from_csv<R: Read>(reader: R, source_name: &str) -> Result<DimensionPanel, PanelError> {
        let row_err =
            |line: u64, message: String| PanelError::Row { source_name: source_name.to_string(), line, message };
        let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
        let headers = rdr.headers().map_err(|e| row_err(1, e.to_string()))?.clone();
        let col = |name: &str| {
            headers.iter().position(|h| h.eq_ignore_ascii_case(name)).ok_or_else(|| PanelError::File {
                source_name: source_name.to_string(),
                message: format!(
                    "no `{name}` column; the header must name unit, month, dimension and count (found: {})",
                    headers.iter().collect::<Vec<_>>().join(", ")
                ),
            })
        };
        let (cu, cm, cd, cc) = (col("unit")?, col("month")?, col("dimension")?, col("count")?);
        let mut cells: BTreeMap<(String, String, String), f64> = BTreeMap::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i as u64 + 2;
            let rec = rec.map_err(|e| row_err(line, e.to_string()))?;
            let field = |c: usize| rec.get(c).unwrap_or("").to_string();
            let count: f64 = field(cc)
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| row_err(line, format!("count \"{}\" is not a non-negative number", field(cc))))?;
            if field(cu).is_empty() || field(cm).is_empty() || field(cd).is_empty() {
                return Err(row_err(line, "unit, month and dimension must not be empty".into()));
            }
            *cells.entry((field(cu), field(cm), field(cd))).or_default() += count;
        }
        if cells.is_empty() {
            return Err(PanelError::File { source_name: source_name.to_string(), message: "no data rows".into() });
        }
        let units: Vec<String> = cells.keys().map(|k| k.0.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let dims: Vec<String> = cells.keys().map(|k| k.2.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let seen: BTreeSet<String> = cells.keys().map(|k| k.1.clone()).collect();
        let months = complete_months(&seen).unwrap_or_else(|| seen.into_iter().collect());
        let mut panel = DimensionPanel::zeros(units, months, dims);
        let pos = |v: &[String], s: &str| v.iter().position(|x| x == s).expect("collected above");
        for ((u, m, d), c) in cells {
            let (ui, mi, di) = (pos(&panel.units, &u), pos(&panel.months, &m), pos(&panel.dimensions, &d));
            panel.set(ui, mi, di, c);
        }
        Ok(panel)
    }
}

fn parse_month(s: &str) -> Option<(i32, u32)> {
    let (y, m) = s.split_once('-')?;
    let (y, m) = (y.parse().ok()?, m.parse().ok()?);
    (1..=12).contains(&m).then_some((y, m))
}

/// All months from the first to the last, when every label is "YYYY-MM".
fn complete_months(seen: &BTreeSet<String>) -> Option<Vec<String>> {
    let parsed: Vec<(i32, u32)> = seen.iter().map(|s| parse_month(s)).collect::<Option<_>>()?;
    let (first, last) = (*parsed.iter().min()?, *parsed.iter().max()?);
    let mut out = Vec::new();
    let (mut y, mut m) = first;
    while (y, m) <= last {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fills_gaps_and_adds_repeats() {
        let text =
            "unit,month,dimension,count\nA,2023-11,food,2\nA,2024-01,food,1\nA,2024-01,food,3\nB,2023-12,health,5\n";
        let p = DimensionPanel::from_csv(text.as_bytes(), "t.csv").unwrap();
        assert_eq!(p.months, vec!["2023-11", "2023-12", "2024-01"]);
        assert_eq!(p.units, vec!["A", "B"]);
        assert_eq!(p.dimensions, vec!["food", "health"]);
        assert_eq!(p.series(0, 0), vec![2.0, 0.0, 4.0]);
        assert_eq!(p.series(1, 1), vec![0.0, 5.0, 0.0]);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let text = "unit,month,dimension,count\nA,2023-11,food,two\n";
        let e = DimensionPanel::from_csv(text.as_bytes(), "t.csv").unwrap_err().to_string();
        assert!(e.contains("t.csv, line 2") && e.contains("\"two\""), "{e}");
        let e = DimensionPanel::from_csv("unit,month,count\n".as_bytes(), "t.csv").unwrap_err().to_string();
        assert!(e.contains("no `dimension` column"), "{e}");
    }
}
