//! A briefing: what a situation report (`vitalcore sitrep`, the `/sitrep`
//! page) and the dashboard (`/dashboard`) show for a period of months and
//! an optional area, gathered once from the stores and the analyses:
//!
//! - the period in three sentences, made from the figures below by fixed
//!   templates (no language model: every word can be traced to a number);
//! - the map (the stored boundaries, each area with its highest critical
//!   score) and the most threatened areas;
//! - priority threats (critical and pervasive both 5 or more) in the period
//!   and how they changed from the period of the same length before it;
//! - trends month by month per dimension and theme;
//! - early warnings for months of the period and what followed them (did
//!   the warned month see fatalities in the event data?);
//! - the alert pipeline (received, acknowledged, responded, with feedback),
//!   with median and 90th-percentile times against the deadlines, overall
//!   and per area;
//! - the forecast backtest's calibration (CRPS per model against the
//!   baselines, predicted against observed shares), from the stored run;
//! - data sources, caveats and the method in one paragraph.
//!
//! The audience is `staff` (exact figures, notes) or `public`. Every number
//! counted from community reports is made by [`crate::disclosure`] for the
//! audience here, and nowhere else: the renderers (`crates/sitrep`, the
//! server) only lay out what a [`Briefing`] holds, so a public briefing has
//! no report count of 1 to 4 and no staff note to leak.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use thiserror::Error;
use vitalcore_assess::{AssessOptions, EventTable, Period};
use vitalcore_framework::{Event, Framework, Month, Source, UnitKind};
use vitalcore_intake::report::Urgency;
use vitalcore_intake::workflow::{Alert, Deadlines, median, nearest_rank};
use vitalcore_store::forecasts::{ForecastStore, WarningFilter};
use vitalcore_store::reports::{ReportFilter, ReportStore};
use vitalcore_store::{Area, EventFilter, Store, StoreError};

pub use vitalcore_store::forecasts::WarningKind;

use crate::access::{AccessError, load_alert};
use crate::analysis::{AnalysisError, stored_community_events};
use crate::disclosure::{
    Audience, Months, Note, Published, PublishedPipeline, PublishedWarning, publish_count, publish_pipeline,
    publish_warnings,
};

/// Who a briefing is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BriefingAudience {
    /// Staff who may read every community report: exact figures and notes.
    Staff,
    /// Anyone else: community-report figures published under the one rule.
    Public,
}

impl BriefingAudience {
    /// The disclosure audience its figures are made for.
    pub fn disclosure(self) -> Audience {
        match self {
            BriefingAudience::Staff => Audience::Exact,
            BriefingAudience::Public => Audience::public(),
        }
    }

    /// The briefing a caller gets: staff only for who sees exact figures.
    pub fn for_caller(audience: &Audience, wanted: BriefingAudience) -> BriefingAudience {
        if audience.is_exact() { wanted } else { BriefingAudience::Public }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BriefingAudience::Staff => "staff",
            BriefingAudience::Public => "public",
        }
    }
}

impl FromStr for BriefingAudience {
    type Err = String;
    fn from_str(s: &str) -> Result<BriefingAudience, String> {
        match s {
            "staff" => Ok(BriefingAudience::Staff),
            "public" => Ok(BriefingAudience::Public),
            other => Err(format!("`{other}` is not an audience: use staff or public")),
        }
    }
}

impl fmt::Display for BriefingAudience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to brief on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BriefingRequest {
    pub from: Month,
    pub to: Month,
    /// An area's P-code (any case); `None`: every area (mission-wide).
    pub area: Option<String>,
    pub audience: BriefingAudience,
    /// The language it is written in: a code of [`texts::languages`] (`en`, `fr`).
    pub lang: &'static str,
}

/// Longest period a briefing covers, in months.
pub const MAX_MONTHS: i32 = 120;

/// Why a briefing could not be made. The messages name the CLI options and
/// the page's fields alike (`from`, `to`, `area`).
#[derive(Debug, Error)]
pub enum BriefingError {
    #[error("from {from} is after to {to}: give the earlier month first")]
    Reversed { from: Month, to: Month },
    #[error("the period {from} to {to} is {months} months long; a briefing covers at most {MAX_MONTHS}")]
    TooLong { from: Month, to: Month, months: i32 },
    #[error("area `{given}` is not one of the stored areas (P-codes such as {known}); `vitalcore assess` lists them")]
    UnknownArea { given: String, known: String },
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    #[error("reading the alerts")]
    Alerts(#[source] AccessError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the mandate coverage")]
    Mandates(#[source] crate::mandates::MandatesError),
}

/// Where a briefing reads from. Without a report store there are no
/// community reports or alerts; without a forecast store no warnings or
/// calibration.
pub struct Sources<'a> {
    pub events: &'a dyn Store,
    pub reports: Option<&'a dyn ReportStore>,
    pub forecasts: Option<&'a dyn ForecastStore>,
    /// Security Council resolutions stored (`vitalcore mandate import`):
    /// the mandate coverage section.
    pub mandates: Option<&'a dyn vitalcore_store::mandates::MandateStore>,
    pub framework: &'a Framework,
    pub deadlines: &'a Deadlines,
}

/// An area as a briefing names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaRef {
    pub pcode: String,
    pub name: String,
    pub level: u8,
}

