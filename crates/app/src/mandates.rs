//! Mandates through the human-security lens: Security Council resolutions
//! read from files, tagged with the framework's mandate tables, stored with
//! their provenance ([`import`]), a mission's mandate over time and the
//! mandate in force against the threats assessed ([`gaps`]), from files or
//! from the store ([`Resolutions`]), and the share of resolutions using a
//! term over time.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use vitalcore_framework::{Framework, Month, UnitKind};
use vitalcore_store::Store;
use vitalcore_store::mandates::{
    MandateCounts, MandateStore, MissionCount, Provenance, ResolutionFilter, StoredResolution,
};
use vitalcore_store::reports::ReportStore;

use crate::disclosure::{Audience, Months, Published, publish_count};
use vitalcore_mandate::{By, Corpus, MandateError, Tagger, Term, Trend, read_paths_with};

pub use vitalcore_mandate::{By as TrendBy, Kind, Point, Resolution, Timeline};

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
    #[error(
        "no mission in the framework's missions table works in country {code:?} (ISO 3166-1 alpha-3); known: {known}"
    )]
    UnknownCountry { code: String, known: String },
    #[error("no resolution in the {place} mandates {mission} on or before {month}: {hint}")]
    NoMandate { mission: String, month: Month, place: &'static str, hint: &'static str },
    #[error("no resolution is stored: import them with `vitalcore mandate import DIR`")]
    NothingStored,
    #[error("the threats assessed for the month")]
    Analysis(#[source] crate::analysis::AnalysisError),
    #[error(transparent)]
    Store(#[from] vitalcore_store::StoreError),
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
    read_with(paths, keep_going, &mut |_, _| {})
}

fn read_with(
    paths: &[PathBuf],
    keep_going: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Corpus, MandatesError> {
    let corpus = read_paths_with(paths, progress)?;
    if !corpus.errors.is_empty() && !keep_going {
        return Err(MandatesError::Unreadable { files: corpus.files, errors: corpus.errors });
    }
    Ok(corpus)
}

/// Reads and tags every resolution in `paths` (folders or files).
pub fn tag(fw: &Framework, paths: &[PathBuf], keep_going: bool) -> Result<Tagged, MandatesError> {
    tag_with(fw, paths, keep_going, &mut |_, _| {})
}

/// [`tag`], calling `progress(files read so far, files)` as it reads.
pub fn tag_with(
    fw: &Framework,
    paths: &[PathBuf],
    keep_going: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Tagged, MandatesError> {
    let mut corpus = read_with(paths, keep_going, progress)?;
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

/// Where the resolutions a question is answered from come from: files read
/// and tagged now, or those stored by `vitalcore mandate import`.
#[derive(Clone, Copy)]
pub enum Resolutions<'a> {
    Files(&'a [PathBuf]),
    Stored(&'a dyn MandateStore),
}

impl Resolutions<'_> {
    /// The resolutions naming `mission` (all of them from files), with notes
    /// on files skipped.
    fn naming(&self, fw: &Framework, mission: &str) -> Result<(Vec<Resolution>, Vec<String>), MandatesError> {
        match self {
            Resolutions::Files(paths) => {
                let tagged = tag(fw, paths, false)?;
                Ok((tagged.resolutions, tagged.notes))
            }
            Resolutions::Stored(store) => {
                let filter = ResolutionFilter { mission: Some(mission.to_string()), ..Default::default() };
                let stored = store.resolutions(&filter)?;
                if stored.is_empty() && store.mandate_missions()?.is_empty() {
                    return Err(MandatesError::NothingStored);
                }
                Ok((stored.into_iter().map(|s| s.resolution).collect(), Vec::new()))
            }
        }
    }

    fn no_mandate(&self, mission: &str, month: Month) -> MandatesError {
        let (place, hint) = match self {
            Resolutions::Files(_) => ("files", "give the folder holding its mandating resolutions"),
            Resolutions::Stored(_) => {
                ("database", "import its mandating resolutions with `vitalcore mandate import DIR`, or give DIR")
            }
        };
        MandatesError::NoMandate { mission: mission.to_string(), month, place, hint }
    }
}

fn known_mission<'f>(fw: &'f Framework, name: &str) -> Result<&'f vitalcore_framework::Mission, MandatesError> {
    fw.missions.iter().find(|m| m.id.eq_ignore_ascii_case(name.trim())).ok_or_else(|| {
        let known: Vec<&str> = fw.missions.iter().map(|m| m.id.as_str()).collect();
        MandatesError::UnknownMission { name: name.to_string(), known: known.join(", ") }
    })
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
    let id = known_mission(fw, mission)?.id.clone();
    let tagged = tag(fw, paths, keep_going)?;
    Ok((vitalcore_mandate::timeline(fw, &tagged.resolutions, &id), tagged.notes))
}

/// [`mission`] from files or the store.
pub fn mission_from(
    fw: &Framework,
    source: Resolutions<'_>,
    mission: &str,
) -> Result<(Timeline, Vec<String>), MandatesError> {
    let id = known_mission(fw, mission)?.id.clone();
    let (resolutions, notes) = source.naming(fw, &id)?;
    Ok((vitalcore_mandate::timeline(fw, &resolutions, &id), notes))
}

/// What importing resolutions did.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub counts: MandateCounts,
    /// Files read but not kept (duplicates, presidential statements).
    pub notes: Vec<String>,
    /// Files that could not be read (only with `keep_going`: nothing is
    /// stored otherwise).
    pub errors: Vec<String>,
    pub files: usize,
}

/// Reads and tags the resolutions in `paths` and stores them, with their
/// provenance (file, SHA-256, `at`, `by`), in one transaction: all or
/// nothing. A file that cannot be read stops the import before anything is
/// stored, unless `keep_going` (the others are stored, the unreadable
/// ones reported). Importing the same files again changes nothing.
pub fn import(
    fw: &Framework,
    store: &dyn MandateStore,
    paths: &[PathBuf],
    keep_going: bool,
    by: &str,
    at: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Imported, MandatesError> {
    let tagged = tag_with(fw, paths, keep_going, progress)?;
    let batch: Vec<(Resolution, Provenance)> = tagged
        .resolutions
        .into_iter()
        .map(|r| {
            let from = Provenance {
                file: r.source_file.clone(),
                sha256: r.source_sha256.clone(),
                imported_at: at.to_string(),
                imported_by: by.to_string(),
            };
            (r, from)
        })
        .collect();
    let counts = store.import_resolutions(&batch)?;
    Ok(Imported {
        counts,
        notes: tagged.notes,
        errors: tagged.errors.iter().map(ToString::to_string).collect(),
        files: tagged.files,
    })
}

/// The missions (of the framework's table) the resolutions in `source`
/// name, with how many name each and the first and last adoption dates.
pub fn missions(fw: &Framework, source: Resolutions<'_>) -> Result<Vec<MissionCount>, MandatesError> {
    let counts = match source {
        Resolutions::Stored(store) => store.mandate_missions()?,
        Resolutions::Files(paths) => {
            let mut by: BTreeMap<String, MissionCount> = BTreeMap::new();
            for r in tag(fw, paths, false)?.resolutions {
                for m in r.missions {
                    let c = by.entry(m.clone()).or_insert_with(|| MissionCount {
                        mission: m,
                        resolutions: 0,
                        first: r.date.clone(),
                        last: r.date.clone(),
                    });
                    c.resolutions += 1;
                    c.first = c.first.clone().min(r.date.clone());
                    c.last = c.last.clone().max(r.date.clone());
                }
            }
            by.into_values().collect()
        }
    };
    Ok(counts.into_iter().filter(|m| fw.missions.iter().any(|x| x.id == m.mission)).collect())
}

/// One resolution by number, with its provenance when stored.
pub fn resolution(
    fw: &Framework,
    source: Resolutions<'_>,
    number: u32,
) -> Result<Option<(Resolution, Option<Provenance>)>, MandatesError> {
    Ok(match source {
        Resolutions::Stored(store) => store
            .resolutions(&ResolutionFilter { number: Some(number), ..Default::default() })?
            .into_iter()
            .next()
            .map(|s: StoredResolution| (s.resolution, Some(s.provenance))),
        Resolutions::Files(paths) => {
            tag(fw, paths, false)?.resolutions.into_iter().find(|r| r.number == number).map(|r| (r, None))
        }
    })
}

/// How a dimension stands after one resolution of a timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// Some task in force covers it, first given by this resolution.
    Added,
    /// Some task in force covers it.
    InForce,
    /// Covered before this resolution, no longer.
    Dropped,
    None,
}

/// The dimensions x resolutions coverage matrix of a timeline: for each
/// dimension (framework order), how it stands after each resolution.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub resolutions: Vec<String>,
    pub rows: Vec<CoverageRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    pub dimension: String,
    pub cells: Vec<Cell>,
}

