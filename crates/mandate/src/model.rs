//! What a resolution reads as: its metadata and its paragraphs, each with
//! the tags the tagger gives it. Serialised as the `vitalcore mandate tag`
//! JSON contract.

use serde::Serialize;

/// One Security Council resolution.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Resolution {
    /// `S/RES/2100 (2013)`
    pub symbol: String,
    pub number: u32,
    /// Adoption date, `YYYY-MM-DD`.
    pub date: String,
    pub year: i32,
    /// Peace operations its operative paragraphs address.
    pub missions: Vec<String>,
    /// Adopted under Chapter VII of the Charter (the data extract's field
    /// where present, else "Chapter VII" in the text).
    pub chapter_vii: bool,
    /// The agenda item (data extract where present, else the XML's).
    pub agenda_item: Option<String>,
    pub paragraphs: Vec<Paragraph>,
    /// The file it was read from (messages only).
    #[serde(skip)]
    pub source_file: String,
    /// SHA-256 of that file's bytes, hex (provenance when stored).
    #[serde(skip)]
    pub source_sha256: String,
}

/// Where a paragraph sits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Preambular (`Recalling ...`): gives no task.
    Preamble,
    /// Operative (numbered `1.`, `2.` ...).
    #[default]
    Operative,
    /// A title between paragraphs (`Protection of civilians`, `A.`).
    Heading,
}

/// A preambular or operative paragraph, or a heading.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Paragraph {
    /// As printed, without the closing dot: `16`; `null` where none is printed.
    pub num: Option<String>,
    pub eid: String,
    pub kind: Kind,
    /// Its own text (the intro of a list; points hold theirs).
    pub text: String,
    /// Task families it gives, itself or in its points.
    pub tasks: Vec<String>,
    pub dimensions: Vec<String>,
    pub themes: Vec<String>,
    /// The operative verb: the highest-ranked that gave a task, else the
    /// first (`decides`, `calls_upon`, `condemns`); `null` for preambular
    /// paragraphs and headings.
    pub strength: Option<String>,
    /// "all necessary means" (or measures) in a clause that gives tasks.
    pub all_necessary_means: bool,
    /// Peace operations it names.
    pub missions: Vec<String>,
    pub points: Vec<Point>,
    /// Byte ranges of the italic or underlined spans of `text`.
    #[serde(skip)]
    pub emphasis: Vec<(usize, usize)>,
}

/// A point or sub-point (`(a)`, `(i)`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Point {
    pub num: Option<String>,
    pub eid: String,
    pub text: String,
    pub tasks: Vec<String>,
    pub dimensions: Vec<String>,
    pub themes: Vec<String>,
    pub strength: Option<String>,
    pub all_necessary_means: bool,
    pub points: Vec<Point>,
    #[serde(skip)]
    pub emphasis: Vec<(usize, usize)>,
}

impl Resolution {
    /// Every paragraph's and point's text, in order.
    pub fn texts(&self, operative_only: bool) -> impl Iterator<Item = &str> {
        self.paragraphs
            .iter()
            .filter(move |p| !operative_only || p.kind == Kind::Operative)
            .flat_map(|p| std::iter::once(p.text.as_str()).chain(point_texts(&p.points)))
    }
}

fn point_texts(points: &[Point]) -> Box<dyn Iterator<Item = &str> + '_> {
    Box::new(points.iter().flat_map(|p| std::iter::once(p.text.as_str()).chain(point_texts(&p.points))))
}
