//! Stored forecasts and early warnings (issue 5, items 4 and 5).
//!
//! A forecast run is one call of the forecasting model: which model, which
//! unit kind and target, the origin month (the last month of data), the
//! horizons, the backtest skill it was chosen on and its parameters (both as
//! JSON text, written and read by the caller). Its rows are one unit-month
//! each, summarised from the model's draws.
//!
//! An early warning is raised into a queue analysts work through: new, then
//! acknowledged, then closed, each change with who, when and an optional
//! note (kept in an append-only history; the warning carries the latest
//! note). There is at most one warning per (unit, month, kind), so
//! re-running the warnings adds none twice.

use serde::{Deserialize, Serialize};
use vitalcore_framework::Month;

use crate::StoreError;

/// One run of the forecasting model. `id` and `created` are assigned by the
/// store when the run is saved (the values passed in are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastRun {
    pub id: i64,
    /// RFC 3339 time the run was stored.
    pub created: String,
    pub model: String,
    /// admin1, admin2, grid or country.
    pub unit_kind: String,
    /// fatalities or events.
    pub target: String,
    /// The last month of data the forecasts use.
    pub origin: Month,
    /// Months ahead.
    pub horizons: Vec<u32>,
    /// The backtest scores the model was chosen on, JSON text ("null" if none).
    pub skill: String,
    /// Samples, seed, training window and other settings, JSON text.
    pub parameters: String,
}

/// The forecast of one unit for one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastRow {
    pub unit: String,
    /// The unit's name for display (may be empty).
    pub name: String,
    pub month: Month,
    pub mean: f64,
    /// P(y > 0).
    pub p_any: f64,
    /// (N, P(y >= N)), ascending N.
    pub p_ge: Vec<(u32, f64)>,
    /// (probability level, value), ascending level; e.g. (0.05, q05).
    pub quantiles: Vec<(f64, f64)>,
}

impl ForecastRow {
    /// The quantile stored for `level`, if any.
    pub fn quantile(&self, level: f64) -> Option<f64> {
        self.quantiles.iter().find(|(l, _)| (l - level).abs() < 1e-9).map(|&(_, v)| v)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarningKind {
    /// A forecast probability at or above its threshold.
    ForecastThreshold,
    /// Community reports above their recent level (EWMA control limit).
    ReportBurst,
}

impl WarningKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::ForecastThreshold => "forecast-threshold",
            WarningKind::ReportBurst => "report-burst",
        }
    }

    pub fn parse(s: &str) -> Option<WarningKind> {
        match s {
            "forecast-threshold" => Some(WarningKind::ForecastThreshold),
            "report-burst" => Some(WarningKind::ReportBurst),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WarningStatus {
    New,
    Acknowledged,
    Closed,
}

impl WarningStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WarningStatus::New => "new",
            WarningStatus::Acknowledged => "acknowledged",
            WarningStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<WarningStatus> {
        match s {
            "new" => Some(WarningStatus::New),
            "acknowledged" => Some(WarningStatus::Acknowledged),
            "closed" => Some(WarningStatus::Closed),
            _ => None,
        }
    }
}

/// An early warning in the queue. When adding, `id`, `created`, `status`,
/// `status_by` and `status_at` are assigned by the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyWarning {
    pub id: i64,
    /// RFC 3339 time the warning was raised.
    pub created: String,
    pub unit: String,
    pub month: Month,
    pub kind: WarningKind,
    pub value: f64,
    pub threshold: f64,
    pub reason: String,
    /// The forecast run that raised it (threshold warnings).
    pub run_id: Option<i64>,
    pub status: WarningStatus,
    /// Who last changed the status, and when (RFC 3339).
    pub status_by: Option<String>,
    pub status_at: Option<String>,
    /// The latest note given with a status change, if any was.
    #[serde(default)]
    pub note: Option<WarningNote>,
}

