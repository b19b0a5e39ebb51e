//! The two scores of a threat (Commission on Human Security, "Human Security
//! Now", 2003): how *critical* (severity of harm to the vital core: death,
//! injury, rape, loss of the means to live) and how *pervasive* (how many
//! people, how much of an area, how often). Both are on 0-10 like INFORM.
//!
//! critical  = 10 * min(1, ln(1 + H) / ln(1 + H_ref))
//!   H = (sum over events of the severity weight of the event's level
//!       + fatalities + civilian fatalities) / months in the period:
//!       civilian deaths count twice (protection of civilians is the
//!       mandate's first duty), and the rate per month makes a year's score
//!       comparable with a month's.
//!   The log scale follows INFORM's treatment of conflict intensity: ten
//!   deaths are a much worse month than one, a thousand not a hundred times
//!   worse than ten for prioritising. H_ref (default 500) scores 10.
//!
//! pervasive = 10 * (S + T + F) / 3
//!   S spatial spread   = localities with events / localities known in the unit
//!   T temporal spread  = weeks with events / weeks in the period
//!   F frequency        = min(1, ln(1 + n) / ln(1 + E_ref)), E_ref = 50,
//!                        n = events per month of the period
//!   An arithmetic mean: a threat is pervasive when it reaches many places,
//!   or recurs, or is frequent; one of them alone already counts.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreParams {
    /// Harm that scores 10 on the critical scale.
    pub harm_reference: f64,
    /// Event count that gives full frequency.
    pub event_reference: f64,
    /// Both scores at or above this: first priority.
    pub priority_threshold: f64,
}

impl Default for ScoreParams {
    fn default() -> Self {
        ScoreParams { harm_reference: 500.0, event_reference: 50.0, priority_threshold: 5.0 }
    }
}

/// critical = 10 * min(1, ln(1 + harm) / ln(1 + reference)).
pub fn critical(harm: f64, params: &ScoreParams) -> f64 {
    if harm <= 0.0 {
        return 0.0;
    }
    10.0 * ((1.0 + harm).ln() / (1.0 + params.harm_reference).ln()).min(1.0)
}

/// Share with a zero denominator is zero, and never above one.
pub fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { (part as f64 / whole as f64).min(1.0) }
}

/// F = min(1, ln(1 + n) / ln(1 + E_ref)), n = events per month.
pub fn frequency(events_per_month: f64, params: &ScoreParams) -> f64 {
    ((1.0 + events_per_month).ln() / (1.0 + params.event_reference).ln()).min(1.0)
}

/// pervasive = 10 * (S + T + F) / 3.
pub fn pervasive(spatial: f64, temporal: f64, frequency: f64) -> f64 {
    10.0 * (spatial + temporal + frequency) / 3.0
}

/// Rounds a score for display and comparison (two decimals).
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_is_zero_without_harm_and_ten_at_the_reference() {
        let p = ScoreParams::default();
        assert_eq!(critical(0.0, &p), 0.0);
        assert!((critical(500.0, &p) - 10.0).abs() < 1e-12);
        assert_eq!(critical(5000.0, &p), 10.0);
        // ln(11)/ln(501) * 10 = 3.8575...
        assert!((critical(10.0, &p) - 3.8575).abs() < 1e-3);
    }

    #[test]
    fn pervasive_is_the_mean_of_the_three_spreads() {
        assert!((pervasive(1.0, 0.5, 0.0) - 5.0).abs() < 1e-12);
        assert_eq!(share(3, 0), 0.0);
        assert_eq!(share(5, 4), 1.0);
        let p = ScoreParams::default();
        assert_eq!(frequency(0.0, &p), 0.0);
        assert_eq!(frequency(50.0, &p), 1.0);
    }
}