/// Figures of one period for the whole scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub months: Months,
    pub events: u64,
    pub fatalities: u64,
    pub civilian_fatalities: u64,
    /// Community reports (unfounded ones left out).
    pub reports: Published,
    /// Areas with at least one event.
    pub areas_affected: usize,
}

/// One area on the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapArea {
    pub pcode: String,
    pub name: String,
    /// Polygons, each a list of rings of (longitude, latitude).
    pub polygons: Vec<Vec<Vec<[f64; 2]>>>,
    /// The highest critical score of its dimensions in the period (0: no events).
    pub critical: f64,
    pub band: String,
    /// The area asked for.
    pub selected: bool,
}

/// One of the most threatened areas.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopArea {
    pub pcode: String,
    pub name: String,
    pub events: u64,
    pub fatalities: u64,
    pub top_dimension: String,
    pub critical: f64,
    pub pervasive: f64,
    pub band: String,
}

/// How a priority threat changed from the period before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Priority now, not before.
    New,
    /// Priority in both periods.
    Continuing,
    /// Priority before, not now.
    Eased,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Continuing => "continuing",
            Change::Eased => "eased",
        }
    }
}

/// A threat (area x dimension or theme) that is, or was, a priority.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriorityThreat {
    pub pcode: String,
    pub area: String,
    pub kind: String,
    pub category: String,
    pub label: String,
    pub critical: f64,
    pub pervasive: f64,
    pub previous_critical: Option<f64>,
    pub previous_pervasive: Option<f64>,
    pub events: u64,
    pub fatalities: u64,
    pub change: Change,
}

/// One month of one dimension or theme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendMonth {
    pub month: Month,
    pub events: u64,
    pub fatalities: u64,
    pub reports: Published,
}

/// A dimension's or theme's months.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    pub kind: String,
    pub category: String,
    pub label: String,
    pub months: Vec<TrendMonth>,
    pub events: u64,
    pub fatalities: u64,
}

/// What followed a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "fatalities")]
pub enum Outcome {
    /// The warned month is in the event data: its fatalities there.
    Observed(u64),
    /// The event data does not reach the warned month yet.
    NotYetKnown,
}

/// An early warning for a month of the period, as the audience may see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WarningOutcome {
    pub warning: PublishedWarning,
    pub area: String,
    pub outcome: Outcome,
}

/// The alert pipeline of a scope over the period, exact: the counts and
/// times [`crate::disclosure::publish_pipeline`] publishes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pipeline {
    pub alerts: u64,
    pub unfounded: u64,
    pub acknowledged: u64,
    pub responded: u64,
    pub with_feedback: u64,
    /// Acknowledged (responded) within its urgency's deadline.
    pub acknowledged_on_time: u64,
    pub responded_on_time: u64,
    pub median_to_acknowledge: Option<SignedDuration>,
    pub p90_to_acknowledge: Option<SignedDuration>,
    pub median_to_respond: Option<SignedDuration>,
    pub p90_to_respond: Option<SignedDuration>,
}

impl Pipeline {
    /// The figures of `alerts`, each measured against its urgency's deadlines.
    pub fn of(alerts: &[&Alert], deadlines: &Deadlines) -> Pipeline {
        let mut to_ack = Vec::new();
        let mut to_respond = Vec::new();
        let (mut ack_on_time, mut respond_on_time) = (0, 0);
        for a in alerts {
            let d = deadlines.for_urgency(a.urgency);
            if let Some(t) = a.status().acknowledged_at.map(|t| t.duration_since(a.received_at)) {
                to_ack.push(t);
                ack_on_time += u64::from(t <= d.acknowledge);
            }
            if let Some(t) = a.status().responded_at.map(|t| t.duration_since(a.received_at)) {
                to_respond.push(t);
                respond_on_time += u64::from(t <= d.respond);
            }
        }
        to_ack.sort();
        to_respond.sort();
        Pipeline {
            alerts: alerts.len() as u64,
            unfounded: alerts.iter().filter(|a| a.status().unfounded_at.is_some()).count() as u64,
            acknowledged: to_ack.len() as u64,
            responded: to_respond.len() as u64,
            with_feedback: alerts.iter().filter(|a| !a.status().feedback.is_empty()).count() as u64,
            acknowledged_on_time: ack_on_time,
            responded_on_time: respond_on_time,
            median_to_acknowledge: median(&to_ack),
            p90_to_acknowledge: nearest_rank(&to_ack, 0.9),
            median_to_respond: median(&to_respond),
            p90_to_respond: nearest_rank(&to_respond, 0.9),
        }
    }
}

/// The deadlines of one urgency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadlineRow {
    pub urgency: String,
    pub acknowledge: SignedDuration,
    pub respond: SignedDuration,
}

/// Alerts received in the period, as the audience may see them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertSection {
    pub overall: PublishedPipeline,
    /// Per area (`None`: reports not placed in an area).
    pub areas: Vec<(Option<String>, String, PublishedPipeline)>,
    pub deadlines: Vec<DeadlineRow>,
}

/// One model's backtest skill at one horizon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSkill {
    pub model: String,
    /// A simple reference model (zero, last, conflictology, bootstrap).
    pub baseline: bool,
    pub horizon: String,
    pub crps: f64,
    /// Mean predicted P(any fatality) and the share of unit-months that had one.
    pub mean_p_any: f64,
    pub share_any: f64,
    pub n: u64,
}

