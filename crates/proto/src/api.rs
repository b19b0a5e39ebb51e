//! The bodies of the HTTP API (`/api/v1/...`) and the SMS webhooks' JSON
//! answers, as the server sends and reads them.
//!
//! Records another crate owns and serialises itself (a community report, an
//! alert's status and step log, a contact-read audit record, the framework's
//! categories, the store's counts) are type parameters: this crate depends on
//! serde alone, the server fills them with the intake, store and framework
//! types, and a client can read them as `serde_json::Value`.
//!
//! Months are `YYYY-MM`, times RFC 3339 (UTC, `...Z`), unit kinds `country`,
//! `admin1`, `admin2` or `grid`.

use crate::AreaSummary;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Every error answer. `error` says what went wrong in plain words. An
/// invalid report adds `fields`, one entry per problem. A failure of the
/// server itself (500) says only `"internal error"` and the `request_id`
/// to quote: the details are in the server's log, never in the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldProblem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// What is wrong with one field of a submitted report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldProblem {
    /// The report field: `text`, `latitude`, `event_time`, ...
    pub field: String,
    /// The message's key in the message table (`invalid.text_empty`, ...).
    pub code: String,
    /// In English.
    pub message: String,
}

/// `GET /api/v1/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health<Counts> {
    /// `ok`.
    pub status: String,
    /// What the store holds (events, prior versions, observations, areas, imports).
    pub counts: Counts,
}

/// `GET /api/v1/framework`: the taxonomy the scores are made with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkSummary<Category, Principle, Band> {
    pub name: String,
    pub version: String,
    pub dimensions: Vec<Category>,
    pub themes: Vec<Category>,
    pub principles: Vec<Principle>,
    pub bands: Vec<Band>,
}

/// `GET /api/v1/areas`: every area with events, with its headline scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaList {
    pub unit: String,
    pub from: String,
    pub to: String,
    pub areas: Vec<AreaSummary>,
}

/// `"type": "FeatureCollection"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeatureCollectionType {
    FeatureCollection,
}

/// `"type": "Feature"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeatureType {
    Feature,
}

/// `"type": "Polygon"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolygonType {
    Polygon,
}

/// `GET /api/v1/boundaries`: the areas as GeoJSON with their scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureCollection {
    #[serde(rename = "type")]
    pub kind: FeatureCollectionType,
    pub unit: String,
    pub from: String,
    pub to: String,
    pub features: Vec<Feature>,
}

/// One area. Units with events but no stored boundary come without geometry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    pub properties: AreaScores,
    pub geometry: Option<Geometry>,
}

/// What the map colours an area by: over the whole period, the scores of the
/// chosen category (or of the area's top dimension when none is chosen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaScores {
    /// P-code, PRIO-GRID id, or the name when no P-code is known.
    pub id: String,
    pub name: String,
    pub events: u64,
    pub fatalities: u64,
    pub critical: f64,
    pub pervasive: f64,
    pub category: Option<String>,
}

/// A GeoJSON geometry: a PRIO-GRID cell's square, or a stored boundary as
/// it was imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Geometry {
    Square(Polygon),
    Stored(Value),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Polygon {
    #[serde(rename = "type")]
    pub kind: PolygonType,
    /// Rings of `[longitude, latitude]`, the first and last point the same.
    pub coordinates: Vec<Vec<[f64; 2]>>,
}

/// `GET /api/v1/forecasts`: the newest forecast run of a unit kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecasts {
    pub run: ForecastRun,
    /// The run's model's backtest scores by horizon (`null` when not measured).
    pub model_skill: Value,
    /// Every model's backtest scores, as the run stored them.
    pub skill: Value,
    pub rows: Vec<ForecastRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastRun {
    pub id: i64,
    /// RFC 3339 time the run was stored.
    pub created: String,
    pub model: String,
    pub unit: String,
    /// `fatalities` or `events`.
    pub target: String,
    /// The last month of data the forecasts use.
    pub origin: String,
    pub horizons: Vec<u32>,
    /// Samples, seed, training window and other settings.
    pub parameters: Value,
}

