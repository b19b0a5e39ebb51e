//! Security Council resolutions, read and tagged, as a backend persists
//! them (migration 12): each resolution with its provenance (the file, its
//! SHA-256, when and by whom it was imported), its paragraphs and their
//! points and sub-points in document order, each with its tags, and the
//! missions it addresses.
//!
//! Contract every backend keeps:
//! - a batch lands in one transaction, whole or not at all;
//! - a resolution is identified by its number; one whose content (text,
//!   metadata and tags, see [`content_hash`]) is what is stored is left
//!   alone, provenance included ("unchanged"); one whose content differs
//!   replaces the stored one, paragraphs and all ("replaced");
//! - what is read back is what was stored: the same paragraphs, points,
//!   numbers, `eId`s, tags and emphasis, in document order.

use serde::Serialize;
use vitalcore_mandate::{Kind, Paragraph, Point, Resolution};

use crate::StoreError;
use crate::forecasts::damaged;

/// Where a stored resolution came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// The file as named on import.
    pub file: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// RFC 3339.
    pub imported_at: String,
    pub imported_by: String,
}

/// A resolution as stored, with where it came from.
#[derive(Debug, Clone)]
pub struct StoredResolution {
    pub resolution: Resolution,
    pub provenance: Provenance,
}

/// What importing a batch of resolutions did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MandateCounts {
    pub new: u64,
    /// Stored before with other content (text or tags): replaced.
    pub replaced: u64,
    pub unchanged: u64,
}

/// Which resolutions to read; the default reads all.
#[derive(Debug, Clone, Default)]
pub struct ResolutionFilter {
    /// Those whose operative paragraphs name this mission (its acronym as in
    /// the framework's missions table).
    pub mission: Option<String>,
    pub number: Option<u32>,
    /// Adopted after this date (`YYYY-MM-DD`), exclusive.
    pub adopted_after: Option<String>,
}

/// A mission the stored resolutions name: how many, first and last adopted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissionCount {
    pub mission: String,
    pub resolutions: u64,
    pub first: String,
    pub last: String,
}

pub trait MandateStore: Send + Sync {
    /// Stores a batch of tagged resolutions in one transaction (see the
    /// module documentation for new, replaced and unchanged).
    fn import_resolutions(&self, batch: &[(Resolution, Provenance)]) -> Result<MandateCounts, StoreError>;

    /// The stored resolutions matching `filter`, by adoption date then number.
    fn resolutions(&self, filter: &ResolutionFilter) -> Result<Vec<StoredResolution>, StoreError>;

    /// Every mission some stored resolution names, with how many name it and
    /// the first and last adoption dates, by mission.
    fn mandate_missions(&self) -> Result<Vec<MissionCount>, StoreError>;
}

/// A fingerprint of everything stored of a resolution but its provenance:
/// metadata, paragraphs, points, tags and emphasis. Two imports of the same
/// file give the same one; new tagging tables or a corrected text another.
pub fn content_hash(res: &Resolution) -> String {
    let mut bytes = serde_json::to_vec(res).unwrap_or_default();
    for row in rows(res) {
        bytes.extend_from_slice(row.emphasis.as_bytes());
        bytes.push(b'\n');
    }
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes))
}

/// A paragraph, point or sub-point as one stored row.
#[derive(Debug, Clone, PartialEq)]
pub struct ParagraphRow {
    /// Document order within the resolution, from 0.
    pub position: i64,
    /// The position of the paragraph or point it belongs to.
    pub parent: Option<i64>,
    /// `preamble`, `operative`, `heading` or `point`.
    pub kind: &'static str,
    pub num: Option<String>,
    pub eid: String,
    pub text: String,
    /// Ids joined by commas (framework ids hold none).
    pub tasks: String,
    pub dimensions: String,
    pub themes: String,
    pub strength: Option<String>,
    pub all_necessary_means: bool,
    pub missions: String,
    /// Byte ranges `start-end` joined by commas.
    pub emphasis: String,
}

pub fn kind_text(kind: Kind) -> &'static str {
    match kind {
        Kind::Preamble => "preamble",
        Kind::Operative => "operative",
        Kind::Heading => "heading",
    }
}

