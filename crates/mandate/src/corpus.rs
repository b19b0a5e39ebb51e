//! Reading resolutions from files and folders (the one place with file
//! I/O): folders walked for `.xml` files, metadata taken from the
//! `data_extract/YYYY.json` lines beside them where present, a resolution
//! found twice kept once, presidential statements skipped with a note,
//! unreadable files reported.

use crate::akn::{Parsed, parse_resolution};
use crate::error::MandateError;
use crate::model::Resolution;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// What reading some files and folders gave.
#[derive(Debug, Default)]
pub struct Corpus {
    /// One per resolution number, in number order.
    pub resolutions: Vec<Resolution>,
    /// Files read but not kept, with why (duplicates, presidential statements).
    pub notes: Vec<String>,
    /// Files that could not be read.
    pub errors: Vec<MandateError>,
    /// `.xml` files seen.
    pub files: usize,
}

/// From the data extract: (agenda item, adopted under Chapter VII).
pub type ExtractRow = (Option<String>, Option<bool>);
/// Symbol -> its data extract row.
pub type ExtractTable = HashMap<String, ExtractRow>;

/// One line of `data_extract/YYYY.json` (only the fields used).
#[derive(Debug, Deserialize)]
struct ExtractLine {
    symbol: String,
    #[serde(default)]
    agenda_item_name: Option<String>,
    #[serde(default, rename = "chapter_VII")]
    chapter_vii: Option<String>,
}

#[derive(Default)]
struct Extracts {
    /// folder -> symbol -> (agenda item, chapter VII)
    by_dir: HashMap<PathBuf, ExtractTable>,
}

/// Reads every `.xml` file under each path (a folder, walked in name order,
/// or a file). An empty folder is an error; so is a path that does not exist.
pub fn read_paths(paths: &[PathBuf]) -> Result<Corpus, MandateError> {
    read_paths_with(paths, &mut |_, _| {})
}

/// [`read_paths`], calling `progress(files read so far, files)` as it goes.
pub fn read_paths_with(paths: &[PathBuf], progress: &mut dyn FnMut(usize, usize)) -> Result<Corpus, MandateError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            walk(path, &mut files)?;
            if files.len() == before {
                return Err(MandateError::Empty { path: path.display().to_string() });
            }
        } else {
            std::fs::metadata(path).map_err(|source| MandateError::Io { file: path.display().to_string(), source })?;
            files.push(path.clone());
        }
    }
    let mut corpus = Corpus { files: files.len(), ..Corpus::default() };
    let mut extracts = Extracts::default();
    let mut by_number: BTreeMap<u32, Resolution> = BTreeMap::new();
    for (done, file) in files.iter().enumerate() {
        progress(done, files.len());
        let name = file.display().to_string();
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(source) => {
                corpus.errors.push(MandateError::Io { file: name, source });
                continue;
            }
        };
        match parse_resolution(&name, &bytes) {
            Err(e) => corpus.errors.push(e),
            Ok(Parsed::Skipped { symbol, reason }) => corpus.notes.push(format!("{name}: skipped {symbol}: {reason}")),
            Ok(Parsed::Resolution(mut res)) => {
                res.source_sha256 = sha256_hex(&bytes);
                match extracts.lookup(file, res.year, &res.symbol) {
                    Ok(Some((agenda, chapter_vii))) => {
                        if agenda.is_some() {
                            res.agenda_item = agenda;
                        }
                        if let Some(c) = chapter_vii {
                            res.chapter_vii = c;
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        corpus.errors.push(e);
                        continue;
                    }
                }
                if let Some(first) = by_number.get(&res.number) {
                    corpus
                        .notes
                        .push(format!("{name}: {} already read from {}; counted once", res.symbol, first.source_file));
                } else {
                    by_number.insert(res.number, *res);
                }
            }
        }
    }
    progress(files.len(), files.len());
    corpus.resolutions = by_number.into_values().collect();
    Ok(corpus)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), MandateError> {
    let io = |source| MandateError::Io { file: dir.display().to_string(), source };
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(io)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>().map_err(io)?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "data_extract") {
                continue;
            }
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml")) {
            out.push(path);
        }
    }
    Ok(())
}

impl Extracts {
    /// The data extract's agenda item and Chapter VII for `symbol`, from the
    /// nearest `data_extract/` folder above `file`.
    fn lookup(&mut self, file: &Path, year: i32, symbol: &str) -> Result<Option<ExtractRow>, MandateError> {
        let Some(dir) = file.ancestors().skip(1).map(|a| a.join("data_extract")).find(|d| d.is_dir()) else {
            return Ok(None);
        };
        let key = dir.join(format!("{year}.json"));
        if !self.by_dir.contains_key(&key) {
            let table = match std::fs::read_to_string(&key) {
                Ok(text) => parse_extract(&key.display().to_string(), &text)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
                Err(source) => return Err(MandateError::Io { file: key.display().to_string(), source }),
            };
            self.by_dir.insert(key.clone(), table);
        }
        Ok(self.by_dir[&key].get(symbol).cloned())
    }
}

/// Parses the JSON lines of a data extract: symbol -> (agenda item, Chapter VII).
pub fn parse_extract(name: &str, text: &str) -> Result<ExtractTable, MandateError> {
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: ExtractLine = serde_json::from_str(line).map_err(|e| MandateError::Extract {
            file: name.to_string(),
            line: i + 1,
            reason: e.to_string(),
        })?;
        let chapter = row.chapter_vii.as_deref().map(str::trim).and_then(|c| match c {
            "Chapter VII" => Some(true),
            "" => Some(false),
            _ => None,
        });
        let agenda = row.agenda_item_name.map(|a| a.trim().trim_end_matches('.').to_string()).filter(|a| !a.is_empty());
        out.entry(row.symbol.trim().to_string()).or_insert((agenda, chapter));
    }
    Ok(out)
}

/// SHA-256 of `bytes`, lower-case hex.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