/// The forecast of one unit for one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastRow {
    pub unit: String,
    pub name: String,
    pub month: String,
    /// Months after the run's origin.
    pub horizon: i32,
    pub mean: f64,
    /// P(y > 0).
    pub p_any: f64,
    /// `"N"`: P(y >= N).
    pub p_ge: BTreeMap<String, f64>,
    pub q05: Option<f64>,
    pub q50: Option<f64>,
    pub q95: Option<f64>,
}

/// `GET /api/v1/warnings`: the early-warning queue, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warnings {
    pub warnings: Vec<EarlyWarning>,
}

/// An early warning as the API publishes it (also the answer of
/// `POST /api/v1/warnings/{id}/status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyWarning {
    pub id: i64,
    /// RFC 3339 time it was raised.
    pub created: String,
    pub unit: String,
    pub month: String,
    /// `forecast-threshold` or `report-burst`.
    pub kind: String,
    /// The probability or count that raised it; `null` for a burst of fewer
    /// than 5 community reports (`value_suppressed` is then `true`).
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_suppressed: Option<bool>,
    pub threshold: f64,
    pub reason: String,
    /// The forecast run that raised it (threshold warnings).
    pub run_id: Option<i64>,
    /// `new`, `acknowledged` or `closed`.
    pub status: String,
    pub status_by: Option<String>,
    pub status_at: Option<String>,
    /// The latest note given with a status change.
    pub note: Option<WarningNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarningNote {
    pub text: String,
    pub by: String,
    pub at: String,
    /// The status the warning was moved to with the note.
    pub status: String,
}

/// `POST /api/v1/warnings/{id}/status`: `acknowledged` or `closed`, and
/// optionally what was checked or decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarningStatusChange {
    pub status: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/v1/reports/{ref}/dimensions`: an analyst's reading of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagCorrectionRequest {
    pub dimensions: Vec<String>,
    /// Absent: the themes stay as they are.
    pub themes: Option<Vec<String>>,
}

/// `POST /api/v1/reports` (201): what was stored, for the partner's records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submitted<Tags, Link> {
    /// The reference the reporter quotes (`VC-7K3Q-9MX`).
    pub reference: String,
    /// Where the report was placed, if anywhere.
    pub area_pcode: Option<String>,
    pub received_at: String,
    /// Dimensions and themes read from the category and the text.
    pub tags: Tags,
    /// Likely duplicates among recent reports.
    pub duplicates: Vec<Link>,
}

/// A report as the API shows it: the report's own fields (which never
/// include the contact) and whether it has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportView<Report> {
    #[serde(flatten)]
    pub report: Report,
    pub has_contact: bool,
}

/// `GET /api/v1/reports/{ref}`: a report with its alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportWithAlert<Report, Alert> {
    #[serde(flatten)]
    pub view: ReportView<Report>,
    pub alert: Alert,
}

/// `GET /api/v1/reports`: the reports the caller may read, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportList<Report> {
    /// How many match, before the limit.
    pub total: usize,
    pub reports: Vec<ReportView<Report>>,
}

/// A report's alert, with its deadline state at the time of the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertView<Urgency, State, Status, Overdue, Step> {
    pub reference: String,
    pub area_pcode: Option<String>,
    pub category: Option<String>,
    /// The reporter's urgency, medium when not given.
    pub urgency: Urgency,
    pub received_at: String,
    pub state: State,
    pub status: Status,
    /// The missed deadline, if one is.
    pub overdue: Option<Overdue>,
    /// Every step, in order, with who and when.
    pub steps: Vec<Step>,
}

/// `GET /api/v1/alerts`: the alert queue, overdue first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertQueue<Alert> {
    /// The time the deadlines were checked at.
    pub at: String,
    pub alerts: Vec<Alert>,
}

/// `GET /api/v1/alerts/metrics`: response figures per area and month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertMetrics<Row> {
    pub from: Option<String>,
    pub to: Option<String>,
    pub metrics: Vec<Row>,
}

/// `GET /api/v1/reports/{ref}/contact`: the reporter's contact and the
/// audit record its reading left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevealedContact<Read> {
    pub reference: String,
    pub contact: String,
    pub read: Read,
}

/// `POST /sms/rapidpro`: the reference (none when the message was not a
/// report) and the text to send back, in the reporter's language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmsReply {
    pub reference: Option<String>,
    pub message: String,
}