/// The rows of a resolution's paragraphs and points, in document order.
pub fn rows(res: &Resolution) -> Vec<ParagraphRow> {
    let mut out = Vec::new();
    for p in &res.paragraphs {
        let position = out.len() as i64;
        out.push(ParagraphRow {
            position,
            parent: None,
            kind: kind_text(p.kind),
            num: p.num.clone(),
            eid: p.eid.clone(),
            text: p.text.clone(),
            tasks: p.tasks.join(","),
            dimensions: p.dimensions.join(","),
            themes: p.themes.join(","),
            strength: p.strength.clone(),
            all_necessary_means: p.all_necessary_means,
            missions: p.missions.join(","),
            emphasis: emphasis_text(&p.emphasis),
        });
        point_rows(&p.points, position, &mut out);
    }
    out
}

fn point_rows(points: &[Point], parent: i64, out: &mut Vec<ParagraphRow>) {
    for p in points {
        let position = out.len() as i64;
        out.push(ParagraphRow {
            position,
            parent: Some(parent),
            kind: "point",
            num: p.num.clone(),
            eid: p.eid.clone(),
            text: p.text.clone(),
            tasks: p.tasks.join(","),
            dimensions: p.dimensions.join(","),
            themes: p.themes.join(","),
            strength: p.strength.clone(),
            all_necessary_means: p.all_necessary_means,
            missions: String::new(),
            emphasis: emphasis_text(&p.emphasis),
        });
        point_rows(&p.points, position, out);
    }
}

fn emphasis_text(spans: &[(usize, usize)]) -> String {
    spans.iter().map(|(s, e)| format!("{s}-{e}")).collect::<Vec<_>>().join(",")
}

fn emphasis_of(text: &str) -> Result<Vec<(usize, usize)>, StoreError> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|span| {
            let (s, e) = span.split_once('-').ok_or_else(|| damaged(format!("emphasis `{text}`")))?;
            Ok((
                s.parse().map_err(|_| damaged(format!("emphasis `{text}`")))?,
                e.parse().map_err(|_| damaged(format!("emphasis `{text}`")))?,
            ))
        })
        .collect()
}

/// Ids joined by commas, split again.
pub fn ids(text: &str) -> Vec<String> {
    text.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// A row read back: its kind, as stored (see [`ParagraphRow`]).
#[derive(Debug, Clone)]
pub struct ReadRow {
    pub position: i64,
    pub parent: Option<i64>,
    pub kind: String,
    pub num: Option<String>,
    pub eid: String,
    pub text: String,
    pub tasks: String,
    pub dimensions: String,
    pub themes: String,
    pub strength: Option<String>,
    pub all_necessary_means: bool,
    pub missions: String,
    pub emphasis: String,
}

/// The paragraphs (with their points) of rows read back in position order.
pub fn paragraphs(rows: Vec<ReadRow>) -> Result<Vec<Paragraph>, StoreError> {
    // Each row's path: top-level paragraph index, then point indexes.
    let mut paths: std::collections::HashMap<i64, Vec<usize>> = std::collections::HashMap::new();
    let mut out: Vec<Paragraph> = Vec::new();
    for row in rows {
        let emphasis = emphasis_of(&row.emphasis)?;
        match row.parent {
            None => {
                let kind = match row.kind.as_str() {
                    "preamble" => Kind::Preamble,
                    "operative" => Kind::Operative,
                    "heading" => Kind::Heading,
                    other => return Err(damaged(format!("paragraph kind `{other}`"))),
                };
                paths.insert(row.position, vec![out.len()]);
                out.push(Paragraph {
                    num: row.num,
                    eid: row.eid,
                    kind,
                    text: row.text,
                    tasks: ids(&row.tasks),
                    dimensions: ids(&row.dimensions),
                    themes: ids(&row.themes),
                    strength: row.strength,
                    all_necessary_means: row.all_necessary_means,
                    missions: ids(&row.missions),
                    points: Vec::new(),
                    emphasis,
                });
            }
            Some(parent) => {
                let path = paths.get(&parent).cloned().ok_or_else(|| damaged(format!("point `{}`", row.eid)))?;
                let point = Point {
                    num: row.num,
                    eid: row.eid,
                    text: row.text,
                    tasks: ids(&row.tasks),
                    dimensions: ids(&row.dimensions),
                    themes: ids(&row.themes),
                    strength: row.strength,
                    all_necessary_means: row.all_necessary_means,
                    points: Vec::new(),
                    emphasis,
                };
                let mut list = &mut out[path[0]].points;
                for &i in &path[1..] {
                    list = &mut list[i].points;
                }
                let mut child = path.clone();
                child.push(list.len());
                list.push(point);
                paths.insert(row.position, child);
            }
        }
    }
    Ok(out)
}