/// Predicted against observed, for forecast rows whose month is now in the data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReliabilityBin {
    pub lower: f64,
    pub upper: f64,
    pub mean_predicted: f64,
    pub observed: f64,
    pub n: u64,
}

/// How far to trust the outlook: the stored run's backtest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub run_id: i64,
    pub model: String,
    pub origin: Month,
    pub best: Option<String>,
    pub skill: Vec<ModelSkill>,
    pub reliability: Vec<ReliabilityBin>,
}

/// One source of the data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceRow {
    pub source: String,
    pub events: Published,
    pub first: Option<String>,
    pub last: Option<String>,
    pub caveat: String,
}

/// Everything a situation report or the dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Briefing {
    /// The language its texts are written in (`en`, `fr`); the layout reads [`texts`] in it.
    pub lang: &'static str,
    pub title: String,
    pub generated: Timestamp,
    pub from: Month,
    pub to: Month,
    pub area: Option<AreaRef>,
    pub audience: BriefingAudience,
    pub disclosure: Note,
    pub summary: Vec<String>,
    pub totals: Totals,
    pub previous: Totals,
    pub map: Vec<MapArea>,
    pub top_areas: Vec<TopArea>,
    pub priorities: Vec<PriorityThreat>,
    pub trends: Vec<Trend>,
    pub warnings: Vec<WarningOutcome>,
    /// `None` without a report store.
    pub alerts: Option<AlertSection>,
    pub calibration: Option<Calibration>,
    pub sources: Vec<SourceRow>,
    pub caveats: Vec<String>,
    pub method: String,
    /// The last month with event data in the store (up to `to`).
    pub data_until: Option<Month>,
    /// Each mission's mandate in force in the last month against the
    /// threats observed then in its countries; `None` when no resolution
    /// is stored (the section is left out).
    pub mandates: Option<Vec<crate::mandates::MissionCoverage>>,
}

/// How many areas the top list and priorities show.
pub const TOP_AREAS: usize = 10;
pub const PRIORITIES_SHOWN: usize = 15;

/// Gathers the briefing `req` asks for from `src`; `now` stamps it.
pub fn gather(src: &Sources<'_>, req: &BriefingRequest, now: Timestamp) -> Result<Briefing, BriefingError> {
    let (from, to) = (req.from, req.to);
    if from > to {
        return Err(BriefingError::Reversed { from, to });
    }
    let len = to.index() - from.index() + 1;
    if len > MAX_MONTHS {
        return Err(BriefingError::TooLong { from, to, months: len });
    }
    let audience = req.audience.disclosure();
    let lang = req.lang;
    let areas = src.events.areas()?;
    let area = match &req.area {
        None => None,
        Some(given) => Some(find_area(&areas, given)?),
    };
    let scope = Scope { area: area.as_ref(), areas: &areas };
    let (prev_from, prev_to) = (from.plus(-len), from.plus(-1));
    let months = Months { first: from, last: to };
    let prev_months = Months { first: prev_from, last: prev_to };

    // Event data and community reports of both periods, in scope.
    let filter = EventFilter { from: Some(prev_from), to: Some(to), ..EventFilter::default() };
    let mut events: Vec<Event> = vitalcore_store::events(src.events, &filter)?;
    if let Some(reports) = src.reports {
        let within = |e: &Event| (prev_from..=to).contains(&Month::of(e.date));
        events.extend(stored_community_events(reports, &areas)?.into_iter().filter(within));
    }
    events.retain(|e| scope.holds_event(e));
    let current: Vec<&Event> = events.iter().filter(|e| Month::of(e.date) >= from).collect();
    let before: Vec<&Event> = events.iter().filter(|e| Month::of(e.date) < from).collect();
    let data_until = current.iter().filter(|e| e.provenance.source.is_event_data()).map(|e| Month::of(e.date)).max();

    let totals = totals_of(&current, months, &audience);
    let previous = totals_of(&before, prev_months, &audience);

    // Scores: one row per area and dimension or theme over each period.
    let unit = if area.as_ref().is_some_and(|a| a.level >= 2) { UnitKind::Admin2 } else { UnitKind::Admin1 };
    let level = if unit == UnitKind::Admin2 { 2 } else { 1 };
    let names: BTreeMap<String, String> = areas.iter().map(|a| (a.pcode.clone(), a.name.clone())).collect();
    let options = |f: Month, t: Month| {
        let mut o = AssessOptions::new(unit, f, t, Period::All);
        o.area_names = names.clone();
        o
    };
    let (now_opts, prev_opts) = (options(from, to), options(prev_from, prev_to));
    let table = EventTable::new(current.iter().copied());
    let now_rows = table.assess(src.framework, &now_opts);
    let prev_rows = EventTable::new(before.iter().copied()).assess(src.framework, &prev_opts);
    let summaries = table.summaries_of(&now_rows, &now_opts, level);
    let band = |score: f64| band_of(src.framework, score);

    let mut top_areas: Vec<TopArea> = summaries
        .iter()
        .filter(|s| s.events > 0)
        .map(|s| TopArea {
            pcode: s.unit_id.clone(),
            name: s.name.clone(),
            events: s.events,
            fatalities: s.fatalities,
            top_dimension: s
                .top_dimension
                .as_deref()
                .map(|d| src.framework.label(d, lang).to_string())
                .unwrap_or_default(),
            critical: s.critical,
            pervasive: s.pervasive,
            band: band(s.critical.max(s.pervasive)),
        })
        .collect();
    top_areas
        .sort_by(|a, b| (b.critical + b.pervasive).total_cmp(&(a.critical + a.pervasive)).then(a.name.cmp(&b.name)));
    top_areas.truncate(TOP_AREAS);

    let map = map_of(&areas, &summaries, area.as_ref(), &band);
    let priorities = priorities_of(src.framework, &now_rows.rows, &prev_rows.rows, lang);
    let trends = trends_of(src.framework, &current, from, to, &audience, lang);
    let warnings = match src.forecasts {
        Some(store) => warnings_of(store, &scope, &events, from, to, data_until, &audience, &names)?,
        None => Vec::new(),
    };
    let alerts = match src.reports {
        Some(store) => Some(alerts_of(store, &scope, months, src.deadlines, &audience, &names, lang)?),
        None => None,
    };
    let calibration = match src.forecasts {
        Some(store) => calibration_of(store, &events)?,
        None => None,
    };
    let sources = sources_of(&current, months, &audience, lang);
    let caveats = caveats_of(&totals, data_until, to, &audience, src.reports.is_some(), lang);
    let scope_name = area
        .as_ref()
        .map(|a| format!("{} ({})", a.name, a.pcode))
        .unwrap_or_else(|| texts::t(lang, "word.all_areas").into());
    let summary = sentences(lang, &scope_name, &totals, &previous, &top_areas, &priorities, &warnings, alerts.as_ref());
    let mandates = match src.mandates {
        Some(store) => crate::mandates::stored_coverage(src.framework, src.events, src.reports, store, to, &audience)
            .map_err(|e| match e {
            crate::mandates::MandatesError::Store(e) => BriefingError::Store(e),
            other => BriefingError::Mandates(other),
        })?,
        None => None,
    };
    Ok(Briefing {
        lang,
        title: texts::tf(lang, "title.report", &[("scope", &scope_name), ("period", &texts::period(lang, from, to))]),
        generated: now,
        from,
        to,
        area,
        audience: req.audience,
        disclosure: audience.note(),
        summary,
        totals,
        previous,
        map,
        top_areas,
        priorities,
        trends,
        warnings,
        alerts,
        calibration,
        sources,
        caveats,
        method: texts::t(lang, "method.text").to_string(),
        data_until,
        mandates,
    })
}