/// A note given with a status change: what was checked or decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarningNote {
    pub text: String,
    /// Who gave it, when (RFC 3339), and with which status change.
    pub by: String,
    pub at: String,
    pub status: WarningStatus,
}

/// Longest note kept, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;

/// A note as given (control characters and bidi overrides stripped as
/// from reports, see `vitalcore_intake::text`; trimmed; empty is none), or
/// why it is refused.
pub fn clean_note(raw: Option<&str>) -> Result<Option<String>, String> {
    let cleaned = raw.map(vitalcore_intake::text::clean_text);
    let Some(text) = cleaned.as_deref().map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    let chars = text.chars().count();
    if chars > MAX_NOTE_CHARS {
        return Err(format!("the note is {chars} characters; the limit is {MAX_NOTE_CHARS}"));
    }
    Ok(Some(text.to_string()))
}

/// Which warnings to list; empty = all, newest first.
#[derive(Debug, Clone, Default)]
pub struct WarningFilter {
    pub status: Option<WarningStatus>,
    /// Only those not closed.
    pub open_only: bool,
    pub unit: Option<String>,
}

/// Forecast runs, their rows and the early-warning queue.
pub trait ForecastStore: Send + Sync {
    /// Stores a run and its rows in one transaction; returns the run's id.
    fn save_forecast_run(&self, run: &ForecastRun, rows: &[ForecastRow]) -> Result<i64, StoreError>;

    /// The newest run, of one unit kind if given.
    fn latest_forecast_run(&self, unit_kind: Option<&str>) -> Result<Option<ForecastRun>, StoreError>;

    /// The rows of a run, by unit then month.
    fn forecast_rows(&self, run_id: i64) -> Result<Vec<ForecastRow>, StoreError>;

    /// Adds the warnings not stored yet for their (unit, month, kind), in one
    /// transaction; returns those added, with their ids.
    fn add_warnings(&self, warnings: &[EarlyWarning]) -> Result<Vec<EarlyWarning>, StoreError>;

    fn warnings(&self, filter: &WarningFilter) -> Result<Vec<EarlyWarning>, StoreError>;

    /// Moves a warning to `status`, recording who, when (RFC 3339) and the
    /// note (see [`clean_note`]) in its history; `None` when there is no
    /// warning with this id.
    fn set_warning_status(
        &self,
        id: i64,
        status: WarningStatus,
        user: &str,
        at: &str,
        note: Option<&str>,
    ) -> Result<Option<EarlyWarning>, StoreError>;
}

// Column helpers both backends share, so they store and read back alike.

/// A stored value that cannot be read back: the database was altered or damaged.
pub fn damaged(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("the database holds a damaged {what}; restore it from a backup"))
}

/// The time a backend records a run or a status change at (RFC 3339).
pub fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// A stored forecast month read back.
pub fn month(text: &str) -> Result<Month, StoreError> {
    text.parse().map_err(|_| damaged(format!("forecast month `{text}`")))
}

/// Horizons as the backends store them: `1,2,3`.
pub fn horizons_text(horizons: &[u32]) -> String {
    horizons.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_trimmed_empty_is_none_and_long_ones_are_refused() {
        assert_eq!(clean_note(None), Ok(None));
        assert_eq!(clean_note(Some("  \n ")), Ok(None));
        assert_eq!(clean_note(Some(" called the focal point ")), Ok(Some("called the focal point".into())));
        assert_eq!(
            clean_note(Some("called\u{1b}[2J the\u{202e} focal\u{7} point\r\nok")),
            Ok(Some("called[2J the focal point\nok".into()))
        );
        assert_eq!(clean_note(Some("\u{1b}\u{0}")), Ok(None));
        assert_eq!(
            clean_note(Some(&"é".repeat(MAX_NOTE_CHARS))).map(|n| n.map(|t| t.chars().count())),
            Ok(Some(MAX_NOTE_CHARS))
        );
        assert!(clean_note(Some(&"x".repeat(MAX_NOTE_CHARS + 1))).unwrap_err().contains("1001"));
    }
}
