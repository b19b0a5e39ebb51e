//! Reading labelled messages, the crosswalk from source categories to
//! dimensions/themes, and analysts' corrections.

use std::path::Path;

use crate::error::Error;
use crate::labels::DIMENSIONS;

/// One training or evaluation message.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    /// Bit `i` set: label `i` of the label list applies.
    pub positive: u64,
    /// Bit `i` set: the source says whether label `i` applies (a crosswalk
    /// that maps no category to `political` says nothing about it).
    pub known: u64,
    /// Examples of one source row (message and its original) share a group,
    /// so that they fall in the same cross-validation fold.
    pub group: u32,
    pub weight: f32,
}

/// Which text to read from a labelled file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextColumn {
    /// One named column (`message`, `original`, ...). Rows where it is empty are skipped.
    Named(String),
    /// `message` and, where present and different, `original` as a second
    /// example with the same labels (so the model reads both languages).
    MessageAndOriginal,
}

impl std::str::FromStr for TextColumn {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "both" => TextColumn::MessageAndOriginal,
            other => TextColumn::Named(other.to_string()),
        })
    }
}

/// Labelled examples and what was left out.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub examples: Vec<Example>,
    /// Rows whose text was empty in the chosen column.
    pub skipped_empty: usize,
}

/// The fixed mapping from a data set's categories to dimensions and themes
/// (CSV with columns `category,dimension,theme`; `why` and others are ignored).
#[derive(Debug, Clone, Default)]
pub struct Crosswalk {
    /// (source category, label ids it implies)
    pub mappings: Vec<(String, Vec<String>)>,
}

impl Crosswalk {
    pub fn read(path: &Path) -> Result<Crosswalk, Error> {
        let mut reader = open_csv(path)?;
        let headers = reader.headers().map_err(|e| csv_error(path, &e))?.clone();
        let col = |name: &str| column_index(path, &headers, name);
        let (c_cat, c_dim, c_theme) = (col("category")?, col("dimension")?, col("theme")?);
        let mut crosswalk = Crosswalk::default();
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(path, &e))?;
            let line = record.position().map_or(0, |p| p.line());
            let category = record.get(c_cat).unwrap_or("").trim().to_string();
            if category.is_empty() {
                return Err(Error::Csv { path: path.into(), line, message: "the category is empty".into() });
            }
            let mut labels = Vec::new();
            let dimension = record.get(c_dim).unwrap_or("").trim();
            if !dimension.is_empty() {
                if !DIMENSIONS.contains(&dimension) {
                    return Err(Error::UnknownLabel {
                        path: path.into(),
                        line,
                        id: dimension.into(),
                        known: DIMENSIONS.join(", "),
                    });
                }
                labels.push(dimension.to_string());
            }
            let theme = record.get(c_theme).unwrap_or("").trim();
            if !theme.is_empty() {
                labels.push(theme.to_string());
            }
            crosswalk.mappings.push((category, labels));
        }
        Ok(crosswalk)
    }

    /// Distinct label ids the crosswalk can assign, in first-seen order.
    pub fn labels(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, labels) in &self.mappings {
            for l in labels {
                if !out.contains(l) {
                    out.push(l.clone());
                }
            }
        }
        out
    }
}