/// `2022-01` or `2022-01 to 2022-06`.
pub fn period_label(from: Month, to: Month) -> String {
    if from == to { from.to_string() } else { format!("{from} to {to}") }
}

fn find_area(areas: &[Area], given: &str) -> Result<AreaRef, BriefingError> {
    let wanted = given.trim();
    areas
        .iter()
        .find(|a| a.pcode.eq_ignore_ascii_case(wanted))
        .map(|a| AreaRef { pcode: a.pcode.clone(), name: a.name.clone(), level: a.level })
        .ok_or_else(|| BriefingError::UnknownArea {
            given: given.to_string(),
            known: areas.iter().take(4).map(|a| a.pcode.as_str()).collect::<Vec<_>>().join(", "),
        })
}

/// What belongs to the briefing's area (everything when none is given).
struct Scope<'a> {
    area: Option<&'a AreaRef>,
    areas: &'a [Area],
}

impl Scope<'_> {
    fn holds_event(&self, e: &Event) -> bool {
        let Some(area) = self.area else { return true };
        e.place.admin1_pcode.as_deref() == Some(area.pcode.as_str())
            || e.place.admin2_pcode.as_deref() == Some(area.pcode.as_str())
    }

    /// An area P-code (of a report, an alert or a warning): the area itself
    /// or one inside it.
    fn holds_pcode(&self, pcode: Option<&str>) -> bool {
        let Some(area) = self.area else { return true };
        let Some(p) = pcode else { return false };
        p.eq_ignore_ascii_case(&area.pcode)
            || self
                .areas
                .iter()
                .find(|a| a.pcode.eq_ignore_ascii_case(p))
                .and_then(|a| a.parent_pcode.as_deref())
                .is_some_and(|parent| parent.eq_ignore_ascii_case(&area.pcode))
    }
}

fn totals_of(events: &[&Event], months: Months, audience: &Audience) -> Totals {
    let data = || events.iter().filter(|e| e.provenance.source.is_event_data());
    let reports = events.iter().filter(|e| e.provenance.source == Source::CommunityReport).count() as u64;
    let areas: BTreeSet<&str> = data().filter_map(|e| e.place.admin1_pcode.as_deref()).collect();
    Totals {
        months,
        events: data().count() as u64,
        fatalities: data().map(|e| u64::from(e.fatalities)).sum(),
        civilian_fatalities: data().map(|e| u64::from(e.civilian_fatalities.unwrap_or(0))).sum(),
        reports: publish_count(reports, Some(months), audience),
        areas_affected: areas.len(),
    }
}

/// The framework's band for a score.
fn band_of(fw: &Framework, score: f64) -> String {
    fw.scales
        .bands
        .iter()
        .filter(|b| score >= b.min)
        .max_by(|a, b| a.min.total_cmp(&b.min))
        .map(|b| b.id.clone())
        .unwrap_or_else(|| "very-low".into())
}

