//! How figures read in a report: counts as published, scores, times.

use jiff::SignedDuration;
use vitalcore_app::disclosure::Published;

/// A count as its audience may see it: the number, `<5` (1 to 4), `np`
/// (not published over this period).
pub fn count(p: Published) -> String {
    p.to_string()
}

/// A 0-10 score with one decimal.
pub fn score(v: f64) -> String {
    format!("{v:.1}")
}

/// `3.5 h`, `2.1 days`.
pub fn hours_short(d: SignedDuration) -> String {
    vitalcore_app::briefing::hours(d)
}

/// A time that may not be shown: `-` then.
pub fn maybe_hours(d: Option<SignedDuration>) -> String {
    d.map(hours_short).unwrap_or_else(|| "-".into())
}

/// `+3`, `-2.5`, `0`: a change in score.
pub fn delta(now: f64, before: Option<f64>) -> String {
    match before {
        None => "new".into(),
        Some(b) => {
            let d = now - b;
            if d.abs() < 0.05 { "0.0".into() } else { format!("{d:+.1}") }
        }
    }
}

/// `0.62` as `62%`.
pub fn percent(p: f64) -> String {
    format!("{:.0}%", p * 100.0)
}