pub fn coverage(fw: &Framework, line: &Timeline) -> Coverage {
    let rows = fw
        .dimension_ids()
        .map(|d| CoverageRow {
            dimension: d.to_string(),
            cells: line
                .resolutions
                .iter()
                .map(|s| {
                    let has = |v: &[String]| v.iter().any(|x| x == d);
                    if has(&s.added.dimensions) {
                        Cell::Added
                    } else if has(&s.dimensions) {
                        Cell::InForce
                    } else if has(&s.dropped.dimensions) {
                        Cell::Dropped
                    } else {
                        Cell::None
                    }
                })
                .collect(),
        })
        .collect();
    Coverage { resolutions: line.resolutions.iter().map(|s| s.symbol.clone()).collect(), rows }
}

/// Which mission a gaps question is about: by acronym or by country code.
#[derive(Debug, Clone)]
pub enum Target {
    Mission(String),
    Country(String),
}

/// One dimension or theme threatening people in the mission's countries
/// that month.
#[derive(Debug, Clone, Serialize)]
pub struct Threat {
    /// `dimension` or `theme`.
    pub kind: String,
    pub id: String,
    /// Stored events (event data) that month, country unit.
    pub events: u64,
    /// Community reports that month, as the caller may see them.
    pub reports: Published,
    /// Highest of the country rows' scores (0-10).
    pub critical: f64,
    pub pervasive: f64,
    /// Indicator rows (HXL tables) dated that month tagged with it, and their highest severity (0-4).
    pub indicators: u64,
    pub indicator_severity: u8,
    /// Priority: the assessment's priority flag, a score in the high band
    /// (5 or more), or an indicator at severity 3 or more.
    pub priority: bool,
    /// A task of the mandate in force covers it (a dimension: a task whose
    /// primary, first-listed, dimension it is).
    pub covered: bool,
}

