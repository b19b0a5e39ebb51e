//! Mandates through the human-security lens: Security Council resolutions
//! read from files, tagged with the framework's mandate tables, and the
//! share of resolutions using a term over time. No database needed.

use std::path::PathBuf;
use vitalcore_framework::Framework;
use vitalcore_mandate::{By, Corpus, MandateError, Tagger, Term, Timeline, Trend, read_paths};

pub use vitalcore_mandate::{By as TrendBy, Kind, Resolution};

/// Files that could not be read stop the command unless the caller asked to
/// go on; each is named with what was expected.
#[derive(Debug, thiserror::Error)]
pub enum MandatesError {
    #[error(transparent)]
    Read(#[from] MandateError),
    #[error("{} of {files} files could not be read:\n  {}", errors.len(), errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Unreadable { files: usize, errors: Vec<MandateError> },
    #[error("no mission {name:?} in the framework's missions table; known: {known}")]
    UnknownMission { name: String, known: String },
}

/// Resolutions read and tagged, with what was skipped and why.
#[derive(Debug)]
pub struct Tagged {
    pub resolutions: Vec<Resolution>,
    /// Files read but not kept: duplicates (counted once), presidential
    /// statements.
    pub notes: Vec<String>,
    /// Files that could not be read (only with `keep_going`).
    pub errors: Vec<MandateError>,
    pub files: usize,
}

fn read(paths: &[PathBuf], keep_going: bool) -> Result<Corpus, MandatesError> {
    let corpus = read_paths(paths)?;
    if !corpus.errors.is_empty() && !keep_going {
        return Err(MandatesError::Unreadable { files: corpus.files, errors: corpus.errors });
    }
    Ok(corpus)
}

/// Reads and tags every resolution in `paths` (folders or files).
pub fn tag(fw: &Framework, paths: &[PathBuf], keep_going: bool) -> Result<Tagged, MandatesError> {
    let mut corpus = read(paths, keep_going)?;
    let tagger = Tagger::new(fw);
    for res in &mut corpus.resolutions {
        tagger.tag(res);
    }
    Ok(Tagged { resolutions: corpus.resolutions, notes: corpus.notes, errors: corpus.errors, files: corpus.files })
}

/// The share of resolutions in `paths` whose text uses `term`, by year or
/// band; a resolution found twice counts once.
pub fn trend(paths: &[PathBuf], term: &str, by: By, keep_going: bool) -> Result<(Trend, Vec<String>), MandatesError> {
    let term = Term::new(term)?;
    let corpus = read(paths, keep_going)?;
    Ok((vitalcore_mandate::trend(&corpus.resolutions, &term, by), corpus.notes))
}

/// A mission's mandate over time, from the resolutions in `paths`: what each
/// added or dropped by task, dimension and theme. An unknown mission is an
/// error listing the known ones.
pub fn mission(
    fw: &Framework,
    paths: &[PathBuf],
    mission: &str,
    keep_going: bool,
) -> Result<(Timeline, Vec<String>), MandatesError> {
    if !fw.missions.iter().any(|m| m.id.eq_ignore_ascii_case(mission.trim())) {
        let known: Vec<&str> = fw.missions.iter().map(|m| m.id.as_str()).collect();
        return Err(MandatesError::UnknownMission { name: mission.to_string(), known: known.join(", ") });
    }
    let tagged = tag(fw, paths, keep_going)?;
    Ok((vitalcore_mandate::timeline(fw, &tagged.resolutions, mission.trim()), tagged.notes))
}
