//! The types the HTTP API, the CLI's JSON output and the exports share.
//! Field names here are a public contract: change them only with a new API
//! version.
//!
//! Every number counted from community reports has the type parameter `R`
//! (`u64`, exact, by default): the analyses fill it exactly, and
//! `vitalcore_app::disclosure` turns it into what a caller may see before
//! anything is published. Event data (UCDP, ACLED, ...) is public and is
//! always carried exactly.

use serde::{Deserialize, Serialize};

pub mod api;

/// One unit, one period, one dimension or theme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentRow<R = u64> {
    /// Unit kind: country, admin1, admin2 or grid.
    pub unit: String,
    /// P-code, PRIO-GRID id, or `Country/Admin1` when no P-code is known.
    pub unit_id: String,
    pub unit_name: String,
    /// `YYYY-MM`, `YYYY-Qn`, `YYYY` or `FROM..TO`.
    pub period: String,
    /// `dimension` or `theme`.
    pub category_kind: String,
    pub category: String,
    pub events: u64,
    pub fatalities: u64,
    pub civilian_fatalities: u64,
    /// Community reports in the same cell (kept apart from event data).
    pub reports: R,
    /// 0-10: how severe the harm to the vital core is.
    pub critical: f64,
    /// 0-10: how widespread the threat is.
    pub pervasive: f64,
    /// Band of the higher of the two scores, e.g. `high`.
    pub band: String,
    /// Both scores in the `high` band or above: first priority.
    pub priority: bool,
    pub components: ScoreComponents,
}

/// Everything a score was computed from, so a reader can check it by hand.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreComponents {
    /// Events per severity level 0..=4.
    pub events_by_severity: Vec<u64>,
    /// Sum of severity weights.
    pub severity_weight: f64,
    /// harm = severity_weight + fatalities + civilian_fatalities.
    pub harm: f64,
    pub harm_reference: f64,
    /// Distinct localities with events / localities known in the unit.
    pub localities_affected: u64,
    pub localities_known: u64,
    pub spatial_spread: f64,
    /// Distinct weeks with events / weeks in the period.
    pub weeks_affected: u64,
    pub weeks_in_period: u64,
    pub temporal_spread: f64,
    pub event_reference: f64,
    pub frequency: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "R: Deserialize<'de> + Default"))]
pub struct Assessment<R = u64> {
    pub unit: String,
    pub from: String,
    pub to: String,
    pub period: String,
    pub rows: Vec<AssessmentRow<R>>,
    /// Events (event data) that could not be placed in any unit of this kind.
    pub unplaced_events: u64,
    /// Community reports in range that could not be placed in any unit of this kind.
    #[serde(default)]
    pub unplaced_reports: R,
}

/// An area and its headline scores for a map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaSummary {
    pub unit_id: String,
    pub name: String,
    pub level: u8,
    pub events: u64,
    pub fatalities: u64,
    /// Highest critical and pervasive score over the dimensions, with the dimension.
    pub top_dimension: Option<String>,
    pub critical: f64,
    pub pervasive: f64,
}

/// One month of one dimension in an area profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "R: Deserialize<'de> + Default"))]
pub struct TrendPoint<R = u64> {
    pub month: String,
    /// Events of event data (community reports are counted in `reports`).
    pub events: u64,
    pub fatalities: u64,
    #[serde(default)]
    pub reports: R,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "R: Deserialize<'de> + Default"))]
pub struct ProfileDimension<R = u64> {
    pub category_kind: String,
    pub category: String,
    pub label: String,
    /// Totals and scores over the whole profile period.
    pub total: AssessmentRow<R>,
    pub trend: Vec<TrendPoint<R>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "R: Deserialize<'de> + Default"))]
pub struct AreaProfile<R = u64> {
    pub unit: String,
    pub unit_id: String,
    pub name: String,
    pub from: String,
    pub to: String,
    /// Events of event data; community reports are counted in `reports`.
    pub events: u64,
    pub fatalities: u64,
    pub civilian_fatalities: u64,
    /// Community reports in the area and period.
    #[serde(default)]
    pub reports: R,
    pub dimensions: Vec<ProfileDimension<R>>,
    pub themes: Vec<ProfileDimension<R>>,
    /// Events per event-data source (ucdp-ged, acled, ...); community
    /// reports are counted in `reports`.
    pub sources: Vec<(String, u64)>,
    /// The area's strongest significant threat links (may be empty).
    #[serde(default)]
    pub links: Vec<ThreatLink>,
    /// INFORM-style local risk, when computed (see `vitalcore index local`).
    #[serde(default)]
    pub risk: Option<RiskSummary>,
}

/// Hazard (the threat profile), vulnerability, lack of coping capacity and
/// their geometric mean, 0-10; None where inputs are missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskSummary {
    pub hazard: Option<f64>,
    pub vulnerability: Option<f64>,
    pub coping: Option<f64>,
    pub risk: Option<f64>,
    pub missing_inputs: Vec<String>,
}

/// `from` at month t-lag is associated with `to` at month t (lag 0: same month).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreatLink {
    pub from: String,
    pub to: String,
    pub lag: u32,
    /// Correlation of within-unit demeaned ln(1 + count), -1..1.
    pub strength: f64,
    /// Benjamini-Hochberg q-value of the permutation test.
    pub q_value: f64,
}