/// A priority threat no task of the mandate in force covers.
#[derive(Debug, Clone, Serialize)]
pub struct Uncovered {
    pub kind: String,
    pub id: String,
    /// The first later resolution in the files giving the mission (or, when
    /// none names it, any mission or body) a task covering it.
    pub later: Option<LaterResolution>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LaterResolution {
    pub symbol: String,
    pub date: String,
    pub tasks: Vec<String>,
    /// Whether its paragraphs giving the task name the mission.
    pub names_mission: bool,
    /// Whether it mandates the mission (see `vitalcore_mandate::mandates_mission`):
    /// S/RES/2177 (2014) gives public health and names UNMIL, but does not
    /// mandate it.
    pub mandates_mission: bool,
}

/// The mandate in force against the threats assessed.
#[derive(Debug, Clone, Serialize)]
pub struct Gaps {
    pub mission: String,
    pub countries: Vec<String>,
    pub month: String,
    /// The latest resolution adopted on or before the month's last day that
    /// mandates the mission (see `vitalcore_mandate::mandates_mission`).
    pub in_force: vitalcore_mandate::Step,
    pub threats: Vec<Threat>,
    pub uncovered: Vec<Uncovered>,
    /// Tasks in force none of whose dimensions or themes has an observed threat.
    pub tasks_without_threat: Vec<String>,
}

/// Resolves a target to the mission's id and its country codes.
pub fn resolve_target(fw: &Framework, target: &Target) -> Result<(String, Vec<String>), MandatesError> {
    let mission = match target {
        Target::Mission(name) => {
            fw.missions.iter().find(|m| m.id.eq_ignore_ascii_case(name.trim())).ok_or_else(|| {
                let known: Vec<&str> = fw.missions.iter().map(|m| m.id.as_str()).collect();
                MandatesError::UnknownMission { name: name.clone(), known: known.join(", ") }
            })?
        }
        Target::Country(code) => fw
            .missions
            .iter()
            .find(|m| m.country.split_whitespace().any(|c| c.eq_ignore_ascii_case(code.trim())))
            .ok_or_else(|| {
                let mut known: Vec<&str> = fw.missions.iter().flat_map(|m| m.country.split_whitespace()).collect();
                known.sort_unstable();
                known.dedup();
                MandatesError::UnknownCountry { code: code.clone(), known: known.join(", ") }
            })?,
    };
    Ok((mission.id.clone(), mission.country.split_whitespace().map(str::to_string).collect()))
}

/// The mandate in force for the target in `month` (from the resolutions in
/// `source`) against the threats stored for its countries that month: event
/// data and community reports as assessed (country unit), and indicator
/// tables. Report counts are published for `audience`.
///
/// The mandate in force is the latest resolution adopted on or before the
/// month's last day that mandates the mission (decides, extends or lists
/// its mandate, or gives it tasks), not the latest that merely names it.
pub fn gaps(
    fw: &Framework,
    store: &dyn Store,
    reports: Option<&dyn ReportStore>,
    source: Resolutions<'_>,
    target: &Target,
    month: Month,
    audience: &Audience,
) -> Result<Gaps, MandatesError> {
    let (mission, countries) = resolve_target(fw, target)?;
    let (resolutions, _) = source.naming(fw, &mission)?;
    let line = vitalcore_mandate::timeline(fw, &resolutions, &mission);
    let month_text = month.to_string();
    let in_force = line
        .resolutions
        .iter()
        .rfind(|s| s.date.get(..7).is_some_and(|m| m <= month_text.as_str()))
        .cloned()
        .ok_or_else(|| source.no_mandate(&mission, month))?;
    // A later resolution covering a threat may name any mission or body.
    let later_ones = match source {
        Resolutions::Files(_) => resolutions,
        Resolutions::Stored(store) => store
            .resolutions(&ResolutionFilter { adopted_after: Some(in_force.date.clone()), ..Default::default() })?
            .into_iter()
            .map(|s| s.resolution)
            .collect(),
    };

    // Threats observed: assessment rows of the mission's countries that month.
    let mut threats: BTreeMap<(String, String), Threat> = BTreeMap::new();
    let in_country = |iso3: &Option<String>| iso3.as_deref().is_some_and(|c| countries.iter().any(|x| x == c));
    let range = crate::analysis::Range { unit: UnitKind::Country, from: Some(month), to: Some(month) };
    let mut report_counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    // The mission's events stream into a compact table: the month's others are never kept.
    let mut mission_events = vitalcore_assess::EventTable::default().extend();
    let month_range =
        crate::analysis::for_each_in_range(store, reports, &range, vitalcore_assess::Period::Month, &mut |e| {
            if in_country(&e.place.iso3) {
                mission_events.push(e)
            }
        });
    match month_range {
        Ok(opts) => {
            let result = mission_events.finish().assess(fw, &opts);
            for r in result.rows {
                let key = (r.category_kind.clone(), r.category.clone());
                let t = threats.entry(key.clone()).or_insert_with(|| threat(&key));
                t.events += r.events;
                *report_counts.entry(key).or_default() += r.reports;
                t.critical = t.critical.max(r.critical);
                t.pervasive = t.pervasive.max(r.pervasive);
                t.priority |= r.priority || r.critical.max(r.pervasive) >= 5.0;
            }
        }
        Err(crate::analysis::AnalysisError::NoEvents) => {}
        Err(e) => return Err(MandatesError::Analysis(e)),
    }
    // Indicator tables dated that month.
    store.for_each_observation(&mut |o| {
        if !in_country(&o.place.iso3) || o.date.is_none_or(|d| Month::of(d) != month) {
            return;
        }
        let kinds =
            o.tags.dimensions.iter().map(|d| ("dimension", d)).chain(o.tags.themes.iter().map(|t| ("theme", t)));
        for (kind, id) in kinds {
            let key = (kind.to_string(), id.clone());
            let t = threats.entry(key.clone()).or_insert_with(|| threat(&key));
            t.indicators += 1;
            t.indicator_severity = t.indicator_severity.max(o.tags.severity);
            t.priority |= o.tags.severity >= 3;
        }
    })?;
    for (key, t) in &mut threats {
        let n = report_counts.get(key).copied().unwrap_or(0);
        t.reports = publish_count(n, Some(Months::month(month)), audience);
        t.covered = in_force.tasks.iter().any(|task| covers(fw, task, t));
    }
    // Framework order: dimensions, then themes.
    let order: Vec<(String, String)> = fw
        .dimension_ids()
        .map(|d| ("dimension".to_string(), d.to_string()))
        .chain(fw.theme_ids().map(|t| ("theme".to_string(), t.to_string())))
        .collect();
    let threats: Vec<Threat> = order.iter().filter_map(|k| threats.remove(k)).collect();

    let uncovered = threats
        .iter()
        .filter(|t| t.priority && !t.covered)
        .map(|t| Uncovered {
            kind: t.kind.clone(),
            id: t.id.clone(),
            later: later(fw, &later_ones, &mission, &in_force, t),
        })
        .collect();
    let observed = |kind: &str, id: &String| threats.iter().any(|t| t.kind == kind && &t.id == id);
    let tasks_without_threat = in_force
        .tasks
        .iter()
        .filter(|task| {
            fw.mandate_task(task).is_some_and(|def| {
                !def.dimensions.iter().any(|d| observed("dimension", d))
                    && !def.themes.iter().any(|t| observed("theme", t))
            })
        })
        .cloned()
        .collect();
    Ok(Gaps { mission, countries, month: month_text, in_force, threats, uncovered, tasks_without_threat })
}

/// Whether `task` covers the threat: a dimension is covered by a task whose
/// first (primary) dimension in the framework's mandate table it is, so
/// humanitarian relief (food, then health) does not cover a health threat
/// such as an epidemic, public health does; a theme by any task listing it.
fn covers(fw: &Framework, task: &str, t: &Threat) -> bool {
    fw.mandate_task(task).is_some_and(|d| {
        if t.kind == "dimension" { d.dimensions.first() == Some(&t.id) } else { d.themes.contains(&t.id) }
    })
}

fn threat(key: &(String, String)) -> Threat {
    Threat {
        kind: key.0.clone(),
        id: key.1.clone(),
        events: 0,
        reports: Published::Exact(0),
        critical: 0.0,
        pervasive: 0.0,
        indicators: 0,
        indicator_severity: 0,
        priority: false,
        covered: false,
    }
}

/// The first resolution adopted after the one in force whose operative
/// paragraphs give a task covering the threat: one naming the mission first,
/// else any.
/// Whether one of `r`'s operative paragraphs mandates `mission`.
fn mandating(fw: &Framework, r: &Resolution, mission: &str) -> bool {
    fw.missions.iter().find(|m| m.id == mission).is_some_and(|def| {
        r.paragraphs.iter().any(|p| {
            p.kind == Kind::Operative
                && p.missions.iter().any(|m| m == mission)
                && vitalcore_mandate::mandates_mission(p, def)
        })
    })
}

fn later(
    fw: &Framework,
    resolutions: &[Resolution],
    mission: &str,
    in_force: &vitalcore_mandate::Step,
    t: &Threat,
) -> Option<LaterResolution> {
    let covers = |task: &String| covers(fw, task, t);
    let mut ordered: Vec<&Resolution> = resolutions.iter().filter(|r| r.date > in_force.date).collect();
    ordered.sort_by(|a, b| (&a.date, a.number).cmp(&(&b.date, b.number)));
    let find = |names_mission: bool| {
        ordered.iter().find_map(|r| {
            let tasks: Vec<String> = r
                .paragraphs
                .iter()
                .filter(|p| p.kind == Kind::Operative && (!names_mission || p.missions.iter().any(|m| m == mission)))
                .flat_map(|p| p.tasks.iter().filter(|x| covers(x)).cloned())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            (!tasks.is_empty()).then(|| LaterResolution {
                symbol: r.symbol.clone(),
                date: r.date.clone(),
                tasks,
                names_mission,
                mandates_mission: mandating(fw, r, mission),
            })
        })
    };
    find(true).or_else(|| find(false))
}

/// One mission's mandate in force against the threats of a month, in short
/// (the situation report's "mandate coverage" section).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissionCoverage {
    pub mission: String,
    pub in_force: String,
    pub in_force_date: String,
    pub tasks: Vec<String>,
    /// Priority threats no task in force covers: (`dimension`|`theme`, id).
    pub uncovered: Vec<(String, String)>,
}