fn map_of(
    areas: &[Area],
    summaries: &[vitalcore_proto::AreaSummary],
    selected: Option<&AreaRef>,
    band: &dyn Fn(f64) -> String,
) -> Vec<MapArea> {
    let scores: HashMap<&str, f64> = summaries.iter().map(|s| (s.unit_id.as_str(), s.critical)).collect();
    let level = selected.map(|a| a.level.max(1)).unwrap_or(1);
    areas
        .iter()
        .filter(|a| a.level == level)
        .filter_map(|a| {
            let polygons = polygons_of(a.geometry.as_deref()?);
            (!polygons.is_empty()).then(|| {
                let critical = scores.get(a.pcode.as_str()).copied().unwrap_or(0.0);
                MapArea {
                    pcode: a.pcode.clone(),
                    name: a.name.clone(),
                    polygons,
                    critical,
                    band: band(critical),
                    selected: selected.is_some_and(|s| s.pcode == a.pcode),
                }
            })
        })
        .collect()
}

/// The rings of a GeoJSON Polygon or MultiPolygon (other geometries: none).
pub fn polygons_of(geojson: &str) -> Vec<Vec<Vec<[f64; 2]>>> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(geojson) else { return Vec::new() };
    let ring = |r: &serde_json::Value| -> Vec<[f64; 2]> {
        r.as_array()
            .map(|pts| {
                pts.iter().filter_map(|p| Some([p.get(0)?.as_f64()?, p.get(1)?.as_f64()?])).collect::<Vec<[f64; 2]>>()
            })
            .unwrap_or_default()
    };
    let polygon = |p: &serde_json::Value| -> Vec<Vec<[f64; 2]>> {
        p.as_array().map(|rings| rings.iter().map(ring).filter(|r| r.len() >= 3).collect()).unwrap_or_default()
    };
    let coords = &value["coordinates"];
    match value["type"].as_str() {
        Some("Polygon") => vec![polygon(coords)],
        Some("MultiPolygon") => coords.as_array().map(|ps| ps.iter().map(polygon).collect()).unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn priorities_of(
    fw: &Framework,
    now: &[vitalcore_proto::AssessmentRow],
    before: &[vitalcore_proto::AssessmentRow],
    lang: &str,
) -> Vec<PriorityThreat> {
    let key = |r: &vitalcore_proto::AssessmentRow| (r.unit_id.clone(), r.category.clone());
    let before_by: HashMap<(String, String), &vitalcore_proto::AssessmentRow> =
        before.iter().map(|r| (key(r), r)).collect();
    let now_keys: BTreeSet<(String, String)> = now.iter().filter(|r| r.priority).map(key).collect();
    let threat = |r: &vitalcore_proto::AssessmentRow, change: Change, prev: Option<&vitalcore_proto::AssessmentRow>| {
        PriorityThreat {
            pcode: r.unit_id.clone(),
            area: r.unit_name.clone(),
            kind: r.category_kind.clone(),
            category: r.category.clone(),
            label: fw.label(&r.category, lang).to_string(),
            critical: r.critical,
            pervasive: r.pervasive,
            previous_critical: prev.map(|p| p.critical),
            previous_pervasive: prev.map(|p| p.pervasive),
            events: r.events,
            fatalities: r.fatalities,
            change,
        }
    };
    let mut list: Vec<PriorityThreat> = now
        .iter()
        .filter(|r| r.priority)
        .map(|r| {
            let prev = before_by.get(&key(r)).copied();
            let change = if prev.is_some_and(|p| p.priority) { Change::Continuing } else { Change::New };
            threat(r, change, prev)
        })
        .collect();
    list.sort_by(|a, b| (b.critical * b.pervasive).total_cmp(&(a.critical * a.pervasive)));
    list.truncate(PRIORITIES_SHOWN);
    // Those that eased: priority before, not now (their scores now, 0 without events).
    let now_by: HashMap<(String, String), &vitalcore_proto::AssessmentRow> = now.iter().map(|r| (key(r), r)).collect();
    let mut eased: Vec<PriorityThreat> = before
        .iter()
        .filter(|p| p.priority && !now_keys.contains(&key(p)))
        .map(|p| match now_by.get(&key(p)) {
            Some(r) => threat(r, Change::Eased, Some(p)),
            None => PriorityThreat {
                critical: 0.0,
                pervasive: 0.0,
                events: 0,
                fatalities: 0,
                ..threat(p, Change::Eased, Some(p))
            },
        })
        .collect();
    eased.sort_by(|a, b| {
        let score = |t: &PriorityThreat| t.previous_critical.unwrap_or(0.0) * t.previous_pervasive.unwrap_or(0.0);
        score(b).total_cmp(&score(a))
    });
    eased.truncate(5);
    list.extend(eased);
    list
}

fn trends_of(fw: &Framework, events: &[&Event], from: Month, to: Month, audience: &Audience, lang: &str) -> Vec<Trend> {
    let months: Vec<Month> = from.through(to).collect();
    let at = |m: Month| (m.index() - from.index()) as usize;
    // (events, fatalities, reports) per category and month.
    let mut cells: BTreeMap<&str, Vec<(u64, u64, u64)>> = BTreeMap::new();
    for e in events {
        let i = at(Month::of(e.date));
        if i >= months.len() {
            continue;
        }
        for c in e.tags.dimensions.iter().chain(&e.tags.themes) {
            let row = cells.entry(c.as_str()).or_insert_with(|| vec![(0, 0, 0); months.len()]);
            if e.provenance.source.is_event_data() {
                row[i].0 += 1;
                row[i].1 += u64::from(e.fatalities);
            } else {
                row[i].2 += 1;
            }
        }
    }
    let categories = fw.dimension_ids().map(|id| ("dimension", id)).chain(fw.theme_ids().map(|id| ("theme", id)));
    categories
        .filter_map(|(kind, id)| {
            let row = cells.get(id)?;
            Some(Trend {
                kind: kind.into(),
                category: id.into(),
                label: fw.label(id, lang).to_string(),
                events: row.iter().map(|c| c.0).sum(),
                fatalities: row.iter().map(|c| c.1).sum(),
                months: months
                    .iter()
                    .zip(row)
                    .map(|(m, c)| TrendMonth {
                        month: *m,
                        events: c.0,
                        fatalities: c.1,
                        reports: publish_count(c.2, Some(Months::month(*m)), audience),
                    })
                    .collect(),
            })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn warnings_of(
    store: &dyn ForecastStore,
    scope: &Scope<'_>,
    events: &[Event],
    from: Month,
    to: Month,
    data_until: Option<Month>,
    audience: &Audience,
    names: &BTreeMap<String, String>,
) -> Result<Vec<WarningOutcome>, BriefingError> {
    let mut list = store.warnings(&WarningFilter::default())?;
    list.retain(|w| (from..=to).contains(&w.month) && scope.holds_pcode(Some(&w.unit)));
    list.sort_by(|a, b| a.month.cmp(&b.month).then(a.unit.cmp(&b.unit)).then(a.id.cmp(&b.id)));
    // Fatalities per (area, month) in the event data.
    let mut fatalities: HashMap<(&str, Month), u64> = HashMap::new();
    for e in events.iter().filter(|e| e.provenance.source.is_event_data()) {
        for p in [e.place.admin1_pcode.as_deref(), e.place.admin2_pcode.as_deref()].into_iter().flatten() {
            *fatalities.entry((p, Month::of(e.date))).or_default() += u64::from(e.fatalities);
        }
    }
    Ok(publish_warnings(list, audience)
        .into_iter()
        .map(|w| {
            let outcome = if data_until.is_some_and(|d| w.month <= d) {
                Outcome::Observed(fatalities.get(&(w.unit.as_str(), w.month)).copied().unwrap_or(0))
            } else {
                Outcome::NotYetKnown
            };
            let area = names.get(&w.unit).cloned().unwrap_or_default();
            WarningOutcome { warning: w, area, outcome }
        })
        .collect())
}

fn alerts_of(
    store: &dyn ReportStore,
    scope: &Scope<'_>,
    months: Months,
    deadlines: &Deadlines,
    audience: &Audience,
    names: &BTreeMap<String, String>,
    lang: &str,
) -> Result<AlertSection, BriefingError> {
    let start = |m: Month| jiff::tz::TimeZone::UTC.to_timestamp(m.first_day().at(0, 0, 0, 0)).ok();
    let filter = ReportFilter {
        received_from: start(months.first),
        received_until: start(months.last.succ()),
        ..ReportFilter::default()
    };
    let mut alerts = Vec::new();
    for r in store.reports(&filter)? {
        if scope.holds_pcode(r.place.area_pcode.as_deref()) {
            alerts.push(load_alert(store, &r).map_err(BriefingError::Alerts)?);
        }
    }
    let all: Vec<&Alert> = alerts.iter().collect();
    let overall = publish_pipeline(&Pipeline::of(&all, deadlines), None, months, audience);
    let mut by_area: BTreeMap<Option<String>, Vec<&Alert>> = BTreeMap::new();
    for a in &alerts {
        by_area.entry(a.area_pcode.clone()).or_default().push(a);
    }
    let areas = by_area
        .into_iter()
        .map(|(pcode, group)| {
            let published = publish_pipeline(&Pipeline::of(&group, deadlines), pcode.as_deref(), months, audience);
            let name = pcode
                .as_ref()
                .and_then(|p| names.get(p))
                .cloned()
                .unwrap_or_else(|| texts::t(lang, "word.not_placed").into());
            (pcode, name, published)
        })
        .collect();
    let deadlines = Urgency::ALL
        .iter()
        .rev()
        .map(|u| {
            let d = deadlines.for_urgency(*u);
            DeadlineRow { urgency: u.as_str().to_string(), acknowledge: d.acknowledge, respond: d.respond }
        })
        .collect();
    Ok(AlertSection { overall, areas, deadlines })
}

const BASELINES: [&str; 4] = ["zero", "last", "conflictology", "bootstrap"];

fn calibration_of(store: &dyn ForecastStore, events: &[Event]) -> Result<Option<Calibration>, BriefingError> {
    let Some(run) = store.latest_forecast_run(None)? else { return Ok(None) };
    let skill: serde_json::Value = serde_json::from_str(&run.skill).unwrap_or(serde_json::Value::Null);
    let mut rows = Vec::new();
    if let Some(models) = skill["models"].as_object() {
        for (model, horizons) in models {
            for (horizon, s) in horizons.as_object().into_iter().flatten() {
                let f = |k: &str| s[k].as_f64().unwrap_or(f64::NAN);
                rows.push(ModelSkill {
                    model: model.clone(),
                    baseline: BASELINES.contains(&model.as_str()),
                    horizon: horizon.clone(),
                    crps: f("crps"),
                    mean_p_any: f("mean_p_any"),
                    share_any: f("share_any"),
                    n: s["n"].as_u64().unwrap_or(0),
                });
            }
        }
    }
    rows.sort_by(|a, b| a.horizon.cmp(&b.horizon).then(a.crps.total_cmp(&b.crps)));
    // Forecast rows whose month the event data now covers (for admin-1 runs).
    let mut observed: HashMap<(&str, Month), u64> = HashMap::new();
    let last = events.iter().filter(|e| e.provenance.source.is_event_data()).map(|e| Month::of(e.date)).max();
    for e in events.iter().filter(|e| e.provenance.source.is_event_data()) {
        if let Some(p) = e.place.admin1_pcode.as_deref() {
            *observed.entry((p, Month::of(e.date))).or_default() += u64::from(e.fatalities);
        }
    }
    let first = events.iter().map(|e| Month::of(e.date)).min();
    let mut bins = [(0.0, 0.0, 0u64); 5];
    if run.unit_kind == "admin1" {
        for r in store.forecast_rows(run.id)? {
            let covered = first.is_some_and(|f| r.month >= f) && last.is_some_and(|l| r.month <= l);
            if !covered {
                continue;
            }
            let hit = observed.get(&(r.unit.as_str(), r.month)).is_some_and(|&n| n > 0);
            let b = ((r.p_any * 5.0).floor() as usize).min(4);
            bins[b].0 += r.p_any;
            bins[b].1 += f64::from(u8::from(hit));
            bins[b].2 += 1;
        }
    }
    let reliability = bins
        .iter()
        .enumerate()
        .filter(|(_, b)| b.2 > 0)
        .map(|(i, b)| ReliabilityBin {
            lower: i as f64 / 5.0,
            upper: (i + 1) as f64 / 5.0,
            mean_predicted: b.0 / b.2 as f64,
            observed: b.1 / b.2 as f64,
            n: b.2,
        })
        .collect();
    Ok(Some(Calibration {
        run_id: run.id,
        model: run.model,
        origin: run.origin,
        best: skill["best"].as_str().map(str::to_string),
        skill: rows,
        reliability,
    }))
}

fn caveat_of(source: Source, lang: &str) -> &'static str {
    let key = match source {
        Source::UcdpGed => "caveat.ucdp",
        Source::Acled => "caveat.acled",
        Source::Hxl => "caveat.hxl",
        Source::CommunityReport => "caveat.reports",
    };
    texts::t(lang, key)
}

/// A source's records: how many, the first and last date.
type SourceSpan = (Source, u64, Option<jiff::civil::Date>, Option<jiff::civil::Date>);

fn sources_of(events: &[&Event], months: Months, audience: &Audience, lang: &str) -> Vec<SourceRow> {
    let mut by: BTreeMap<&'static str, SourceSpan> = BTreeMap::new();
    for e in events {
        let s = by.entry(e.provenance.source.as_str()).or_insert((e.provenance.source, 0, None, None));
        s.1 += 1;
        s.2 = Some(s.2.map_or(e.date, |d| d.min(e.date)));
        s.3 = Some(s.3.map_or(e.date, |d| d.max(e.date)));
    }
    by.into_iter()
        .map(|(name, (source, n, first, last))| {
            let reports = source == Source::CommunityReport;
            SourceRow {
                source: name.to_string(),
                events: if reports { publish_count(n, Some(months), audience) } else { Published::Exact(n) },
                // The dates of reports would tell when the few of them came.
                first: first.filter(|_| !reports || audience.is_exact()).map(|d| d.to_string()),
                last: last.filter(|_| !reports || audience.is_exact()).map(|d| d.to_string()),
                caveat: caveat_of(source, lang).to_string(),
            }
        })
        .collect()
}

fn caveats_of(
    totals: &Totals,
    data_until: Option<Month>,
    to: Month,
    audience: &Audience,
    reports_stored: bool,
    lang: &str,
) -> Vec<String> {
    let mut list = Vec::new();
    match data_until {
        None => list.push(texts::t(lang, "caveat.no_data").into()),
        Some(d) if d < to => list.push(texts::tf(lang, "caveat.ends", &[("month", &texts::month(lang, d))])),
        Some(_) => {}
    }
    if totals.events > 0 && totals.events < 20 {
        list.push(texts::tf(lang, "caveat.few", &[("n", &totals.events.to_string())]));
    }
    if !reports_stored {
        list.push(texts::t(lang, "caveat.no_reports").into());
    }
    if !audience.is_exact() {
        list.push(texts::t(lang, "caveat.public").into());
    }
    list.push(texts::t(lang, "caveat.scores").into());
    list
}

/// The method in one paragraph, in English (the table's `method.text`).
pub fn method() -> &'static str {
    texts::t(texts::ENGLISH, "method.text")
}

/// A count in words for a sentence: `12`, or `about 10`, `fewer than 5`, not published.
fn count_words(lang: &str, p: Published) -> String {
    match p {
        Published::Exact(n) => n.to_string(),
        Published::Rounded(n) => texts::tf(lang, "word.about", &[("n", &n.to_string())]),
        Published::Suppressed { below } => texts::tf(lang, "word.fewer_than", &[("n", &below.to_string())]),
        Published::Withheld => texts::t(lang, "word.unpublished").into(),
    }
}

fn change_words(lang: &str, now: u64, before: u64) -> String {
    let what = texts::t(lang, "word.events");
    if before == 0 {
        return if now == 0 {
            texts::tf(lang, "change.none_either", &[("what", what)])
        } else {
            texts::t(lang, "change.none_before").into()
        };
    }
    let pct = (now as f64 - before as f64) / before as f64 * 100.0;
    let before = before.to_string();
    let key = if pct.abs() < 5.0 {
        "change.same"
    } else if pct > 0.0 {
        "change.more"
    } else {
        "change.fewer"
    };
    texts::tf(lang, key, &[("what", what), ("before", &before), ("pct", &format!("{:.0}", pct.abs()))])
}

/// The three sentences: what happened, where and what threatens most, what
/// was warned of and done.
#[allow(clippy::too_many_arguments)]
fn sentences(
    lang: &str,
    scope: &str,
    totals: &Totals,
    previous: &Totals,
    top: &[TopArea],
    priorities: &[PriorityThreat],
    warnings: &[WarningOutcome],
    alerts: Option<&AlertSection>,
) -> Vec<String> {
    let n = |v: u64, one: &str, many: &str| texts::count(lang, v, one, many);
    let score = |v: f64| texts::number(lang, v, 1);
    let period = texts::period(lang, totals.months.first, totals.months.last);
    let first = texts::tf(
        lang,
        "summary.first",
        &[
            ("period", &period),
            ("events", &n(totals.events, "word.event_one", "word.event_many")),
            ("scope", scope),
            ("deaths", &n(totals.fatalities, "word.death_one", "word.death_many")),
            ("civilians", &totals.civilian_fatalities.to_string()),
            ("change", &change_words(lang, totals.events, previous.events)),
        ],
    );
    let current: Vec<&PriorityThreat> = priorities.iter().filter(|p| p.change != Change::Eased).collect();
    let new = current.iter().filter(|p| p.change == Change::New).count() as u64;
    let second = match (top.first(), current.first()) {
        (None, _) => texts::t(lang, "summary.no_area").to_string(),
        (Some(a), None) => texts::tf(
            lang,
            "summary.top",
            &[
                ("name", &a.name),
                ("pcode", &a.pcode),
                ("events", &n(a.events, "word.event_one", "word.event_many")),
                ("deaths", &n(a.fatalities, "word.death_one", "word.death_many")),
                ("dimension", &a.top_dimension.to_lowercase()),
                ("critical", &score(a.critical)),
                ("pervasive", &score(a.pervasive)),
            ],
        ),
        (Some(a), Some(p)) => texts::tf(
            lang,
            "summary.top_priority",
            &[
                ("name", &a.name),
                ("pcode", &a.pcode),
                ("events", &n(a.events, "word.event_one", "word.event_many")),
                ("deaths", &n(a.fatalities, "word.death_one", "word.death_many")),
                ("threats", &n(current.len() as u64, "word.threat_one", "word.threat_many")),
                ("new", &new.to_string()),
                ("threat", &p.label.to_lowercase()),
                ("area", &p.area),
                ("critical", &score(p.critical)),
                ("pervasive", &score(p.pervasive)),
            ],
        ),
    };
    let observed: Vec<u64> = warnings
        .iter()
        .filter_map(|w| match w.outcome {
            Outcome::Observed(n) => Some(n),
            Outcome::NotYetKnown => None,
        })
        .collect();
    let reports = if matches!(totals.reports, Published::Exact(1)) {
        texts::t(lang, "word.report_one").to_string()
    } else {
        texts::tf(lang, "word.report_many", &[("n", &count_words(lang, totals.reports))])
    };
    let mut third = texts::tf(
        lang,
        "summary.third",
        &[("reports", &reports), ("warnings", &n(warnings.len() as u64, "word.warning_one", "word.warning_many"))],
    );
    if !observed.is_empty() {
        let with = observed.iter().filter(|n| **n > 0).count().to_string();
        third.push_str(&texts::tf(lang, "summary.observed", &[("with", &with), ("n", &observed.len().to_string())]));
    }
    match alerts.and_then(|a| a.overall.median_to_acknowledge) {
        Some(t) => third.push_str(&texts::tf(lang, "summary.acknowledged", &[("time", &hours_in(lang, t))])),
        None => third.push('.'),
    }
    vec![first, second, capitalised(&third)]
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A duration as hours (`3.5 h`) or days (`2.1 days`) past 48 hours.
pub fn hours(d: SignedDuration) -> String {
    hours_in(texts::ENGLISH, d)
}

/// A duration as hours or days past 48 hours, in `lang` (`3,5 h`, `2,1 jours`).
pub fn hours_in(lang: &str, d: SignedDuration) -> String {
    let h = d.as_secs_f64() / 3600.0;
    if h >= 48.0 {
        texts::tf(lang, "time.days", &[("n", &texts::number(lang, h / 24.0, 1))])
    } else {
        texts::tf(lang, "time.hours", &[("n", &texts::number(lang, h, 1))])
    }
}

pub mod texts;

#[cfg(test)]
mod tests;