/// Reads a labelled CSV (text column(s) plus one 0/1 column per crosswalk
/// category). A message has a label when any category mapped to it is
/// non-zero. `labels` is the label list that bit positions refer to.
pub fn read_labelled(
    path: &Path,
    crosswalk: &Crosswalk,
    text: &TextColumn,
    labels: &[String],
) -> Result<Dataset, Error> {
    let mut reader = open_csv(path)?;
    let headers = reader.headers().map_err(|e| csv_error(path, &e))?.clone();
    let text_columns = match text {
        TextColumn::Named(name) => vec![column_index(path, &headers, name)?],
        TextColumn::MessageAndOriginal => {
            vec![column_index(path, &headers, "message")?, column_index(path, &headers, "original")?]
        }
    };
    let mut category_bits = Vec::new();
    let mut known = 0u64;
    for (category, mapped) in &crosswalk.mappings {
        let bits = label_bits(mapped, labels);
        known |= bits;
        category_bits.push((column_index(path, &headers, category)?, category.as_str(), bits));
    }
    let mut dataset = Dataset { examples: Vec::new(), skipped_empty: 0 };
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        let mut positive = 0u64;
        for &(col, category, bits) in &category_bits {
            let value = record.get(col).unwrap_or("").trim();
            match value {
                "0" | "" => {}
                v if v.parse::<u32>().is_ok() => positive |= bits,
                v => {
                    return Err(Error::BadLabelValue {
                        path: path.into(),
                        line,
                        column: category.to_string(),
                        value: v.to_string(),
                    });
                }
            }
        }
        let mut first_text: Option<&str> = None;
        for &col in &text_columns {
            let t = record.get(col).unwrap_or("").trim();
            if t.is_empty() || first_text == Some(t) {
                continue;
            }
            first_text.get_or_insert(t);
            dataset.examples.push(Example { text: t.to_string(), positive, known, group: row as u32, weight: 1.0 });
        }
        if first_text.is_none() {
            dataset.skipped_empty += 1;
        }
    }
    Ok(dataset)
}

/// Reads analysts' corrections: a CSV with columns `text,dimensions`, where
/// `dimensions` lists the dimension and theme ids that apply, separated by
/// `;` (empty: none applies). Every label is then known for that text.
pub fn read_corrections(path: &Path, labels: &[String], group_offset: u32) -> Result<Vec<Example>, Error> {
    let mut reader = open_csv(path)?;
    let headers = reader.headers().map_err(|e| csv_error(path, &e))?.clone();
    let (c_text, c_dims) = (column_index(path, &headers, "text")?, column_index(path, &headers, "dimensions")?);
    let all_known = if labels.len() == 64 { u64::MAX } else { (1u64 << labels.len()) - 1 };
    let mut out = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        let text = record.get(c_text).unwrap_or("").trim();
        if text.is_empty() {
            return Err(Error::Csv { path: path.into(), line, message: "the `text` field is empty".into() });
        }
        let mut positive = 0u64;
        for id in record.get(c_dims).unwrap_or("").split(';').map(str::trim).filter(|s| !s.is_empty()) {
            match labels.iter().position(|l| l == id) {
                Some(i) => positive |= 1 << i,
                None => {
                    return Err(Error::UnknownLabel {
                        path: path.into(),
                        line,
                        id: id.into(),
                        known: labels.join(", "),
                    });
                }
            }
        }
        out.push(Example {
            text: text.to_string(),
            positive,
            known: all_known,
            group: group_offset + row as u32,
            weight: 1.0,
        });
    }
    Ok(out)
}

fn label_bits(ids: &[String], labels: &[String]) -> u64 {
    ids.iter().filter_map(|id| labels.iter().position(|l| l == id)).fold(0, |acc, i| acc | 1 << i)
}

fn open_csv(path: &Path) -> Result<csv::Reader<std::fs::File>, Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(csv::ReaderBuilder::new().flexible(false).from_reader(file))
}

fn column_index(path: &Path, headers: &csv::StringRecord, name: &str) -> Result<usize, Error> {
    headers.iter().position(|h| h.trim() == name).ok_or_else(|| Error::MissingColumn {
        path: path.into(),
        column: name.to_string(),
        found: headers.iter().collect::<Vec<_>>().join(", "),
    })
}

fn csv_error(path: &Path, e: &csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    Error::Csv { path: path.into(), line, message: e.to_string() }
}

/// Reads one text column of a CSV (for reading unlabelled messages).
pub fn read_texts(path: &Path, column: &str) -> Result<Vec<String>, Error> {
    let mut reader = open_csv(path)?;
    let headers = reader.headers().map_err(|e| csv_error(path, &e))?.clone();
    let c = column_index(path, &headers, column)?;
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        out.push(record.get(c).unwrap_or("").to_string());
    }
    Ok(out)
}