/// For every mission the stored resolutions mandate, its mandate in force
/// in `month` against the threats observed that month in its countries;
/// missions with no observed threat that month (no data for their
/// countries) or no mandate yet are left out. `None` when no resolution is
/// stored.
pub fn stored_coverage(
    fw: &Framework,
    store: &dyn Store,
    reports: Option<&dyn ReportStore>,
    mandates: &dyn MandateStore,
    month: Month,
    audience: &Audience,
) -> Result<Option<Vec<MissionCoverage>>, MandatesError> {
    let missions = missions(fw, Resolutions::Stored(mandates))?;
    if missions.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for m in missions {
        let target = Target::Mission(m.mission.clone());
        let g = match gaps(fw, store, reports, Resolutions::Stored(mandates), &target, month, audience) {
            Ok(g) => g,
            Err(MandatesError::NoMandate { .. }) => continue,
            Err(e) => return Err(e),
        };
        if g.threats.is_empty() {
            continue;
        }
        out.push(MissionCoverage {
            mission: g.mission,
            in_force: g.in_force.symbol,
            in_force_date: g.in_force.date,
            tasks: g.in_force.tasks,
            uncovered: g.uncovered.into_iter().map(|u| (u.kind, u.id)).collect(),
        });
    }
    Ok(Some(out))
}
